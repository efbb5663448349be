import { describe, expect, it } from "vitest";
import { readsConsumerGroup } from "../../environments/kubernetes/consumer-group.js";
import { managedByOf } from "../../environments/kubernetes/managed-by.js";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { episodesOf } from "../../evidence/metrics.js";
import type { Evidence } from "../../domain/model.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { deployLatest, fact, logSignature as logSignatureFact, makeAlert, makeContext } from "../helpers/factories.js";
import { clusterServiceOf, targetFromLabels } from "../../domain/alerts/target.js";

const reasoner = await RunbookReasoner.fromDirectory();
const series = (values: number[]) => values.map((v, i) => ({ t: i * 30_000, v }));
const high = (v: number): boolean => v > 1;

describe("episodesOf: separate abnormal stretches of a series", () => {
  it("Given two bursts apart and one stray sample, When read, Then two episodes (the stray sample is not one), the last not ongoing", () => {
    const eps = episodesOf(series([0, 5, 5, 5, 0, 0, 0, 5, 0, 0, 0, 5, 5, 0, 0]), high);
    expect(eps).toEqual([
      { start: 30_000, end: 90_000, ongoing: false },
      { start: 11 * 30_000, end: 12 * 30_000, ongoing: false },
    ]);
  });
  it("Given a burst with one healthy sample inside it that lasts to the end, When read, Then one ongoing episode", () => {
    expect(episodesOf(series([0, 0, 5, 5, 0, 5, 5]), high)).toEqual([{ start: 60_000, end: 180_000, ongoing: true }]);
  });
});

/** A reporting API: a batch job's load surge from -32 to `surgeEnds` min. */
function surgeWorld(surgeEnds: number | undefined): EnvironmentSpecInput {
  return {
    seed: 11,
    historyMinutes: 150,
    services: [{ name: "stats-api", namespace: "reporting", replicas: 3, baseline: { requestRate: 200, errorRate: 0.002, latencyP99Ms: 180 }, cpuPerRequest: 0.008 }],
    faults: [
      { kind: "traffic-surge", service: "stats-api", atMinutes: -32, params: { loadFactor: 1.75 } },
      ...(surgeEnds !== undefined ? [{ kind: "traffic-surge" as const, service: "stats-api", atMinutes: surgeEnds, params: { loadFactor: 1.0 } }] : []),
    ],
  };
}

const perceive = perceiveSim;

const latencyAlert = makeAlert({ service: "stats-api", namespace: "reporting", name: "HighLatency", labels: { alertname: "HighLatency", service: "stats-api", namespace: "reporting" } });

describe("an alert whose signal has already recovered", () => {
  it("Given p99 latency abnormal from -32 to -12 min and at baseline since, When a 30-minute-window latency alert arrives, Then no action: the burst is over", async () => {
    const evidence = await perceive(SimEnvironment.create(surgeWorld(-12)), latencyAlert);
    const gone = evidence.find((e) => e.key === "alert.signal_recovered");
    expect(gone?.attrs).toMatchObject({ metric: "latency_p99_ms", transient: true });
    expect(Number(gone?.value)).toBeGreaterThanOrEqual(8);
    const [top] = await reasoner.diagnose({ alert: latencyAlert, context: makeContext(evidence), attempts: [] });
    expect(top?.disposition).toBe("no-action");
    expect(top?.id).toBe("rules:transient-signal-recovered");
  });

  it("Given the same surge still going on, When the alert arrives, Then nothing says it recovered and no no-action closes it", async () => {
    const evidence = await perceive(SimEnvironment.create(surgeWorld(undefined)), latencyAlert);
    expect(evidence.some((e) => e.key === "alert.signal_recovered")).toBe(false);
    const hypotheses = await reasoner.diagnose({ alert: latencyAlert, context: makeContext(evidence), attempts: [] });
    expect(hypotheses.filter((h) => h.disposition === "no-action")).toEqual([]);
  });

  it("Given a recovered latency burst but an alert about errors, When diagnosed, Then the recovered latency is not read as the alert's signal", async () => {
    const errorsAlert = makeAlert({ service: "stats-api", namespace: "reporting", name: "HighErrorRate", labels: { alertname: "HighErrorRate", service: "stats-api", namespace: "reporting" } });
    const evidence = await perceive(SimEnvironment.create(surgeWorld(-12)), errorsAlert);
    expect(evidence.some((e) => e.key === "alert.signal_recovered")).toBe(false);
  });
});

