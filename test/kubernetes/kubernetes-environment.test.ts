import { afterEach, describe, expect, test } from "vitest";
import { ConflictError, ForbiddenError, InvalidInputError } from "../../domain/errors.js";
import type { KubeObject } from "../../environments/cluster-api/backend.js";
import { RESOURCE_TYPES } from "../../environments/cluster-api/resource-types.js";
import { DELETED_POLICIES_ANNOTATION } from "../../environments/kubernetes/network-policies.js";
import { ACTIONS_ANNOTATION } from "../../environments/kubernetes/action-records.js";
import { RunbookActionMissingError, MetricsSourceMissingError } from "../../environments/kubernetes/signals.js";
import { NOW, shippedRules, startCluster, type ClusterOptions, type TestCluster } from "./cluster.js";

const type = (plural: string) => {
  const found = RESOURCE_TYPES.find((t) => t.plural === plural);
  if (found === undefined) throw new Error(`no type ${plural}`);
  return found;
};

let cluster: TestCluster | undefined;
async function given(options: ClusterOptions = {}): Promise<TestCluster> {
  cluster = await startCluster(options);
  return cluster;
}
afterEach(async () => {
  const c = cluster;
  cluster = undefined;
  await c?.close();
  // Every write any test made was sent as a dry run first.
  for (const [index, write] of (c?.seen ?? []).entries()) {
    if (write.method === "GET" || write.dryRun) continue;
    expect(
      c?.seen.slice(0, index).some((r) => r.dryRun && r.method === write.method && r.path === write.path),
      `${write.method} ${write.path} without a dry run first`,
    ).toBe(true);
  }
});

/** The object as the simulated cluster stores it now. */
function stored(c: TestCluster, plural: string, name: string): KubeObject {
  const object = c.backend.get(type(plural), "prod", name);
  if (object === undefined) throw new Error(`${plural}/${name} is not stored`);
  return object;
}

interface Template {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Array<{ image: string; resources: { limits: { memory: string } } }> };
}
const templateOf = (object: KubeObject): Template => (object["spec"] as { template: Template }).template;
const actionsOn = (object: KubeObject): Array<{ key: string; op: string; at: number }> =>
  JSON.parse(object.metadata.annotations?.[ACTIONS_ANNOTATION] ?? "[]") as Array<{ key: string; op: string; at: number }>;

