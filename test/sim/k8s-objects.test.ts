import type { CoreV1Event, V1Pod, V1ResourceQuota, V1Secret, V1StatefulSet, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../environments/cluster-api/backend.js";
import { EVENTS, HPAS, INGRESSES, PODS, RESOURCE_QUOTAS, SECRETS, STATEFUL_SETS, DEPLOYMENTS } from "../../environments/simulator/kinds.js";
import { EnvironmentSpecSchema } from "../../environments/simulator/spec.js";
import { targetFromLabels } from "../../domain/alerts/target.js";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { summarizeSeries } from "../../evidence/metrics.js";

const MINUTE = 60_000;

function as<T>(object: KubeObject | undefined): T {
  if (object === undefined) throw new Error("object not found");
  return object as unknown as T;
}

async function world(spec: EnvironmentSpecInput, minutes = 0): Promise<SimEnvironment> {
  const env = SimEnvironment.create(spec);
  await env.advanceTo(env.startTime + minutes * MINUTE);
  return env;
}

function pods(env: SimEnvironment, namespace: string, app: string): V1Pod[] {
  return env
    .list(PODS, namespace)
    .map((o) => as<V1Pod>(o))
    .filter((p) => p.metadata?.labels?.["app"] === app);
}

function events(env: SimEnvironment, namespace: string): CoreV1Event[] {
  return env.list(EVENTS, namespace).map((o) => as<CoreV1Event>(o));
}

async function errorRate(env: SimEnvironment, service: string): Promise<number> {
  return summarizeSeries(await env.queryMetric(service, "error_rate", 3))?.current ?? NaN;
}

async function logs(env: SimEnvironment, service: string): Promise<string[]> {
  return (await env.tailLogs(service, 400)).map((l) => l.message);
}

const ready = (p: V1Pod): boolean => p.status?.containerStatuses?.[0]?.ready === true;
const deploymentPatch = (name: string, namespace: string, container: Record<string, unknown>, atMinutes = -10) => ({
  kind: "patch" as const,
  atMinutes,
  object: { kind: "Deployment", name, namespace },
  patchType: "strategic" as const,
  patch: { spec: { template: { spec: { containers: [{ name: "app", ...container }] } } } },
});

const nodes = (names: string[], memory = "4Gi", cpu = "4"): string =>
  names.map((n) => `apiVersion: v1\nkind: Node\nmetadata: { name: ${n}, labels: { kubernetes.io/arch: amd64 } }\nstatus: { allocatable: { cpu: "${cpu}", memory: ${memory} } }\n`).join("---\n");

describe("Kubernetes objects and controllers in the simulator", () => {
  it("Given a cordoned node and a full one, When a rollout creates new pods, Then they stay Pending with FailedScheduling naming the unschedulable node", async () => {
    const env = await world(
      {
        manifests: nodes(["node-a", "node-b"], "3Gi"),
        services: [{ name: "reports", namespace: "bi", replicas: 2, requests: { memory: "1Gi" } }],
        faults: [
          { kind: "cordon", atMinutes: -20, node: "node-a" },
          { kind: "apply", atMinutes: -19, manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: filler, namespace: bi }\ndata: {}\n" },
          deploymentPatch("reports", "bi", { resources: { limits: { memory: "512Mi", cpu: "1" }, requests: { cpu: "500m", memory: "2Gi" } } }),
        ],
      },
      0,
    );
    const pending = pods(env, "bi", "reports").filter((p) => p.status?.phase === "Pending");
    expect(pending.length).toBeGreaterThan(0);
    const scheduled = pending[0]?.status?.conditions?.find((c) => c.type === "PodScheduled");
    expect(scheduled).toMatchObject({ status: "False", reason: "Unschedulable" });
    const failed = events(env, "bi").filter((e) => e.reason === "FailedScheduling");
    expect(failed[0]?.message).toMatch(/^0\/2 nodes are available: .*1 node\(s\) were unschedulable/);
    expect(failed[0]?.message).toMatch(/Insufficient memory/);
    // The pods that were running before keep running.
    expect(pods(env, "bi", "reports").filter(ready).length).toBeGreaterThan(0);
  });

  it("Given a namespace whose ResourceQuota is fully used, When a rollout needs a new pod, Then creation is refused with FailedCreate and the old pods keep serving", async () => {
    const env = await world({
      manifests: "apiVersion: v1\nkind: ResourceQuota\nmetadata: { name: compute-quota, namespace: risk }\nspec: { hard: { limits.memory: 4Gi } }\n",
      services: [{ name: "scorer", namespace: "risk", replicas: 4, memoryLimitMib: 1024 }],
      faults: [deploymentPatch("scorer", "risk", { resources: { limits: { memory: "1536Mi", cpu: "1" } } })],
    });
    const failed = events(env, "risk").find((e) => e.reason === "FailedCreate");
    expect(failed?.involvedObject.kind).toBe("ReplicaSet");
    expect(failed?.message).toMatch(
      /^Error creating: pods "scorer-[a-z0-9]+-" is forbidden: exceeded quota: compute-quota, requested: limits.memory=1536Mi, used: limits.memory=4Gi, limited: limits.memory=4Gi$/,
    );
    expect(pods(env, "risk", "scorer").filter(ready)).toHaveLength(4);
    const quota = as<V1ResourceQuota>(env.get(RESOURCE_QUOTAS, "risk", "compute-quota"));
    expect(quota.status?.used?.["limits.memory"]).toBe("4Gi");
  });

  it("Given an HPA with maxReplicas 4 and demand far above target, When it syncs, Then the target sits at 4 with ScalingLimited TooManyReplicas, and a direct scale-up is set back", async () => {
    const spec: EnvironmentSpecInput = {
      manifests:
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: api, namespace: web }\nspec:\n  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }\n  minReplicas: 2\n  maxReplicas: 4\n  metrics: [{ type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } } }]\n",
      services: [{ name: "api", namespace: "web", replicas: 2, cpuPerRequest: 0.004, baseline: { requestRate: 100, errorRate: 0.002, latencyP99Ms: 150 } }],
      faults: [{ kind: "traffic-surge", service: "api", atMinutes: -15, params: { loadFactor: 6 } }],
    };
    const env = await world(spec);
    const hpa = as<V2HorizontalPodAutoscaler>(env.get(HPAS, "web", "api"));
    expect(hpa.status?.desiredReplicas).toBe(4);
    expect(hpa.status?.conditions?.find((c) => c.type === "ScalingLimited")).toMatchObject({ status: "True", reason: "TooManyReplicas" });
    expect(as<{ spec: { replicas: number } }>(env.get(DEPLOYMENTS, "web", "api")).spec.replicas).toBe(4);
    await env.scale("api", 9, "k1");
    await env.advanceBy(MINUTE);
    expect(as<{ spec: { replicas: number } }>(env.get(DEPLOYMENTS, "web", "api")).spec.replicas).toBe(4);
    expect(events(env, "web").some((e) => e.reason === "SuccessfulRescale" && /New size: 4/.test(e.message ?? ""))).toBe(true);
  });

  it("Given a StatefulSet of 3, When its template is updated to a command the image lacks, Then pod 2 fails and pods 0 and 1 stay on the old revision", async () => {
    const env = await world({
      services: [{ name: "kv", namespace: "data", kind: "StatefulSet", replicas: 3 }],
      faults: [
        {
          kind: "patch",
          atMinutes: -10,
          object: { kind: "StatefulSet", name: "kv", namespace: "data" },
          patchType: "strategic",
          patch: { spec: { template: { spec: { containers: [{ name: "app", command: ["/bin/kv"] }] } } } },
        },
      ],
    });
    const sts = as<V1StatefulSet>(env.get(STATEFUL_SETS, "data", "kv"));
    expect(sts.status?.currentRevision).not.toBe(sts.status?.updateRevision);
    const all = pods(env, "data", "kv").sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    expect(all.map((p) => p.metadata?.name)).toEqual(["kv-0", "kv-1", "kv-2"]);
    expect(all[2]?.metadata?.labels?.["controller-revision-hash"]).toBe(sts.status?.updateRevision);
    expect(all[2]?.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ reason: "StartError", exitCode: 128 });
    expect(all[0]?.metadata?.labels?.["controller-revision-hash"]).toBe(sts.status?.currentRevision);
    expect(all[1]?.metadata?.labels?.["controller-revision-hash"]).toBe(sts.status?.currentRevision);
    expect(ready(all[0] as V1Pod) && ready(all[1] as V1Pod)).toBe(true);
  });

  it("Given a scenario that scripts one StatefulSet pod as Pending and unschedulable, Then the API serves that pod so (PodScheduled False, no node), the others Running, and the StatefulSet counts 3 of 4 ready", async () => {
    const env = await world(
      {
        services: [{ name: "broker", namespace: "data", kind: "StatefulSet", replicas: 4 }],
        observations: { broker: { pods: [{ name: "broker-3", phase: "Pending", ready: false, reason: "Unschedulable" }] } },
      },
      5,
    );
    const all = pods(env, "data", "broker").sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    expect(all.map((p) => p.status?.phase)).toEqual(["Running", "Running", "Running", "Pending"]);
    expect(all[3]?.spec?.nodeName).toBeUndefined();
    expect(all[3]?.status?.conditions).toEqual([expect.objectContaining({ type: "PodScheduled", status: "False", reason: "Unschedulable" })]);
    expect(as<V1StatefulSet>(env.get(STATEFUL_SETS, "data", "broker")).status?.readyReplicas).toBe(3);
    // and the adapter-facing description agrees with what the API serves
    expect((await env.describeWorkload("broker")).deployment.readyReplicas).toBe(3);
  });

  it("Given a scripted replacement pod created 47 min before the alert and a scripted event, Then the pod's age counts from then and the event is about the StatefulSet", async () => {
    const env = await world({
      services: [{ name: "ledger-pg", namespace: "data", kind: "StatefulSet", replicas: 2 }],
      observations: {
        "ledger-pg": {
          pods: [{ name: "ledger-pg-1", phase: "Pending", ready: false, reason: "Unschedulable", createdAtMinutes: -47 }],
          events: [{ atMinutes: -46, type: "Warning", reason: "FailedScheduling", message: "0/6 nodes are available: 6 node(s) had volume node affinity conflict." }],
        },
      },
    });
    const replaced = pods(env, "data", "ledger-pg").find((p) => p.metadata?.name === "ledger-pg-1");
    expect(Date.parse(String(replaced?.metadata?.creationTimestamp))).toBe(env.now() - 47 * MINUTE);
    expect(Date.parse(String(replaced?.status?.conditions?.[0]?.lastTransitionTime))).toBe(env.now() - 47 * MINUTE);
    const event = env.list(EVENTS, "data").find((e) => (e as { reason?: string }).reason === "FailedScheduling") as { involvedObject?: { kind?: string; name?: string; uid?: string } } | undefined;
    expect(event?.involvedObject).toMatchObject({ kind: "StatefulSet", name: "ledger-pg" });
    expect(event?.involvedObject?.uid).toBe(env.get(STATEFUL_SETS, "data", "ledger-pg")?.metadata.uid);
  });

  it("Given an Ingress in the scenario's manifests, Then the API serves it and an ingress-nginx alert naming it resolves to the workload behind its one backend Service", async () => {
    const env = await world({
      services: [{ name: "autocomplete", namespace: "trails" }],
      manifests: [
        "apiVersion: networking.k8s.io/v1",
        "kind: Ingress",
        "metadata: { name: trail-autocomplete, namespace: trails }",
        "spec: { rules: [{ host: trails.example.com, http: { paths: [{ path: /suggest, pathType: Prefix, backend: { service: { name: autocomplete, port: { number: 80 } } } }] } }] }",
      ].join("\n"),
    });
    expect(env.list(INGRESSES, "trails").map((o) => o.metadata.name)).toEqual(["trail-autocomplete"]);
    const target = targetFromLabels({
      alertname: "NginxIngressErrorRatioHigh",
      ingress: "trail-autocomplete",
      exported_namespace: "trails",
      namespace: "ingress-nginx",
      job: "ingress-nginx-controller-metrics",
    });
    expect(target).toMatchObject({ state: "lookup", kind: "Ingress", namespace: "trails", name: "trail-autocomplete" });
    expect(await env.resolveAlertTarget(target)).toMatchObject({
      state: "resolved",
      kind: "Deployment",
      namespace: "trails",
      name: "autocomplete",
      from: expect.stringMatching(/^Ingress trails\/trail-autocomplete → /) as unknown,
    });
  });

  it("Given a Secret rotated on the database side only, When the caller's pods still hold the old hash, Then its calls fail with password authentication errors, and a restart heals it", async () => {
    const env = await world({
      manifests: "apiVersion: v1\nkind: Secret\nmetadata: { name: db-creds, namespace: shop }\ndata: { password: c2VjcmV0 }\n",
      services: [
        { name: "orders", namespace: "shop", replicas: 2, dependencies: ["orders-db"], secretEnv: [{ secret: "db-creds", keys: { DB_PASSWORD: "password" } }] },
        { name: "orders-db", namespace: "shop", replicas: 1, acceptsSecret: "db-creds" },
      ],
      faults: [{ kind: "rotate-secret", atMinutes: -10, secret: "db-creds", namespace: "shop", changedBy: "vault" }],
    });
    const secret = as<V1Secret>(env.get(SECRETS, "shop", "db-creds"));
    expect(secret.data).toBeUndefined();
    expect(secret.metadata?.annotations?.["suture.dev/rotated-by"]).toBe("vault");
    expect(await errorRate(env, "orders")).toBeGreaterThan(0.3);
    expect(await logs(env, "orders")).toContain('FATAL: password authentication failed for user "orders"');
    await env.restartPods("orders", "r1");
    await env.advanceBy(3 * MINUTE);
    expect(await errorRate(env, "orders")).toBeLessThan(0.05);
  });

  it("Given a Service whose selector no pod matches, and another that is deleted, When callers call them, Then they fail with no healthy upstream and ENOTFOUND while the pods stay ready", async () => {
    const env = await world({
      services: [
        { name: "tokens", namespace: "id", replicas: 2 },
        { name: "push", namespace: "id", replicas: 2 },
        { name: "front", namespace: "id", replicas: 2, dependencies: ["tokens", "push"] },
      ],
      faults: [
        { kind: "patch", atMinutes: -12, object: { kind: "Service", name: "tokens", namespace: "id" }, patchType: "merge", patch: { spec: { selector: { app: "tokens-v2" } } } },
        { kind: "delete", atMinutes: -12, object: { kind: "Service", name: "push", namespace: "id" } },
      ],
    });
    const lines = await logs(env, "front");
    expect(lines.some((l) => l.includes("no healthy upstream (tokens)"))).toBe(true);
    expect(lines.some((l) => l.includes("getaddrinfo ENOTFOUND push.id.svc.cluster.local"))).toBe(true);
    expect(pods(env, "id", "tokens").every(ready)).toBe(true);
    expect(summarizeSeries(await env.queryMetric("tokens", "request_rate", 3))?.current).toBe(0);
  });

  it("Given rollouts that change only the command, the args, the readiness probe, the liveness probe or dnsPolicy, Then each fails the way Kubernetes shows it", async () => {
    const svc = (name: string) => ({ name, namespace: "t", replicas: 4, dependencies: ["dep"] });
    const env = await world({
      services: [svc("cmd"), svc("args"), svc("ready"), svc("live"), svc("dns"), { name: "dep", namespace: "t", replicas: 2 }],
      faults: [
        deploymentPatch("cmd", "t", { command: ["/app/srv"] }),
        deploymentPatch("args", "t", { args: ["--listen=:8080", "--mode=strict"] }),
        deploymentPatch("ready", "t", { readinessProbe: { httpGet: { path: "/readyz", port: 8080 } } }),
        deploymentPatch("live", "t", { livenessProbe: { httpGet: { path: "/healthz/live", port: 9090 } } }),
        { kind: "patch", atMinutes: -10, object: { kind: "Deployment", name: "dns", namespace: "t" }, patchType: "merge", patch: { spec: { template: { spec: { dnsPolicy: "Default" } } } } },
      ],
    });
    const ev = events(env, "t");
    const last = (app: string) => pods(env, "t", app).find((p) => p.status?.containerStatuses?.[0]?.lastState?.terminated !== undefined)?.status?.containerStatuses?.[0]?.lastState?.terminated;
    expect(last("cmd")).toMatchObject({ reason: "StartError", exitCode: 128 });
    expect(ev.some((e) => e.reason === "Failed" && (e.message ?? "").includes('exec: "/app/srv": stat /app/srv: no such file or directory'))).toBe(true);
    expect(last("args")).toMatchObject({ exitCode: 2 });
    expect(await logs(env, "args")).toContain("flag provided but not defined: -mode");
    const readyPods = pods(env, "t", "ready");
    expect(readyPods.filter((p) => !ready(p) && p.status?.phase === "Running").length).toBeGreaterThan(0);
    expect(ev.some((e) => e.reason === "Unhealthy" && e.message === "Readiness probe failed: HTTP probe failed with statuscode: 404")).toBe(true);
    expect(ev.some((e) => e.reason === "Killing" && e.message === "Container app failed liveness probe, will be restarted")).toBe(true);
    expect(ev.some((e) => e.reason === "Unhealthy" && /Liveness probe failed: .*:9090.*connect: connection refused/.test(e.message ?? ""))).toBe(true);
    expect(pods(env, "t", "dns").every(ready)).toBe(true);
    expect(await logs(env, "dns")).toContain("getaddrinfo ENOTFOUND dep.t.svc.cluster.local");
    expect(await errorRate(env, "dns")).toBeGreaterThan(0.3);
    expect(await errorRate(env, "cmd")).toBeLessThan(0.05);
  });

  it("Given a JSON-logging workload, Then its lines are JSON with the error text in the error field", async () => {
    const env = await world({
      services: [{ name: "points", namespace: "l", replicas: 2, logFormat: "json", env: { REDIS_URL: "redis://cache:6379" } }],
      faults: [deploymentPatch("points", "l", { env: [{ name: "REDIS_URL", value: "redis:cache" }] })],
    });
    // The pods' log, as `kubectl logs` serves it
    const text = env
      .list(PODS, "l")
      .map((p) => env.podLog("l", p.metadata.name ?? "", {}))
      .join("\n");
    const fatal = text.split("\n").find((line) => line.includes('"level":"fatal"'));
    const parsed = JSON.parse(fatal ?? "{}") as Record<string, string>;
    expect(parsed).toMatchObject({ level: "fatal", msg: "FATAL config", logger: "points.handler" });
    expect(parsed["error"]).toMatch(/invalid value for REDIS_URL="redis:cache"/);
    expect(typeof parsed["ts"]).toBe("string");
    // And perception reads the line's message and error fields, as it does from a real pod
    const read = (await env.tailLogs("points", 400)).find((l) => l.level === "fatal");
    expect(read?.message).toMatch(/^FATAL config: invalid value for REDIS_URL="redis:cache"/);
  });

  it("Given a JSON-logging workload whose scenario scripts a line already written as JSON, Then the pod logs that object as it is (not wrapped in another), and perception reads its message and failing status", async () => {
    const scripted = JSON.stringify({ level: "error", msg: "request rejected", status: 400, path: "/v3/registrations" });
    const env = await world({
      services: [{ name: "reg", namespace: "l", replicas: 1, logFormat: "json" }],
      observations: { reg: { logs: [{ fromMinutes: -5, everySeconds: 60, level: "error", message: scripted }] } },
    });
    const text = env
      .list(PODS, "l")
      .map((p) => env.podLog("l", p.metadata.name ?? "", {}))
      .join("\n");
    expect(text.split("\n")).toContain(scripted);
    const read = (await env.tailLogs("reg", 400)).filter((l) => l.level === "error").map((l) => l.message);
    expect(read).toContain("request rejected status=400");
  });

  it("rejects manifests of a kind it does not model, naming the supported kinds, and never stores a Secret's data", () => {
    const bad = EnvironmentSpecSchema.safeParse({ services: [{ name: "a" }], manifests: "apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: x }\n" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["manifests"]);
    expect(bad.error?.issues[0]?.message).toMatch(/kind "CronJob" is not supported; supported kinds: Node, ResourceQuota, HorizontalPodAutoscaler, Secret, Service, ConfigMap, StatefulSet/);
    const env = SimEnvironment.create({ services: [{ name: "a" }], manifests: "apiVersion: v1\nkind: Secret\nmetadata: { name: s }\nstringData: { token: hunter2 }\n" });
    expect(JSON.stringify(env.toJSON())).not.toContain("hunter2");
    expect(JSON.stringify(env.toJSON())).not.toContain(Buffer.from("hunter2").toString("base64"));
    expect(as<V1Secret>(env.get(SECRETS, "prod", "s")).metadata?.annotations?.["suture.dev/content-hash"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("keeps v1 fault lists working and rejects an unknown step kind with the list of kinds", () => {
    const bad = EnvironmentSpecSchema.safeParse({ services: [{ name: "a" }], faults: [{ kind: "cordn", atMinutes: 0, node: "x" }] });
    expect(bad.error?.issues[0]?.message).toMatch(/Invalid option: expected one of .*"cordon"\|"rotate-secret"/);
    expect(EnvironmentSpecSchema.safeParse({ services: [{ name: "a" }], faults: [{ kind: "scaled-to-zero", service: "a", atMinutes: -5 }] }).success).toBe(true);
  });
});
