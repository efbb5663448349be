import { describe, expect, it } from "vitest";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { autoscaler, deployLatest, fact, logSignature, makeAlert, makeContext, serviceSelects } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();
const alert = makeAlert();

async function diagnose(evidence: Parameters<typeof makeContext>[0]) {
  return reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
}

describe("rollout rules keyed on any pod-template change", () => {
  it("Given pods crash-looping after a rollout that changed only the command, When diagnosed, Then roll back to the previous revision", async () => {
    const hypotheses = await diagnose([
      fact("pod.reason", "checkout", "CrashLoopBackOff", { count: 3, revision: 8 }),
      deployLatest("checkout", 6, ["command"]),
      logSignature("checkout", 'exec: "/app/serve": stat /app/serve: no such file or directory', "exec", "fatal"),
    ]);
    expect(hypotheses[0]?.faultClass).toBe("bad-rollout");
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "checkout", toRevision: 7 } });
  });

  it("Given pods running but never ready after a rollout that changed dnsPolicy, with readiness probe failures, When diagnosed, Then roll back", async () => {
    const hypotheses = await diagnose([
      fact("pod.not_ready", "checkout", 2, { revision: 8 }),
      deployLatest("checkout", 9, ["dnsPolicy"]),
      fact("event.reason", "checkout", "Unhealthy", { type: "Warning", message: "Readiness probe failed: HTTP probe failed with statuscode: 503", count: 20 }),
      logSignature("checkout", "dial tcp: lookup payments on <ip>: no such host", "dns"),
    ]);
    const top = hypotheses[0];
    expect(top?.faultClass).toBe("bad-rollout");
    expect(top?.confidence).toBeGreaterThanOrEqual(0.75);
    expect(top?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "checkout", toRevision: 7 } });
  });

  it("Given not-ready pods after a rollout that only raised the memory limit (Suture's own fix), When diagnosed, Then no rollout rule fires", async () => {
    const hypotheses = await diagnose([fact("pod.not_ready", "checkout", 1, { revision: 8 }), deployLatest("checkout", 9, ["memory", "resources"])]);
    expect(hypotheses.filter((h) => h.faultClass === "bad-rollout")).toEqual([]);
  });

  it("Given a StatefulSet whose updated pod crash-loops, When diagnosed, Then escalate (its rollout cannot be undone by Suture) and propose no rollback", async () => {
    const hypotheses = await diagnose([
      fact("workload.kind", "ledger", "StatefulSet"),
      fact("pod.reason", "ledger", "CrashLoopBackOff", { count: 1, revision: 4 }),
      deployLatest("ledger", 5, ["args"]),
    ]);
    const top = hypotheses[0];
    expect(top?.disposition).toBe("escalate");
    expect(top?.explanation).toMatch(/rollout_undo refuses/);
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("rollout_undo");
  });

  it("Given only the new revision's pods Pending for CPU the rollout raised, When diagnosed, Then roll back rather than call it a capacity problem", async () => {
    const pending = (cordoned: number) => [
      fact("revision.compare", "ranker", 3, { revision: 8, new_pods: 3, new_ready: 0, new_reason: "Unschedulable", old_pods: 3, old_ready: 3, old_healthy: true }),
      fact("pod.unschedulable", "ranker", 3, { nodes: 3, cordoned_count: cordoned, not_ready_count: 0, message: "0/3 nodes are available: 3 Insufficient cpu." }),
      fact("event.reason", "ranker", "FailedScheduling", { type: "Warning", message: "0/3 nodes are available: 3 Insufficient cpu.", count: 9 }),
      deployLatest("ranker", 14, ["resources"]),
    ];
    const rollout = await diagnose(pending(0));
    expect(rollout[0]?.faultClass).toBe("bad-rollout");
    expect(rollout[0]?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "ranker", toRevision: 7 } });
    // And a node cordoned beside it does not change that: the scheduler still names what the new pods ask for
    const cordoned = await diagnose(pending(1));
    expect(cordoned[0]?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "ranker", toRevision: 7 } });
  });

  it("Given the new revision's pods Pending only because every node is cordoned, When diagnosed, Then the rollout is not blamed: a human decides", async () => {
    const hypotheses = await diagnose([
      fact("revision.compare", "ranker", 3, { revision: 8, new_pods: 3, new_ready: 0, new_reason: "Unschedulable", old_pods: 3, old_ready: 3, old_healthy: true }),
      fact("pod.unschedulable", "ranker", 3, { nodes: 3, cordoned_count: 3, not_ready_count: 0, message: "0/3 nodes are available: 3 node(s) were unschedulable." }),
      deployLatest("ranker", 14, ["resources"]),
    ]);
    expect(hypotheses.filter((h) => h.disposition === "act")).toEqual([]);
    expect(hypotheses[0]?.faultClass).toBe("unschedulable");
  });

  it("Given pods Pending for a GPU while the cluster autoscaler triggered a scale-up 5 min ago, When diagnosed, Then no action: the nodes are coming; with a NotTriggerScaleUp beside it, nothing closes it", async () => {
    const pending = fact("pod.unschedulable", "renderer", 3, { nodes: 7, cordoned_count: 0, not_ready_count: 0, message: "0/7 nodes are available: 1 Insufficient nvidia.com/gpu." });
    const triggered = fact("event.reason", "renderer", "TriggeredScaleUp", { type: "Normal", message: "pod triggered scale-up: [{gpu-pool 1->3 (max: 8)}]", count: 1, minutes_since_last: 5 });
    const coming = await diagnose([pending, triggered]);
    expect(coming[0]?.id).toBe("rules:autoscaler-adding-nodes");
    expect(coming.map((h) => h.id)).not.toContain("rules:pods-unschedulable");
    const refused = fact("event.reason", "renderer", "NotTriggerScaleUp", { type: "Normal", message: "pod didn't trigger scale-up: 1 max node group size reached", count: 4, minutes_since_last: 2 });
    const stuck = await diagnose([pending, triggered, refused]);
    expect(stuck.filter((h) => h.disposition === "no-action")).toEqual([]);
    // And without any scale-up under way, the capacity is a human's call as before
    const alone = await diagnose([pending]);
    expect(alone[0]?.id).toBe("rules:pods-unschedulable");
  });

  it("Given a healthy StatefulSet, When diagnosed, Then no rule fires", async () => {
    expect(await diagnose([fact("workload.kind", "ledger", "StatefulSet"), fact("pod.restarts", "ledger", 0)])).toEqual([]);
  });
});