describe("reads", () => {
  test("Given checkout mid-rollout, When Suture describes it, Then pods, revisions, events, Service, policies and ConfigMaps map from the API", async () => {
    const c = await given();
    const w = await c.adapter().describeWorkload("checkout");
    expect(w.deployment).toMatchObject({
      name: "checkout",
      namespace: "prod",
      desiredReplicas: 2,
      readyReplicas: 2,
      currentRevision: 2,
      image: "registry.example.com/checkout:1.4.1",
      memoryLimitMib: 512,
      containerPort: 8080,
      nodeArchitecture: "amd64",
    });
    expect(w.deployment.env).toEqual({ LOG_LEVEL: "info", DB_PASSWORD: "<from secret checkout-db>" });
    // startedAt is when the container last started (after an OOM kill, the restart), else when the pod did.
    expect(w.pods).toEqual([
      {
        name: "checkout-6b7f9d5c48-7kq4m",
        phase: "Running",
        ready: true,
        restarts: 1,
        lastTerminationReason: "OOMKilled",
        lastExitCode: 137,
        revision: 1,
        startedAt: Date.parse("2026-11-29T22:00:02Z"),
      },
      { name: "checkout-6b7f9d5c48-x2x9p", phase: "Running", ready: true, restarts: 0, revision: 1, startedAt: Date.parse("2026-11-20T10:00:10Z") },
      { name: "checkout-85d4c7b9f7-lmn8z", phase: "Pending", ready: false, reason: "ImagePullBackOff", restarts: 0, revision: 2, startedAt: Date.parse("2026-11-30T06:50:00Z") },
    ]);
    expect(w.events.map((e) => [e.object, e.type, e.reason, e.count])).toEqual([
      ["deployment/checkout", "Normal", "ScalingReplicaSet", 1],
      ["pod/checkout-85d4c7b9f7-lmn8z", "Warning", "Failed", 4],
      ["pod/checkout-85d4c7b9f7-lmn8z", "Normal", "BackOff", 12],
    ]);
    expect(w.kubeService).toEqual({ name: "checkout", port: 80, targetPort: 8080 });
    expect(w.networkPolicies).toEqual([
      { name: "checkout-allow-frontend", podSelector: "checkout", allowIngressFrom: ["frontend"], createdAt: Date.parse("2026-11-20T10:00:00Z"), managedBy: "", containment: "" },
      { name: "checkout-deny-all", podSelector: "checkout", allowIngressFrom: [], createdAt: Date.parse("2026-11-29T23:00:00Z"), managedBy: "", containment: "" },
    ]);
    expect(w.configMaps).toEqual([
      {
        name: "checkout-config",
        data: { PAYMENT_TIMEOUT_MS: "2000", FEATURE_NEW_CART: "false" },
        version: 1,
        updatedAt: NOW,
        history: [{ version: 1, data: { PAYMENT_TIMEOUT_MS: "2000", FEATURE_NEW_CART: "false" }, updatedAt: NOW }],
      },
    ]);
    expect([w.circuitBreakers, w.disks, w.consumerGroups, w.dependencies]).toEqual([[], [], [], []]);
  });

  test("Given no Secret access in Suture's role, When it describes a workload using a Secret, Then it reads no Secret and shows the reference by name", async () => {
    const c = await given({ rules: shippedRules() });
    const w = await c.adapter().describeWorkload("prod/checkout");
    expect(w.deployment.env["DB_PASSWORD"]).toBe("<from secret checkout-db>");
    expect(c.seen.some((r) => r.path.includes("/secrets"))).toBe(false);
  });

  test("Given two ReplicaSets, When Suture reads the deploy history, Then each revision has its image, env, memory and CPU limits, time and change cause", async () => {
    const c = await given();
    expect(await c.adapter().deployHistory("checkout")).toEqual([
      {
        revision: 1,
        image: "registry.example.com/checkout:1.4.0",
        env: { LOG_LEVEL: "info", DB_PASSWORD: "<from secret checkout-db>" },
        memoryLimitMib: 256,
        cpuLimitCores: 0,
        deployedAt: Date.parse("2026-11-20T10:00:00Z"),
        changeCause: "initial release 1.4.0",
        changedFields: [],
      },
      {
        revision: 2,
        image: "registry.example.com/checkout:1.4.1",
        env: { LOG_LEVEL: "info", DB_PASSWORD: "<from secret checkout-db>" },
        memoryLimitMib: 512,
        cpuLimitCores: 0,
        deployedAt: Date.parse("2026-11-30T06:50:00Z"),
        changeCause: "bump to 1.4.1",
        // The new image and a memory limit raised from 256Mi: resources changed, memory among them.
        changedFields: ["image", "memory", "resources"],
      },
    ]);
  });

  test("Given pod logs, When Suture tails them, Then lines carry the server's timestamps, their pod and a level from JSON, logfmt or keywords", async () => {
    const c = await given({ rules: shippedRules() });
    const lines = await c.adapter().tailLogs("checkout", 10);
    expect(lines.map((l) => [l.pod, l.level, l.t])).toEqual([
      ["checkout-6b7f9d5c48-7kq4m", "warn", NOW],
      ["checkout-6b7f9d5c48-x2x9p", "info", NOW],
      ["checkout-6b7f9d5c48-x2x9p", "error", NOW],
    ]);
    expect(lines[2]?.message).toContain("payment gateway timeout");
    expect(await c.adapter().tailLogs("checkout", 1)).toHaveLength(1);
  });

  test("Given no metrics source, When Suture asks for metrics, Then ready_replicas comes from the status and others fail naming what to configure", async () => {
    const c = await given();
    const env = c.adapter();
    expect(await env.queryMetric("checkout", "ready_replicas", 10)).toEqual({ service: "checkout", metric: "ready_replicas", points: [{ t: NOW, v: 2 }] });
    await expect(env.queryMetric("checkout", "error_rate", 10)).rejects.toThrow(MetricsSourceMissingError);
    await expect(env.queryMetric("checkout", "error_rate", 10)).rejects.toThrow(/no metrics source configured for error_rate; set PROMETHEUS_URL/);
    await expect(env.consumerLag("checkout")).rejects.toThrow(/no metrics source configured for consumer_lag/);
  });

  test("Given the namespace, When Suture lists services, Then it lists the Deployments in scope; an unknown one names those it knows", async () => {
    const c = await given();
    const env = c.adapter();
    expect(await env.listServices()).toEqual(["checkout", "frontend", "prod/statefulset/ledger"]);
    await expect(env.describeWorkload("payments")).rejects.toThrow(/unknown Deployment in namespace prod "payments"; known: checkout, frontend/);
    await expect(env.describeWorkload("a/b/c/d")).rejects.toThrow(InvalidInputError);
  });
});

