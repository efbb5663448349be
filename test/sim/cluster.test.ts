import type { CoreV1Event, V1Deployment, V1Endpoints, V1NetworkPolicy, V1Pod, V1ReplicaSet, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeApiError, type KubeObject } from "../../environments/cluster-api/backend.js";
import { DEPLOYMENTS, ENDPOINTS, EVENTS, NETWORK_POLICIES, PODS, REPLICA_SETS, SERVICES } from "../../environments/simulator/kinds.js";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { summarizeSeries } from "../../evidence/metrics.js";

const MINUTE = 60_000;

/** An object the simulated API served, seen as the client-node model it is (timestamps are strings on the wire). */
function as<T>(object: KubeObject | undefined): T {
  if (object === undefined) throw new Error("object not found");
  return object as unknown as T;
}

async function world(spec: EnvironmentSpecInput, minutes = 0): Promise<SimEnvironment> {
  const env = SimEnvironment.create(spec);
  await env.advanceTo(env.startTime + minutes * MINUTE);
  return env;
}

async function errorRate(env: SimEnvironment, service: string): Promise<number> {
  return summarizeSeries(await env.queryMetric(service, "error_rate", 3))?.current ?? NaN;
}

const revisionOf = (rs: V1ReplicaSet): number => Number(rs.metadata?.annotations?.["deployment.kubernetes.io/revision"]);