describe("a NetworkPolicy that cuts traffic: who owns it decides the response", () => {
  const blocks = (managedBy: string, denyAll = false) =>
    fact("netpol.ingress", "inventory", "inventory-ingress", { deny_all: denyAll, blocks_alerting: true, selects_alerting: false, minutes_since: 13, managed_by: managedBy });

  it("Given labels and annotations of Argo CD, Helm, Flux or a declared manager, When read, Then the manager is named; a hand-applied policy has none", () => {
    expect(managedByOf({ annotations: { "argocd.argoproj.io/tracking-id": "app:networking/NetworkPolicy:ns/p" } })).toBe("argocd");
    expect(managedByOf({ annotations: { "meta.helm.sh/release-name": "store" }, labels: { "app.kubernetes.io/managed-by": "Helm" } })).toBe("helm");
    expect(managedByOf({ labels: { "kustomize.toolkit.fluxcd.io/name": "apps" } })).toBe("flux");
    expect(managedByOf({ labels: { "app.kubernetes.io/managed-by": "Kustomize" } })).toBe("kustomize");
    expect(managedByOf({ labels: { "managed-by": "netpol-rollout" } })).toBe("netpol-rollout");
    expect(managedByOf({ labels: { "platform.example.com/managed-by": "Crossplane" } })).toBe("crossplane");
    expect(managedByOf({ labels: { app: "x" } })).toBe("");
  });

  it("Given a new policy managed by Argo CD that leaves the alerting caller out, When diagnosed, Then escalate to its owners (never delete it)", async () => {
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([blocks("argocd")]), attempts: [] });
    expect(hypotheses[0]?.id).toBe("rules:managed-network-policy-blocks-callers");
    expect(hypotheses[0]?.disposition).toBe("escalate");
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("delete_network_policy");
  });

  it("Given a deny-all policy applied by hand, When diagnosed, Then propose removing it (high risk: a human approves)", async () => {
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([blocks("", true)]), attempts: [] });
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "delete_network_policy", params: { service: "inventory", policy: "inventory-ingress" } });
  });

  it("Given a hand-applied allowlist that admits other callers but not the alerting one, When diagnosed, Then escalate to its owners (deleting it would open the workload to every pod)", async () => {
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([blocks("", false)]), attempts: [] });
    expect(hypotheses[0]?.id).toBe("rules:allowlist-network-policy-omits-caller");
    expect(hypotheses[0]?.disposition).toBe("escalate");
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("delete_network_policy");
  });

  it("Given the alerting workload's request rate dropped with healthy pods right after a policy selecting it, When diagnosed, Then escalate as a NetworkPolicy cutting its callers", async () => {
    const evidence = [
      fact("netpol.ingress", "checkout", "checkout-allow", { deny_all: false, blocks_alerting: false, selects_alerting: true, minutes_since: 16, managed_by: "helm" }),
      fact("metric.anomalous", "checkout", "request_rate", { badness: 6 }),
    ];
    const [top] = await reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });
    expect(top?.id).toBe("rules:network-policy-cuts-callee-traffic");
    expect(top?.disposition).toBe("escalate");
  });
});