describe("other workload kinds and sources", () => {
  test("Given a StatefulSet, When Suture describes and scales it, Then its pods and limits map and the scale goes through statefulsets/scale", async () => {
    const c = await given({ rules: shippedRules() });
    const env = c.adapter();
    const w = await env.describeWorkload("prod/statefulset/ledger");
    expect(w.deployment).toMatchObject({ name: "ledger", desiredReplicas: 1, readyReplicas: 1, currentRevision: 3, memoryLimitMib: 2048, cpuLimitCores: 0.5, containerPort: 5432 });
    expect(w.pods.map((p) => [p.name, p.ready, p.revision])).toEqual([["ledger-0", true, 3]]);
    expect(await env.deployHistory("prod/sts/ledger")).toEqual([]);
    await env.scale("prod/sts/ledger", 3, "k-sts");
    expect((stored(c, "statefulsets", "ledger")["spec"] as { replicas: number }).replicas).toBe(3);
    expect(c.writes().map((r) => r.path)).toEqual(["/apis/apps/v1/namespaces/prod/statefulsets/ledger/scale", "/apis/apps/v1/namespaces/prod/statefulsets/ledger"]);
    await expect(env.rolloutUndo("prod/sts/ledger", 1, "k")).rejects.toThrow(/only Deployments keep their revisions in ReplicaSets/);
  });

  test("Given an HPA, When Suture moves its bounds, Then min/max change with a record, once per key", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().patchAutoscaler("prod", "frontend", { minReplicas: 4, maxReplicas: 10 }, "k-hpa");
    await c.adapter().patchAutoscaler("prod", "frontend", { minReplicas: 4, maxReplicas: 10 }, "k-hpa");
    const hpa = stored(c, "horizontalpodautoscalers", "frontend");
    expect(hpa["spec"]).toMatchObject({ minReplicas: 4, maxReplicas: 10 });
    expect(actionsOn(hpa).map((a) => a.key)).toEqual(["k-hpa"]);
    expect(c.writes()).toHaveLength(1);
    expect((await c.adapter().appliedChange("k-hpa"))?.operation).toBe("patchAutoscalerBounds");
  });

  test("Given a signals source and runbook actions, When Suture reads and acts, Then metrics and signal parts come from the source and actions run with the workload ref", async () => {
    const c = await given();
    const calls: string[] = [];
    const env = c.adapter({
      signals: {
        queryMetric: async (ref, metric) => ({ service: ref.name, metric, points: [{ t: NOW, v: 0.25 }] }),
        consumerLag: async () => [{ topic: "orders", group: "checkout", partitions: [], totalLag: 0, dlqDepth: 0 }],
        disks: async () => {
          throw new Error("prometheus unreachable");
        },
        circuitBreakers: async (ref) => [{ from: ref.name, to: "payments", state: "open", openedAt: NOW }],
        dependencies: async () => ["payments"],
      },
      runbookActions: {
        cleanLogs: async (ref, mount, key) => {
          calls.push(`${ref.namespace}/${ref.name}:${mount}:${key}`);
        },
      },
    });
    expect((await env.queryMetric("checkout", "error_rate", 5)).points).toEqual([{ t: NOW, v: 0.25 }]);
    const w = await env.describeWorkload("checkout");
    expect(w.circuitBreakers).toEqual([{ from: "checkout", to: "payments", state: "open", openedAt: NOW }]);
    expect([w.disks, w.dependencies, w.consumerGroups.map((g) => g.topic)]).toEqual([[], ["payments"], ["orders"]]);
    await env.cleanLogs("checkout", "/var/log", "k-clean");
    expect(calls).toEqual(["prod/checkout:/var/log:k-clean"]);
    await expect(env.resetCircuitBreaker("checkout", "payments", "k")).rejects.toThrow(/resetCircuitBreaker is not a Kubernetes API operation/);
  });
});