function replicaSets(env: SimEnvironment, service: string): V1ReplicaSet[] {
  return env
    .list(REPLICA_SETS, "prod")
    .map((o) => as<V1ReplicaSet>(o))
    .filter((rs) => rs.metadata?.ownerReferences?.[0]?.name === service)
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

function podsOf(env: SimEnvironment, rs: V1ReplicaSet): V1Pod[] {
  return env
    .list(PODS, "prod")
    .map((o) => as<V1Pod>(o))
    .filter((p) => p.metadata?.ownerReferences?.[0]?.uid === rs.metadata?.uid);
}

const api: NonNullable<EnvironmentSpecInput["services"]>[number] = {
  name: "api",
  replicas: 4,
  image: "registry.internal/api:2.3.1",
  revisions: [{ image: "registry.internal/api:2.2.0", deployedAtMinutes: -20000 }],
};
const pair: EnvironmentSpecInput["services"] = [
  { name: "checkout", replicas: 4, dependencies: ["payments"] },
  { name: "payments", replicas: 3 },
];

describe("the simulated cluster's Kubernetes objects", () => {
  it("Given a world at t0, Then a Deployment's ReplicaSets carry its rollout history and the newest one's pods are selected by the Service's ready Endpoints", async () => {
    const env = await world({ services: [api] });
    const d = as<V1Deployment>(env.get(DEPLOYMENTS, "prod", "api"));
    expect(d.spec?.replicas).toBe(4);
    expect(d.spec?.selector.matchLabels).toEqual({ app: "api" });
    const container = d.spec?.template.spec?.containers[0];
    expect(container).toMatchObject({ name: "app", image: "registry.internal/api:2.3.1", ports: [{ containerPort: 8080 }], resources: { limits: { memory: "512Mi" } } });
    expect(container?.readinessProbe?.httpGet?.path).toBeDefined();

    const history = replicaSets(env, "api");
    expect(history.map(revisionOf)).toEqual([1, 2]);
    expect(history.map((rs) => rs.spec?.template?.spec?.containers[0]?.image)).toEqual(["registry.internal/api:2.2.0", "registry.internal/api:2.3.1"]);
    const [old, current] = history as [V1ReplicaSet, V1ReplicaSet];
    expect(current.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", name: "api", uid: d.metadata?.uid, controller: true });
    expect(current.metadata?.name).toBe(`api-${current.metadata?.labels?.["pod-template-hash"]}`);
    expect(current.metadata?.annotations?.["kubernetes.io/change-cause"]).toBe("deploy registry.internal/api:2.3.1");
    expect(old.spec?.replicas).toBe(0);
    expect(current.spec?.replicas).toBe(4);

    const pods = podsOf(env, current);
    expect(pods).toHaveLength(4);
    for (const pod of pods) {
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "ReplicaSet", name: current.metadata?.name });
      expect(pod.metadata?.labels?.["pod-template-hash"]).toBe(current.metadata?.labels?.["pod-template-hash"]);
      expect(pod.spec?.nodeName).toBeDefined();
      expect(pod.status?.phase).toBe("Running");
      expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
      expect(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }

    const svc = as<V1Service>(env.get(SERVICES, "prod", "api"));
    expect(svc.spec?.selector).toEqual({ app: "api" });
    expect(svc.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: 8080 });
    const endpoints = as<V1Endpoints>(env.get(ENDPOINTS, "prod", "api"));
    expect(endpoints.subsets?.[0]?.addresses?.map((a) => a.targetRef?.name).sort()).toEqual(pods.map((p) => p.metadata?.name).sort());
    expect(endpoints.subsets?.[0]?.ports?.[0]?.port).toBe(8080);
  });

  it("Given a rollout to an image the registry does not have, Then a new ReplicaSet's pods are in ImagePullBackOff with Failed and BackOff events", async () => {
    const env = await world({ services: [api], faults: [{ kind: "bad-rollout", service: "api", atMinutes: -10, params: { variant: "missing-image", version: "2.4.0" } }] });
    const history = replicaSets(env, "api");
    expect(history.map(revisionOf)).toEqual([1, 2, 3]);
    const bad = history[2] as V1ReplicaSet;
    expect(bad.spec?.template?.spec?.containers[0]?.image).toBe("registry.internal/api:2.4.0");
    const badPods = podsOf(env, bad);
    expect(badPods.length).toBeGreaterThan(0);
    for (const pod of badPods) {
      expect(pod.status?.phase).toBe("Pending");
      expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toMatch(/^(ImagePullBackOff|ErrImagePull)$/);
    }
    // The stalled rolling update keeps three of four old pods serving.
    expect(podsOf(env, history[1] as V1ReplicaSet).filter((p) => p.status?.containerStatuses?.[0]?.ready)).toHaveLength(3);
    const events = env.list(EVENTS, "prod").map((o) => as<CoreV1Event>(o));
    const about = (pod: V1Pod) => events.filter((e) => e.involvedObject.kind === "Pod" && e.involvedObject.name === pod.metadata?.name);
    const first = badPods[0] as V1Pod;
    expect(about(first).map((e) => e.reason)).toEqual(expect.arrayContaining(["Failed", "BackOff"]));
    expect(about(first).find((e) => e.reason === "Failed")?.message).toMatch(/^Failed to pull image "registry.internal\/api:2.4.0"/);
    expect(about(first).find((e) => e.reason === "BackOff")?.message).toBe('Back-off pulling image "registry.internal/api:2.4.0"');
    expect(about(first).find((e) => e.reason === "BackOff")?.count).toBeGreaterThan(1);
  });

  it("When the Deployment's template is set back to the old ReplicaSet's through the API (kubectl rollout undo), Then that ReplicaSet is re-used with the next revision and the pods become healthy", async () => {
    const env = await world({ services: [api], faults: [{ kind: "bad-rollout", service: "api", atMinutes: -10, params: { variant: "missing-image", version: "2.4.0" } }] });
    const [, good, bad] = replicaSets(env, "api") as [V1ReplicaSet, V1ReplicaSet, V1ReplicaSet];
    const d = as<V1Deployment>(env.get(DEPLOYMENTS, "prod", "api"));
    const template = structuredClone(good.spec?.template);
    delete template?.metadata?.labels?.["pod-template-hash"];
    if (d.spec === undefined || template === undefined) throw new Error("no spec");
    d.spec.template = template;
    const stored = as<V1Deployment>(env.apply({ verb: "update", object: d as unknown as KubeObject }, { dryRun: false }));
    expect(stored.metadata?.generation).toBe((d.metadata?.generation ?? 0) + 1);

    const after = replicaSets(env, "api");
    expect(after).toHaveLength(3);
    const reused = after.find((rs) => rs.metadata?.uid === good.metadata?.uid) as V1ReplicaSet;
    expect(revisionOf(reused)).toBe(4);
    expect(reused.metadata?.annotations?.["deployment.kubernetes.io/revision-history"]).toBe("2");
    expect((await env.deployHistory("api")).map((r) => r.revision)).toEqual([1, 3, 4]);

    await env.advanceBy(3 * MINUTE);
    const workload = await env.describeWorkload("api");
    expect(workload.deployment.currentRevision).toBe(4);
    expect(workload.pods).toHaveLength(4);
    expect(workload.pods.every((p) => p.ready && p.revision === 4)).toBe(true);
    expect(podsOf(env, bad)).toHaveLength(0);
    expect(as<V1ReplicaSet>(env.get(REPLICA_SETS, "prod", bad.metadata?.name ?? "")).spec?.replicas).toBe(0);
  });

  it("When the Service's targetPort is updated through the API, Then callers are refused; a dry run of the same update changes nothing", async () => {
    const env = await world({ services: pair });
    const svc = as<V1Service>(env.get(SERVICES, "prod", "payments"));
    const port = svc.spec?.ports?.[0];
    if (port === undefined) throw new Error("no port");
    port.targetPort = 9090;
    const before = JSON.stringify(env.toJSON());
    const preview = as<V1Service>(env.apply({ verb: "update", object: svc as unknown as KubeObject }, { dryRun: true }));
    expect(preview.spec?.ports?.[0]?.targetPort).toBe(9090);
    expect(JSON.stringify(env.toJSON())).toBe(before);

    env.apply({ verb: "update", object: svc as unknown as KubeObject }, { dryRun: false });
    expect((await env.describeWorkload("payments")).kubeService?.targetPort).toBe(9090);
    await env.advanceBy(3 * MINUTE);
    expect(await errorRate(env, "checkout")).toBeGreaterThan(0.3);
    expect((await env.tailLogs("checkout", 200)).some((l) => /ECONNREFUSED .*:9090/.test(l.message))).toBe(true);
  });

  it("When the NetworkPolicy denying a workload is deleted through the API, Then its callers' traffic flows again", async () => {
    const env = await world({ services: pair, faults: [{ kind: "network-policy-deny", service: "payments", atMinutes: -10, params: { policy: "deny" } }] });
    expect(as<V1NetworkPolicy>(env.get(NETWORK_POLICIES, "prod", "deny")).spec?.podSelector?.matchLabels).toEqual({ app: "payments" });
    expect(await errorRate(env, "checkout")).toBeGreaterThan(0.3);
    env.apply({ verb: "delete", type: NETWORK_POLICIES, namespace: "prod", name: "deny" }, { dryRun: false });
    expect(env.get(NETWORK_POLICIES, "prod", "deny")).toBeUndefined();
    await env.advanceBy(3 * MINUTE);
    expect(await errorRate(env, "checkout")).toBeLessThan(0.02);
  });

  it("When a change is sent with dryRun, Then the answer shows it applied and the world is unchanged", async () => {
    const env = await world({ services: [api] });
    const before = JSON.stringify(env.toJSON());
    const d = as<V1Deployment>(env.get(DEPLOYMENTS, "prod", "api"));
    if (d.spec === undefined) throw new Error("no spec");
    d.spec.replicas = 9;
    expect(as<V1Deployment>(env.apply({ verb: "update", object: d as unknown as KubeObject }, { dryRun: true })).spec?.replicas).toBe(9);
    const created = env.apply({ verb: "create", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "extra", namespace: "prod" }, data: { a: "1" } } }, { dryRun: true });
    expect(created.metadata.uid).toBeDefined();
    env.apply({ verb: "delete", type: SERVICES, namespace: "prod", name: "api" }, { dryRun: true });
    expect(JSON.stringify(env.toJSON())).toBe(before);
  });

  it("When a change cannot be made, Then the API error says why: 404 unknown, 409 already exists, 422 invalid", () => {
    const env = SimEnvironment.create({ services: [api] });
    const code = (f: () => unknown): number | undefined => {
      try {
        f();
      } catch (e) {
        if (e instanceof KubeApiError) return e.code;
        throw e;
      }
      return undefined;
    };
    expect(code(() => env.apply({ verb: "delete", type: DEPLOYMENTS, namespace: "prod", name: "nope" }, { dryRun: false }))).toBe(404);
    const d = env.get(DEPLOYMENTS, "prod", "api") as KubeObject;
    expect(code(() => env.apply({ verb: "create", object: d }, { dryRun: false }))).toBe(409);
    const broken = as<V1Deployment>(structuredClone(d));
    if (broken.spec === undefined) throw new Error("no spec");
    broken.spec.template.spec = { containers: [] };
    expect(code(() => env.apply({ verb: "update", object: broken as unknown as KubeObject }, { dryRun: false }))).toBe(422);
    expect(code(() => env.podLog("prod", "nope", {}))).toBe(404);
  });

  it("When a pod's log is read, Then it holds the lines the workload wrote from that pod, tailed", async () => {
    const env = await world({ services: [api], faults: [{ kind: "bad-rollout", service: "api", atMinutes: -10, params: { variant: "broken-env" } }] });
    const [, , bad] = replicaSets(env, "api") as [V1ReplicaSet, V1ReplicaSet, V1ReplicaSet];
    const pod = podsOf(env, bad)[0] as V1Pod;
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ reason: "Error", exitCode: 1 });
    const log = env.podLog("prod", pod.metadata?.name ?? "", { tailLines: 2 });
    const lines = log.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines[lines.length - 1]).toMatch(/FATAL config: invalid value for DATABASE_URL/);
  });
});