describe("an alert that keeps firing and ending by itself", () => {
  const recurrence = (episodes: number, longest: number, current: number, other = 0) =>
    fact("alert.recurrence", "checkout", episodes, { longest_minutes: longest, current_minutes: current, window_minutes: 180, other_abnormal: other });
  const latencyUp = fact("metric.anomalous", "checkout", "latency_p99_ms", { badness: 4 });
  const diagnose = (evidence: Evidence[]) => reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });

  it("Given two earlier 2-minute episodes in 3 h and this one 1 minute old with only its own signal up, When diagnosed, Then no action (the threshold sits in the metric's swing)", async () => {
    const [top] = await diagnose([recurrence(2, 2, 1), latencyUp]);
    expect(top?.id).toBe("rules:recurring-self-resolving-alert");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given the same history but another metric abnormal too, or a pod crash-looping, or a release 20 min ago, When diagnosed, Then it is not closed as noise", async () => {
    for (const evidence of [
      [recurrence(2, 2, 1, 1), latencyUp],
      [recurrence(2, 2, 1), latencyUp, fact("pod.reason", "checkout", "CrashLoopBackOff", { count: 2 })],
      [recurrence(2, 2, 1), latencyUp, deployLatest("checkout", 20, ["image"])],
    ]) {
      expect((await diagnose(evidence)).filter((h) => h.id === "rules:recurring-self-resolving-alert")).toEqual([]);
    }
  });

  it("Given earlier episodes that lasted an hour each, When diagnosed, Then not read as a harmless recurrence", async () => {
    expect((await diagnose([recurrence(2, 60, 1), latencyUp])).some((h) => h.id === "rules:recurring-self-resolving-alert")).toBe(false);
  });
});

describe("CPU saturation right after a rollout that cut the CPU limit", () => {
  const saturated = [
    fact("cpu.saturation", "checkout", 1, { cores: 2.4, limit_cores: 2.4, scale_to_replicas: 8 }),
    fact("metric.anomalous", "checkout", "latency_p99_ms", { badness: 8 }),
    fact("replicas.desired", "checkout", 4, { ready: 4 }),
  ];
  const cut = (cutLimit: boolean) =>
    fact("deploy.latest", "checkout", 14, {
      revision: 8,
      previous_revision: 7,
      rollback_revision: 7,
      has_previous: true,
      changes: "resources",
      cpu_limit_cut: cutLimit,
      previous_cpu_limit_cores: 2,
      symptoms_before_change: false,
      onset_lag_minutes: 3,
    });

  it("Given pods at their CPU limit with latency up 3 min after a rollout lowered the limit, When diagnosed, Then roll back (not scale out)", async () => {
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([...saturated, cut(true)]), attempts: [] });
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "checkout", toRevision: 7 } });
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("scale_deployment");
  });

  it("Given the same saturation after a rollout that did not touch the CPU limit, When diagnosed, Then scale out as before", async () => {
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([...saturated, cut(false)]), attempts: [] });
    expect(hypotheses[0]?.candidates[0]?.call.tool).toBe("scale_deployment");
  });
});

describe("a consumer group named unlike the workload that reads it", () => {
  it("Given containers configured with the group id in env or args, When asked who reads group trip-archiver, Then only literal group-id settings count", () => {
    expect(readsConsumerGroup([{ env: [{ name: "KAFKA_GROUP_ID", value: "trip-archiver" }] }], "trip-archiver")).toBe(true);
    expect(readsConsumerGroup([{ env: [{ name: "SPRING_KAFKA_CONSUMER_GROUP_ID", value: "trip-archiver" }] }], "trip-archiver")).toBe(true);
    expect(readsConsumerGroup([{ args: ["--topic", "trips", "--group", "trip-archiver"] }], "trip-archiver")).toBe(true);
    expect(readsConsumerGroup([{ args: ["--consumer-property", "group.id=trip-archiver"] }], "trip-archiver")).toBe(true);
    expect(readsConsumerGroup([{ env: [{ name: "APP_NAME", value: "trip-archiver" }] }], "trip-archiver")).toBe(false);
    expect(readsConsumerGroup([{ env: [{ name: "KAFKA_GROUP_ID", value: "trip-archiver-v2" }] }], "trip-archiver")).toBe(false);
  });
});