describe("operations", () => {
  test("Given revision 2 is bad, When Suture rolls back to revision 1, Then the template becomes revision 1's without the pod-template-hash label, recorded under the key", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().rolloutUndo("checkout", 1, "inc-1:act:rollback");
    const deployment = stored(c, "deployments", "checkout");
    const rs1 = templateOf(stored(c, "replicasets", "checkout-6b7f9d5c48"));
    const labels = { ...rs1.metadata.labels };
    delete labels["pod-template-hash"];
    expect(templateOf(deployment)).toEqual({ ...rs1, metadata: { ...rs1.metadata, labels } });
    expect(templateOf(deployment).spec.containers[0]?.image).toBe("registry.example.com/checkout:1.4.0");
    expect(actionsOn(deployment)).toEqual([{ key: "inc-1:act:rollback", op: "rolloutUndo", at: NOW }]);
    expect(c.seen.filter((r) => r.method === "PATCH").map((r) => r.dryRun)).toEqual([true, false]);
  });

  test("Given an unknown revision, When Suture rolls back to it, Then it names the revisions there are and sends nothing", async () => {
    const c = await given();
    await expect(c.adapter().rolloutUndo("checkout", 7, "k")).rejects.toThrow(/unknown revision of checkout "7"; known: 1, 2/);
    expect(c.writes()).toEqual([]);
  });

  test("Given Suture's role, When it scales, Then it patches the scale subresource and records the action on the Deployment", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().scale("checkout", 4, "inc-1:act:scale");
    const deployment = stored(c, "deployments", "checkout");
    expect((deployment["spec"] as { replicas: number }).replicas).toBe(4);
    expect(actionsOn(deployment)).toEqual([{ key: "inc-1:act:scale", op: "scale", at: NOW }]);
    expect(c.writes().map((r) => r.path)).toEqual(["/apis/apps/v1/namespaces/prod/deployments/checkout/scale", "/apis/apps/v1/namespaces/prod/deployments/checkout"]);
  });

  test("Given Suture's role, When it restarts pods, Then the template carries kubectl's restartedAt annotation", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().restartPods("checkout", "inc-1:act:restart");
    const deployment = stored(c, "deployments", "checkout");
    expect(templateOf(deployment).metadata.annotations).toEqual({ "kubectl.kubernetes.io/restartedAt": new Date(NOW).toISOString() });
    expect(actionsOn(deployment).map((a) => a.op)).toEqual(["restartPods"]);
  });

  test("Given Suture's role, When it sets the memory limit, Then the first container's limits.memory is <n>Mi", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().setMemoryLimit("checkout", 1024, "inc-1:act:mem");
    expect(templateOf(stored(c, "deployments", "checkout")).spec.containers[0]?.resources.limits.memory).toBe("1024Mi");
    expect((await c.adapter().describeWorkload("checkout")).deployment.memoryLimitMib).toBe(1024);
  });

  test("Given Suture's role, When it re-targets the Service, Then the Service's first port points at the new targetPort, recorded on the Service", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().patchServiceTargetPort("checkout", 9090, "inc-1:act:port");
    const service = stored(c, "services", "checkout");
    expect((service["spec"] as { ports: Array<{ targetPort: number }> }).ports[0]?.targetPort).toBe(9090);
    expect(actionsOn(service).map((a) => a.op)).toEqual(["patchServiceTargetPort"]);
  });

  test("Given a deny-all policy, When Suture deletes it and later (in a new process) restores it, Then the original manifest is recreated, annotations and all", async () => {
    const c = await given({ rules: shippedRules() });
    const before = await c.adapter().describeWorkload("checkout");
    const summary = before.networkPolicies.find((p) => p.name === "checkout-deny-all");
    if (summary === undefined) throw new Error("fixture lacks checkout-deny-all");
    const original = stored(c, "networkpolicies", "checkout-deny-all");
    await c.adapter().deleteNetworkPolicy("checkout-deny-all", "inc-1:act:netpol");
    expect(c.backend.get(type("networkpolicies"), "prod", "checkout-deny-all")).toBeUndefined();
    expect(stored(c, "deployments", "checkout").metadata.annotations?.[DELETED_POLICIES_ANNOTATION]).toContain("checkout-deny-all");
    expect(await c.adapter().appliedChange("inc-1:act:netpol")).toEqual({ idempotencyKey: "inc-1:act:netpol", operation: "deleteNetworkPolicy", at: NOW });

    await c.adapter().restoreNetworkPolicy(summary, "inc-1:rollback:netpol");
    const restored = stored(c, "networkpolicies", "checkout-deny-all");
    expect(restored["spec"]).toEqual(original["spec"]);
    expect(restored.metadata.annotations?.["owner"]).toBe("platform-team");
    expect(actionsOn(restored).map((a) => a.op)).toEqual(["restoreNetworkPolicy"]);
    expect((await c.adapter().describeWorkload("checkout")).networkPolicies.find((p) => p.name === "checkout-deny-all")?.allowIngressFrom).toEqual([]);
  });

  test("Given a recorded ConfigMap version, When the data changes and Suture reverts to that version, Then the data is the recorded one and becomes a new version", async () => {
    const c = await given({ rules: shippedRules() });
    const env = c.adapter();
    await env.describeWorkload("checkout");
    const cm = stored(c, "configmaps", "checkout-config");
    c.backend.apply({ verb: "update", object: { ...cm, data: { PAYMENT_TIMEOUT_MS: "200", FEATURE_NEW_CART: "true" } } }, { dryRun: false });
    const changed = (await env.describeWorkload("checkout")).configMaps[0];
    expect(changed?.version).toBe(2);
    await env.revertConfigMap("checkout-config", 1, "inc-1:act:cm");
    expect(stored(c, "configmaps", "checkout-config")["data"]).toEqual({ PAYMENT_TIMEOUT_MS: "2000", FEATURE_NEW_CART: "false" });
    const after = (await env.describeWorkload("checkout")).configMaps[0];
    expect(after?.version).toBe(3);
    expect(after?.history.map((h) => h.data["PAYMENT_TIMEOUT_MS"])).toEqual(["2000", "200", "2000"]);
    await expect(env.revertConfigMap("checkout-config", 9, "k2")).rejects.toThrow(/unknown recorded version of config map prod\/checkout-config "9"; known: 1, 2, 3/);
  });

  test("Given no runbook action, When Suture would skip a message, clean logs or reset a breaker, Then it refuses naming the action to declare", async () => {
    const c = await given();
    const env = c.adapter();
    await expect(env.skipMessageToDlq("orders", "g", 0, 1, "k")).rejects.toThrow(RunbookActionMissingError);
    await expect(env.cleanLogs("checkout", "/data", "k")).rejects.toThrow(/cleanLogs is not a Kubernetes API operation.*declare it as a runbook action/);
    await expect(env.resetCircuitBreaker("checkout", "payments", "k")).rejects.toThrow(ForbiddenError);
    expect(c.seen).toEqual([]);
  });
});