describe("rules on the objects around a workload", () => {
  it("Given a dependency whose Service is gone and DNS errors calling it, When diagnosed, Then escalate naming the missing Service", async () => {
    const hypotheses = await diagnose([
      fact("topology.calls", "checkout", "payments"),
      fact("dependency.service_missing", "checkout", "payments", { kube_service: "payments", namespace: "prod" }),
      logSignature("checkout", "getaddrinfo ENOTFOUND payments", "dns"),
    ]);
    expect(hypotheses[0]?.faultClass).toBe("dependency-service-missing");
    expect(hypotheses[0]?.disposition).toBe("escalate");
    expect(hypotheses[0]?.confidence).toBeGreaterThanOrEqual(0.85);
  });

  it("Given a Service whose selector picks none of the workload's ready pods, When diagnosed, Then the selector mismatch is the diagnosis; and not for a Service that selects them", async () => {
    const broken = await diagnose([serviceSelects("checkout", { readyEndpoints: 0, selectedPods: 0, selectsWorkload: false, workloadReadyPods: 3 })]);
    expect(broken[0]?.faultClass).toBe("service-selector-mismatch");
    expect(broken[0]?.candidates[0]?.call).toEqual({ tool: "set_service_selector", params: { service: "checkout", kubeService: "checkout" } });
    const healthy = await diagnose([serviceSelects("checkout", { readyEndpoints: 3, selectedPods: 3, selectsWorkload: true, workloadReadyPods: 3 })]);
    expect(healthy).toEqual([]);
    // A Service with no endpoints because the pods are down is not a selector fault
    const podsDown = await diagnose([serviceSelects("checkout", { readyEndpoints: 0, selectedPods: 3, selectsWorkload: true, workloadReadyPods: 0 })]);
    expect(podsDown.filter((h) => h.faultClass === "service-selector-mismatch")).toEqual([]);
  });

  it("Given unschedulable pods with a FailedScheduling event, When diagnosed, Then escalate", async () => {
    const hypotheses = await diagnose([
      fact("pod.reason", "checkout", "Unschedulable", { count: 2, revision: 8 }),
      fact("pod.unschedulable", "checkout", 2, {
        nodes: 3,
        cordoned: "node-1,node-2",
        not_ready: "",
        cordoned_count: 2,
        not_ready_count: 0,
        message: "0/3 nodes are available: 2 node(s) were unschedulable, 1 Insufficient cpu.",
      }),
      fact("event.reason", "checkout", "FailedScheduling", { type: "Warning", message: "0/3 nodes are available: 2 node(s) were unschedulable, 1 Insufficient cpu.", count: 5 }),
    ]);
    expect(hypotheses[0]?.faultClass).toBe("unschedulable");
    expect(hypotheses[0]?.disposition).toBe("escalate");
  });

  it("Given FailedCreate events for an exceeded quota, When diagnosed, Then escalate; a FailedCreate for another reason does not match", async () => {
    const quota = await diagnose([
      fact("event.reason", "checkout", "FailedCreate", {
        type: "Warning",
        message: 'pods "checkout-x" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=10, limited: pods=10',
        count: 7,
      }),
      fact("quota.exceeded", "checkout", "pods", { quota: "compute", used: "10", hard: "10" }),
    ]);
    expect(quota[0]?.faultClass).toBe("quota-exceeded");
    expect(quota[0]?.disposition).toBe("escalate");
    const other = await diagnose([fact("event.reason", "checkout", "FailedCreate", { type: "Warning", message: 'pods "checkout-x" is forbidden: error looking up service account', count: 1 })]);
    expect(other.filter((h) => h.faultClass === "quota-exceeded")).toEqual([]);
  });

  it("Given a saturated workload whose HPA is at its maximum, When diagnosed, Then escalate and never scale the workload directly", async () => {
    const hypotheses = await diagnose([
      ...autoscaler("checkout", 10, 2, 10),
      fact("cpu.saturation", "checkout", 0.97),
      fact("metric.anomalous", "checkout", "latency_p99_ms"),
      fact("replicas.desired", "checkout", 10, { ready: 10, memory_limit_mib: 512 }),
    ]);
    expect(hypotheses[0]?.faultClass).toBe("capacity-saturation");
    expect(hypotheses[0]?.disposition).toBe("escalate");
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("scale_deployment");
  });

  it("Given a saturated workload without an HPA, When diagnosed, Then scaling it is still proposed (the HPA guard only removes HPA-owned workloads)", async () => {
    const hypotheses = await diagnose([
      fact("cpu.saturation", "checkout", 0.97, { scale_to_replicas: 6 }),
      fact("metric.anomalous", "checkout", "latency_p99_ms"),
      fact("replicas.desired", "checkout", 3, { ready: 3, memory_limit_mib: 512 }),
    ]);
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "scale_deployment", params: { service: "checkout", replicas: 6 } });
  });

  it("Given authentication failures in the logs, When diagnosed, Then escalate; connection errors of another class do not match", async () => {
    const auth = await diagnose([logSignature("checkout", 'FATAL: password authentication failed for user "app"', "auth")]);
    expect(auth[0]?.faultClass).toBe("credential-mismatch");
    expect(auth[0]?.disposition).toBe("escalate");
    const refused = await diagnose([logSignature("checkout", "connect ECONNREFUSED <ip>", "connection_refused")]);
    expect(refused.filter((h) => h.faultClass === "credential-mismatch")).toEqual([]);
  });

  it("Given authentication failures that began after every pod read its Secrets, with no rollout since, When diagnosed, Then restart the pods so they read the current Secret", async () => {
    const sig = logSignature("orders", 'FATAL: password authentication failed for user "orders"', "auth", "fatal");
    const consumed = (allBefore: boolean) =>
      fact("secret.consumed", "orders", 1, { secrets: "orders-db", pods: 3, started_before_auth_errors: allBefore ? 3 : 1, all_started_before: allBefore, minutes_since_first_auth_error: 9 });
    const stale = await diagnose([sig, consumed(true)]);
    expect(stale[0]).toMatchObject({ faultClass: "credential-mismatch", disposition: "act" });
    expect(stale[0]?.candidates[0]?.call).toEqual({ tool: "restart_pods", params: { service: "orders" } });
    // But pods that started after the failures began already hold the current Secret: a restart would not help
    const fresh = await diagnose([sig, consumed(false)]);
    expect(fresh[0]?.disposition).toBe("escalate");
    expect(fresh.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("restart_pods");
    // And a rollout in the last hour is the more likely change: no restart either
    const deployed = await diagnose([sig, consumed(true), deployLatest("orders", 20, ["env"])]);
    expect(deployed.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("restart_pods");
  });
});