describe("an autoscaler at its maximum", () => {
  const atMax = fact("hpa.at_max", "checkout", 8, { hpa: "checkout", min: 8, max: 8, current: 8, desired: 8, scaling_limited: true, pinned: true, wants_more: false });
  it("Given the HPA pinned (min = max) and every signal at baseline, When diagnosed, Then no action", async () => {
    const [top] = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([atMax]), attempts: [] });
    expect(top?.id).toBe("rules:autoscaler-at-max-service-healthy");
    expect(top?.disposition).toBe("no-action");
  });
  it("Given an HPA that climbed from 2 to its maximum of 8 and wants 12 with every signal at baseline, When diagnosed, Then not closed as noise (why it wants more is unexplained)", async () => {
    const climbed = fact("hpa.at_max", "checkout", 40, { hpa: "checkout", min: 2, max: 8, current: 8, desired: 12, scaling_limited: true, pinned: false, wants_more: true });
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([climbed]), attempts: [] });
    expect(hypotheses.filter((h) => h.disposition === "no-action")).toEqual([]);
  });

  it("Given an HPA that climbed to its maximum of 8 and computes exactly 8, every signal at baseline, When diagnosed, Then no action: the maximum carries the load", async () => {
    const enough = fact("hpa.at_max", "checkout", 0, { hpa: "checkout", min: 4, max: 8, current: 8, desired: 8, scaling_limited: false, pinned: false, wants_more: false });
    const [top] = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([enough]), attempts: [] });
    expect(top?.disposition).toBe("no-action");
  });

  it("Given the HPA at its maximum and latency up, When diagnosed, Then escalate (the HPA's maximum is a human's call)", async () => {
    const [top] = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([atMax, fact("metric.anomalous", "checkout", "latency_p99_ms", { badness: 5 })]), attempts: [] });
    expect(top?.disposition).toBe("escalate");
  });
});

describe("a blackbox probe's URL names the Service behind it", () => {
  it("Given probe instances with and without a cluster-internal host, When read, Then only <svc>.<ns>.svc hosts name a Service", () => {
    expect(clusterServiceOf("http://charger-availability.charge-network.svc.cluster.local/healthz/ready")).toEqual({ name: "charger-availability", namespace: "charge-network" });
    expect(clusterServiceOf("https://api.payments.svc:8443/health")).toEqual({ name: "api", namespace: "payments" });
    expect(clusterServiceOf("https://status.vendor.example.com/health")).toBeUndefined();
    expect(clusterServiceOf("10.0.3.7:9115")).toBeUndefined();
  });

  it("Given a BlackboxProbeFailed alert with only instance and job, When its target is read, Then it is the Service the URL names", () => {
    const target = targetFromLabels({ alertname: "BlackboxProbeFailed", instance: "http://checkout.shop.svc.cluster.local/healthz", job: "blackbox-exporter" });
    expect(target).toMatchObject({ kind: "Service", namespace: "shop", name: "checkout", via: "instance" });
  });

  it("Given probe jobs named as real setups name them (blackbox-http, probe/<ns>/<name>, any job with a module and a URL), When read, Then each is the probed Service, never the job", () => {
    const instance = "http://radar-tiles.weather.svc.cluster.local/healthz";
    const probes: Array<Record<string, string>> = [
      { job: "blackbox-http", instance, module: "http_2xx" },
      { job: "probe/monitoring/radar-tiles", instance },
      { job: "synthetics", instance, module: "http_2xx", namespace: "monitoring" },
    ];
    for (const labels of probes) {
      expect(targetFromLabels({ alertname: "BlackboxProbeFailed", ...labels }), JSON.stringify(labels)).toMatchObject({ kind: "Service", namespace: "weather", name: "radar-tiles" });
    }
    // And a probe of a public host names no Service by itself: it is looked up through the Ingress that serves its host
    // (and stays unresolved where none does: test/kubernetes/alert-targets.test.ts); a probe of an address names nothing
    expect(targetFromLabels({ alertname: "BlackboxProbeFailed", job: "blackbox-http", instance: "https://status.vendor.example.com/health", module: "http_2xx" })).toMatchObject({
      state: "lookup",
      kind: "IngressHost",
      name: "status.vendor.example.com",
      path: "/health",
    });
    expect(targetFromLabels({ alertname: "BlackboxProbeFailed", job: "blackbox-http", instance: "https://203.0.113.7/health", module: "http_2xx" }).state).toBe("unresolved");
  });
});