describe("refusals", () => {
  test("Given a role without deployments/scale, When Suture scales, Then ForbiddenError names the verb, resource and namespace, and nothing changed", async () => {
    const c = await given({ rules: shippedRules((yaml) => yaml.replace("resources: [deployments/scale, statefulsets/scale]", "resources: [statefulsets/scale]")) });
    const error = await c
      .adapter()
      .scale("checkout", 5, "k")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toBe(
      'Kubernetes RBAC refused: cannot patch deployments.apps/scale in namespace "prod" — add that verb to Suture\'s role (deploy/kubernetes/rbac.yaml); nothing was changed',
    );
    expect(c.writes()).toEqual([]);
    expect((stored(c, "deployments", "checkout")["spec"] as { replicas: number }).replicas).toBe(2);
  });

  test("Given a role without networkpolicies delete, When Suture deletes a policy, Then ForbiddenError names delete on networkpolicies and nothing changed (no manifest kept either)", async () => {
    const c = await given({ rules: shippedRules((yaml) => yaml.replace("verbs: [create, delete]", "verbs: [create]")) });
    await expect(c.adapter().deleteNetworkPolicy("checkout-deny-all", "k")).rejects.toThrow(
      'Kubernetes RBAC refused: cannot delete networkpolicies.networking.k8s.io in namespace "prod" — add that verb to Suture\'s role (deploy/kubernetes/rbac.yaml); nothing was changed',
    );
    expect(c.writes()).toEqual([]);
    expect(stored(c, "networkpolicies", "checkout-deny-all")).toBeDefined();
  });

  test("Given a scale the API server's validation refuses, When Suture scales, Then the dry run stops it with the server's reason and nothing is sent for real", async () => {
    const c = await given({ rules: shippedRules() });
    const error = await c
      .adapter()
      .scale("checkout", -1, "k")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/dry-run rejected by the API server: .*spec\.replicas: Invalid value: -1: must be greater than or equal to 0; nothing was changed/);
    expect(c.writes()).toEqual([]);
    expect(c.seen.filter((r) => r.method === "PATCH").map((r) => r.dryRun)).toEqual([true]);
  });
});