describe("alerts that need no action", () => {
  it("Given an alert that fired and resolved three times, every metric at baseline, and error lines logged all along, When diagnosed, Then close it as a flapping threshold", async () => {
    const hypotheses = await diagnose([
      fact("alert.flaps", "checkout", 3, { firing: 4, window_minutes: 60 }),
      logSignature("checkout", "TLS handshake failed from <ip>: client certificate revoked (device <num>, decommissioned)", "tls"),
      fact("metric.latency_p99_ms", "checkout", 420, { baseline: 400, ratio: 1.05, anomalous: false }),
    ]);
    expect(hypotheses[0]?.disposition).toBe("no-action");
    expect(hypotheses[0]?.faultClass).toBe("flapping-threshold");
  });

  it("Given the same flapping alert with the error rate abnormal, When diagnosed, Then it is not called noise", async () => {
    const hypotheses = await diagnose([fact("alert.flaps", "checkout", 3, { firing: 4, window_minutes: 60 }), fact("metric.anomalous", "checkout", "error_rate", { badness: 4 })]);
    expect(hypotheses.filter((h) => h.disposition === "no-action")).toEqual([]);
  });
});

describe("memory that climbs toward the limit", () => {
  const climbing = [
    fact("memory.trend", "pricer", 6, { current_mib: 954, limit_mib: 1024, share_of_limit: 0.93, slope_per_min: 12, baseline_mib: 420 }),
    fact("metric.memory_mib", "pricer", 954, { baseline: 420, ratio: 2.27, slope_per_min: 12, anomalous: true }),
  ];

  it("Given memory at 93% of the limit climbing 12 MiB/min since a release 50 minutes ago, no OOM kill yet, When diagnosed, Then roll the release back", async () => {
    const hypotheses = await diagnose([...climbing, deployLatest("pricer", 50, ["image"])]);
    expect(hypotheses[0]?.faultClass).toBe("memory-leak");
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "pricer", toRevision: 7 } });
  });

  it("Given the same climb with no release in the last day, When diagnosed, Then no rollback is proposed", async () => {
    const hypotheses = await diagnose([...climbing, deployLatest("pricer", 5000, ["image"])]);
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("rollout_undo");
  });
});