describe("scaled to zero: a fault or a plan", () => {
  const zero = (cause: string) => [fact("replicas.desired", "checkout", 0, { ready: 0, change_cause: cause }), fact("metric.ready_replicas", "checkout", 0, { baseline: 4 })];
  const diagnose = (evidence: Evidence[]) => reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });

  it("Given zero replicas whose change cause names a decommission, When diagnosed, Then no action and no scale-up", async () => {
    const hypotheses = await diagnose(zero("decommission checkout-v1 (CHG-7781): traffic on v2 since 16 Nov"));
    expect(hypotheses[0]?.disposition).toBe("no-action");
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("scale_deployment");
  });

  it("Given zero replicas with an ordinary change cause, When diagnosed, Then restore the replicas it ran with", async () => {
    const [top] = await diagnose(zero("helm upgrade checkout 1.4.2"));
    expect(top?.candidates[0]?.call).toEqual({ tool: "scale_deployment", params: { service: "checkout", replicas: 4 } });
  });
});

describe("errors long after a rollout", () => {
  it("Given errors that began 56 min after the last rollout, When diagnosed, Then the rollout is not blamed", async () => {
    const evidence = [
      fact("metric.anomalous", "checkout", "error_rate", { badness: 9 }),
      fact("deploy.latest", "checkout", 70, { revision: 8, previous_revision: 7, rollback_revision: 7, has_previous: true, changes: "image", onset_lag_minutes: 56, symptoms_before_change: false }),
      logSignatureFact("checkout", "POST https://api.vendor.example/v3/screen: <num> Service Unavailable", "http_5xx"),
    ];
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });
    expect(hypotheses.filter((h) => h.faultClass === "bad-rollout")).toEqual([]);
  });

  it("Given errors that began 12 min after a rollout that changed only an image's copy texts (its pods served cleanly meanwhile), When diagnosed, Then no rollback is proposed", async () => {
    const evidence = [
      fact("metric.anomalous", "checkout", "error_rate", { badness: 9 }),
      fact("deploy.latest", "checkout", 35, { revision: 2, previous_revision: 1, rollback_revision: 1, has_previous: true, changes: "image", onset_lag_minutes: 12, symptoms_before_change: false }),
      logSignatureFact("checkout", "POST /v1/sessions <num>: JWT rejected: token used before issued", ""),
    ];
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("rollout_undo");
  });

  it("Given a chart release whose change cause says its values were migrated to a new schema, When diagnosed, Then it is not taken for a database migration", async () => {
    const evidence = [
      fact("metric.anomalous", "checkout", "error_rate", { badness: 9 }),
      fact("deploy.latest", "checkout", 14, {
        revision: 3,
        previous_revision: 2,
        rollback_revision: 2,
        has_previous: true,
        changes: "env",
        onset_lag_minutes: 1,
        symptoms_before_change: false,
        change_cause: "helm upgrade checkout chart 3.0.0 (values migrated to the v3 schema)",
      }),
    ];
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });
    expect(hypotheses.map((h) => h.title).join("\n")).not.toMatch(/schema migration/);
    // And a release naming a database migration still is
    const migrated = evidence.map((f) => (f.key === "deploy.latest" ? { ...f, attrs: { ...f.attrs, change_cause: "helm upgrade checkout 8.0.0 (runs db migration 0042)" } } : f));
    const again = await reasoner.diagnose({ alert: makeAlert(), context: makeContext(migrated), attempts: [] });
    expect(again[0]?.title).toMatch(/schema migration/);
  });
});