describe("conflicts", () => {
  /** Someone else writes checkout's template right before Suture's first PATCH reaches the server. */
  function otherWriterSets(template: (c: TestCluster) => Template): ClusterOptions["beforeRequest"] {
    let done = false;
    return (request) => {
      if (done || request.method !== "PATCH" || cluster === undefined) return;
      done = true;
      const deployment = stored(cluster, "deployments", "checkout");
      cluster.backend.apply({ verb: "update", object: { ...deployment, spec: { ...(deployment["spec"] as object), template: template(cluster) } } }, { dryRun: false });
    };
  }
  /** Revision 1's template as `kubectl rollout undo` writes it (without pod-template-hash). */
  function revisionOneTemplate(c: TestCluster): Template {
    const rs1 = structuredClone(templateOf(stored(c, "replicasets", "checkout-6b7f9d5c48")));
    delete rs1.metadata.labels["pod-template-hash"];
    return rs1;
  }

  test("Given someone changes the image between Suture's read and write, When the patch meets 409, Then Suture re-reads, names what changed and does not retry", async () => {
    const c = await given({
      rules: shippedRules(),
      beforeRequest: otherWriterSets((cl) => {
        const template = structuredClone(templateOf(stored(cl, "deployments", "checkout")));
        const container = template.spec.containers[0];
        if (container !== undefined) container.image = "registry.example.com/checkout:1.4.2";
        return template;
      }),
    });
    const error = await c
      .adapter()
      .rolloutUndo("checkout", 1, "k")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/spec\.template\.spec\.containers\[0\]\.image: "registry\.example\.com\/checkout:1\.4\.1" → "registry\.example\.com\/checkout:1\.4\.2"/);
    expect(c.seen.filter((r) => r.method === "PATCH")).toHaveLength(1);
    expect(templateOf(stored(c, "deployments", "checkout")).spec.containers[0]?.image).toBe("registry.example.com/checkout:1.4.2");
  });

  test("Given someone else already rolled back to the target between read and write, When the patch meets 409, Then Suture re-validates and succeeds without changing anything", async () => {
    const c = await given({ rules: shippedRules(), beforeRequest: otherWriterSets(revisionOneTemplate) });
    await c.adapter().rolloutUndo("checkout", 1, "k");
    const after = stored(c, "deployments", "checkout");
    expect(c.seen.filter((r) => r.method === "PATCH")).toHaveLength(1);
    expect(c.writes()).toEqual([]);
    expect(templateOf(after).spec.containers[0]?.image).toBe("registry.example.com/checkout:1.4.0");
    expect(actionsOn(after)).toEqual([]);
  });
});