describe("releases that carried a schema migration", () => {
  it("Given errors after a release whose change cause says it migrated the schema, When diagnosed, Then escalate and never propose the rollback", async () => {
    const migrated = {
      ...deployLatest("ledger", 15, ["image"]),
      attrs: { ...deployLatest("ledger", 15, ["image"]).attrs, change_cause: "helm upgrade ledger 8.0.0 (pre-upgrade hook: alembic upgrade head)" },
    };
    const hypotheses = await diagnose([
      migrated,
      fact("metric.anomalous", "ledger", "error_rate", { badness: 6 }),
      logSignature("ledger", "TypeError: Cannot read properties of null (reading 'jurisdiction')", ""),
    ]);
    const top = hypotheses[0];
    expect(top?.disposition).toBe("escalate");
    expect(top?.title).toMatch(/schema migration/);
  });
});

describe("the new revision's pods against the old ones'", () => {
  it("Given a crash loop after a probe change, When the older revision's pods are still healthy beside the failing new ones, Then the rollback is more certain", async () => {
    const crash = [fact("pod.reason", "tracker", "CrashLoopBackOff", { count: 2, revision: 8 }), deployLatest("tracker", 12, ["livenessProbe"])];
    const alone = await diagnose(crash);
    const compared = await diagnose([
      ...crash,
      fact("revision.compare", "tracker", 2, { revision: 8, new_pods: 2, new_ready: 0, new_reason: "CrashLoopBackOff", old_pods: 3, old_ready: 3, old_healthy: true }),
    ]);
    expect(alone[0]?.faultClass).toBe("bad-rollout");
    expect(compared[0]?.confidence).toBeGreaterThan(alone[0]?.confidence ?? 1);
    expect(compared[0]?.evidenceIds.length).toBeGreaterThan(alone[0]?.evidenceIds.length ?? 99);
  });
});

describe("a Service port mismatch: who changed the contract", () => {
  const mismatch = fact("service.port_mismatch", "checkout", true, { target_port: 8080, container_port: 9090, port: 80 });
  const refused = logSignature("frontend", "dial tcp <ip>:8080: connect: connection refused", "connection_refused");

  it("Given the Service targets 8080 while the pods listen on 9090 and the rollout 20 min ago changed the containers' ports, When diagnosed, Then roll the release back (not move the Service)", async () => {
    const hypotheses = await diagnose([mismatch, deployLatest("checkout", 20, ["ports"]), refused]);
    expect(hypotheses[0]?.id).toBe("rules:service-port-broken-by-rollout");
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "checkout", toRevision: 7 } });
    expect(hypotheses.some((h) => h.candidates.some((c) => c.call.tool === "patch_service_port"))).toBe(false);
  });

  it("Given the same mismatch but the last rollout (3 days ago) changed only the image, When diagnosed, Then point the Service back at the containers' port", async () => {
    const hypotheses = await diagnose([mismatch, deployLatest("checkout", 4320, ["image"]), refused]);
    expect(hypotheses[0]?.candidates[0]?.call).toEqual({ tool: "patch_service_port", params: { service: "checkout", targetPort: 9090 } });
  });
});