describe("an informational alert on a workload that is fine", () => {
  const info = fact("alert.firing", "query-suggest", "CPUThrottlingHigh", { severity: "info" });
  const diagnose = (evidence: Evidence[]) =>
    reasoner.diagnose({ alert: makeAlert({ service: "query-suggest", name: "CPUThrottlingHigh", severity: "info" }), context: makeContext(evidence), attempts: [] });

  it("Given an info-severity throttling alert and every signal at its baseline, When diagnosed, Then no action", async () => {
    const [top] = await diagnose([info]);
    expect(top?.disposition).toBe("no-action");
    expect(top?.faultClass).toBe("informational");
  });

  it("Given the same alert while CPU use jumped (an unknown process) or latency is up, When diagnosed, Then it is not closed as noise", async () => {
    for (const metric of ["cpu_cores", "latency_p99_ms"]) {
      const hypotheses = await diagnose([info, fact("metric.anomalous", "query-suggest", metric, { badness: 5 })]);
      expect(
        hypotheses.filter((h) => h.disposition === "no-action").map((h) => h.faultClass),
        metric,
      ).toEqual([]);
    }
  });

  it("Given a critical alert with every signal at baseline, When diagnosed, Then the informational rule does not apply", async () => {
    const hypotheses = await diagnose([fact("alert.firing", "query-suggest", "CPUThrottlingHigh", { severity: "critical" })]);
    expect(hypotheses.map((h) => h.faultClass)).not.toContain("informational");
  });
});

describe("a NetworkPolicy that is a security containment", () => {
  it("Given quarantine words in a policy's name, labels or annotations, When read, Then it is a containment; an ordinary policy is not", async () => {
    const { containmentOf } = await import("../../environments/kubernetes/managed-by.js");
    expect(containmentOf("quarantine-previewer", {})).toBe("name: quarantine-previewer");
    expect(containmentOf("previewer-deny", { annotations: { "sec.example/note": "Isolated per IR playbook. Do not remove without SecOps approval." } })).toMatch(/^sec\.example\/note: Isolated/);
    expect(containmentOf("allow-from-frontend", { labels: { "app.kubernetes.io/managed-by": "helm" }, annotations: { "meta.helm.sh/release-name": "shop" } })).toBe("");
  });

  it("Given a deny-all policy on the callee marked as a containment, When diagnosed, Then escalate (security) and never propose deleting it", async () => {
    const policy = fact("netpol.ingress", "previewer", "quarantine-previewer", {
      deny_all: true,
      blocks_alerting: true,
      selects_alerting: false,
      minutes_since: 12,
      managed_by: "",
      containment: "name: quarantine-previewer",
    });
    const hypotheses = await reasoner.diagnose({ alert: makeAlert(), context: makeContext([policy, fact("metric.anomalous", "checkout", "error_rate", { badness: 8 })]), attempts: [] });
    expect(hypotheses[0]?.disposition).toBe("escalate");
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("delete_network_policy");
  });
});

describe("a caller slow because a dependency runs out of CPU", () => {
  const saturatedDependency = [
    fact("metric.anomalous", "checkout", "latency_p99_ms", { badness: 6 }),
    fact("cpu.saturation", "rights", 1.01, { cores: 3.03, limit_cores: 3, scale_to_replicas: 6 }),
    fact("metric.anomalous", "rights", "latency_p99_ms", { badness: 9 }),
    fact("replicas.desired", "rights", 3, { ready: 3 }),
  ];
  const diagnose = (evidence: Evidence[]) => reasoner.diagnose({ alert: makeAlert(), context: makeContext(evidence), attempts: [] });

  it("Given the dependency at its CPU limit with its own latency up, When diagnosed, Then scale the dependency, not the caller", async () => {
    const [top] = await diagnose(saturatedDependency);
    expect(top?.candidates[0]?.call).toEqual({ tool: "scale_deployment", params: { service: "rights", replicas: 6 } });
  });

  it("Given the same with an HPA on the dependency or a release of it an hour ago, When diagnosed, Then no direct scale of it is proposed", async () => {
    for (const extra of [fact("hpa.state", "rights", 3, { min: 3, max: 6, at_max: false }), deployLatest("rights", 60, ["image"])]) {
      const hypotheses = await diagnose([...saturatedDependency, extra]);
      expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call)).filter((c) => c.tool === "scale_deployment" && c.params["service"] === "rights")).toEqual([]);
    }
  });
});