describe("idempotency across processes", () => {
  test("Given an act applied by a process that then died, When a new process checks the key and retries, Then appliedChange finds it and nothing is applied twice", async () => {
    const c = await given({ rules: shippedRules() });
    await c.adapter().rolloutUndo("checkout", 1, "inc-9:act:rollback");
    const afterFirst = stored(c, "deployments", "checkout").metadata.resourceVersion;
    const writesAfterFirst = c.writes().length;

    const restarted = c.adapter();
    expect(await restarted.appliedChange("inc-9:act:rollback")).toEqual({ idempotencyKey: "inc-9:act:rollback", operation: "rolloutUndo", at: NOW });
    expect(await restarted.appliedChange("inc-9:act:other")).toBeUndefined();
    await restarted.rolloutUndo("checkout", 1, "inc-9:act:rollback");
    await restarted.restartPods("checkout", "inc-9:act:restart");
    await c.adapter().restartPods("checkout", "inc-9:act:restart");
    expect(c.writes().length).toBe(writesAfterFirst + 1);
    expect(Number(stored(c, "deployments", "checkout").metadata.resourceVersion)).toBe(Number(afterFirst) + 1);
    expect(actionsOn(stored(c, "deployments", "checkout")).map((a) => a.key)).toEqual(["inc-9:act:rollback", "inc-9:act:restart"]);
  });

  test("Given scale, port, ConfigMap and delete acts applied by a dead process, When a new process asks, Then each is found on the cluster", async () => {
    const c = await given({ rules: shippedRules() });
    const first = c.adapter();
    await first.describeWorkload("checkout");
    await first.scale("checkout", 3, "k-scale");
    await first.patchServiceTargetPort("checkout", 9090, "k-port");
    await first.deleteNetworkPolicy("checkout-allow-frontend", "k-del");
    const cm = stored(c, "configmaps", "checkout-config");
    c.backend.apply({ verb: "update", object: { ...cm, data: { PAYMENT_TIMEOUT_MS: "1" } } }, { dryRun: false });
    await first.revertConfigMap("checkout-config", 1, "k-cm");
    const restarted = c.adapter();
    expect((await restarted.appliedChange("k-cm"))?.operation).toBe("revertConfigMap");
    expect((await restarted.appliedChange("k-scale"))?.operation).toBe("scale");
    expect((await restarted.appliedChange("k-port"))?.operation).toBe("patchServiceTargetPort");
    expect((await restarted.appliedChange("k-del"))?.operation).toBe("deleteNetworkPolicy");
    const writes = c.writes().length;
    await restarted.scale("checkout", 3, "k-scale");
    await restarted.patchServiceTargetPort("checkout", 9090, "k-port");
    await restarted.deleteNetworkPolicy("checkout-allow-frontend", "k-del");
    await restarted.revertConfigMap("checkout-config", 1, "k-cm");
    expect(c.writes().length).toBe(writes);
  });

  test("Given a process that kept a policy's manifest but died before deleting it, When a new process asks and retries, Then it is not yet applied, and the retry deletes it once", async () => {
    let failDelete = true;
    const c = await given({
      rules: shippedRules(),
      answerInstead: (request) => {
        if (!failDelete || request.method !== "DELETE" || request.dryRun) return undefined;
        failDelete = false;
        return { status: 503, body: { kind: "Status", apiVersion: "v1", status: "Failure", code: 503, reason: "ServiceUnavailable", message: "connection lost" } };
      },
    });
    await expect(c.adapter().deleteNetworkPolicy("checkout-deny-all", "k-del")).rejects.toThrow(/connection lost/);
    expect(stored(c, "deployments", "checkout").metadata.annotations?.[DELETED_POLICIES_ANNOTATION]).toContain("k-del");
    const restarted = c.adapter();
    expect(await restarted.appliedChange("k-del")).toBeUndefined();
    await restarted.deleteNetworkPolicy("checkout-deny-all", "k-del");
    expect(c.backend.get(type("networkpolicies"), "prod", "checkout-deny-all")).toBeUndefined();
    expect((await c.adapter().appliedChange("k-del"))?.operation).toBe("deleteNetworkPolicy");
    expect(c.writes().filter((r) => r.method === "DELETE")).toHaveLength(2);
  });
});
