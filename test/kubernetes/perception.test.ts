import { readFileSync } from "node:fs";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, test } from "vitest";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { startClusterApiServer } from "../../environments/cluster-api/server.js";
import { KubernetesEnvironment } from "../../environments/kubernetes/kubernetes-environment.js";
import { templateChanges } from "../../environments/kubernetes/perception.js";
import type { WorkloadSignals } from "../../environments/kubernetes/signals.js";
import type { WorkloadRef } from "../../environments/kubernetes/workload-ref.js";
import { extractEvidence } from "../../evidence/extract.js";
import { makeAlert } from "../helpers/factories.js";
import { ROOT } from "../helpers/cli.js";
import { loadScenario } from "../../app/scenario.js";
import { SimEnvironment } from "../../environments/simulator/sim-environment.js";
import type { EnvironmentAdapter } from "../../environments/adapter.js";
import type { ToolCall } from "../../domain/model.js";
import { createDefaultRegistry } from "../../tools/registry.js";
import { FixedClock, NOW, shippedRules, SUTURE_USER } from "./cluster.js";

/** Dependencies as a signals source would report them (the API server does not know who calls whom). */
const signals: WorkloadSignals = {
  queryMetric: async (ref, metric) => ({ service: ref.name, metric, points: [] }),
  consumerLag: async () => [],
  disks: async () => [],
  circuitBreakers: async () => [],
  dependencies: async (ref: WorkloadRef) => (ref.name === "api" ? ["db", "payments"] : []),
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** The perception fixture behind the API server with Suture's shipped RBAC, read by the real client. */
async function adapter(): Promise<KubernetesEnvironment> {
  const backend = MemoryClusterBackend.fromManifests(readFileSync("test/fixtures/kubernetes/perception.yaml", "utf8"), { now: () => new Date(NOW) });
  const api = await startClusterApiServer({ backend, rbac: { rules: shippedRules(), user: SUTURE_USER } });
  close = () => api.close();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(api.kubeconfig({ namespace: "prod" }));
  return new KubernetesEnvironment({ kubeConfig, namespace: "prod", clock: new FixedClock(), signals });
}

describe("perception of the objects around a workload, over HTTP with client-node", () => {
  test("Given two ReplicaSets whose templates differ in command, readiness probe and DNS, When the history is read, Then the new revision lists exactly those fields", async () => {
    const env = await adapter();
    const history = await env.deployHistory("api");
    expect(history.map((r) => [r.revision, r.changedFields])).toEqual([
      [1, []],
      [2, ["command", "dnsConfig", "dnsPolicy", "readinessProbe"]],
    ]);
  });

  test("Given a Pending pod with PodScheduled=False, When described, Then its reason is Unschedulable and the nodes show the cordoned and not-ready ones", async () => {
    const w = await (await adapter()).describeWorkload("api");
    expect(w.kind).toBe("Deployment");
    const pending = w.pods.find((p) => p.name === "api-7c9d6b5f48-ccccc");
    expect(pending).toMatchObject({ phase: "Pending", ready: false, reason: "Unschedulable", revision: 2 });
    expect(w.nodes).toEqual({ total: 2, cordoned: ["node-1"], notReady: ["node-2"] });
    // Running but not ready, with its last exit code
    expect(w.pods.find((p) => p.name === "api-7c9d6b5f48-bbbbb")).toMatchObject({ phase: "Running", ready: false, lastTerminationReason: "Error", lastExitCode: 2 });
    expect(w.pods.find((p) => p.name === "api-7c9d6b5f48-bbbbb")?.reason).toBeUndefined();
  });

  test("Given warning events on pods and the ReplicaSet, When described, Then FailedScheduling, FailedCreate, Unhealthy and Killing are kept with their messages", async () => {
    const w = await (await adapter()).describeWorkload("api");
    // Oldest first (FailedCreate and Killing happened at the same instant)
    expect(w.events.map((e) => [e.object, e.reason]).sort()).toEqual([
      ["pod/api-7c9d6b5f48-bbbbb", "Killing"],
      ["pod/api-7c9d6b5f48-bbbbb", "Unhealthy"],
      ["pod/api-7c9d6b5f48-ccccc", "FailedScheduling"],
      ["replicaset/api-7c9d6b5f48", "FailedCreate"],
    ]);
    expect(w.events.map((e) => e.reason).slice(2)).toEqual(["FailedScheduling", "Unhealthy"]);
    expect(w.events.find((e) => e.reason === "FailedCreate")?.message).toMatch(/exceeded quota: compute/);
  });

  test("Given Services, an HPA at its maximum, a used-up quota and dependencies, When described, Then each is reported as the cluster has it", async () => {
    const w = await (await adapter()).describeWorkload("api");
    expect(w.services).toEqual([
      { name: "api", selector: { app: "api-v2" }, selectedPods: 0, selectsWorkload: false, readyEndpoints: 0, notReadyEndpoints: 0, createdAt: Date.parse("2026-11-20T10:00:00Z") },
      { name: "api-internal", selector: { app: "api" }, selectedPods: 3, selectsWorkload: true, readyEndpoints: 1, notReadyEndpoints: 1, createdAt: Date.parse("2026-11-20T10:00:00Z") },
    ]);
    expect(w.autoscaler).toEqual({
      name: "api",
      minReplicas: 1,
      maxReplicas: 2,
      currentReplicas: 2,
      desiredReplicas: 2,
      atMax: true,
      scalingLimited: true,
      limitedSince: Date.parse("2026-11-30T06:40:00Z"),
      // No ScalingActive condition: it computes a count.
      scalingActive: true,
      inactiveReason: "",
    });
    expect(w.quotas).toEqual([
      {
        name: "compute",
        resources: [
          { resource: "limits.memory", hard: "8Gi", used: "768Mi", full: false },
          { resource: "pods", hard: "3", used: "3", full: true },
          { resource: "requests.cpu", hard: "4", used: "1500m", full: false },
        ],
      },
    ]);
    expect(w.dependencyServices).toEqual([
      { dependency: "db", namespace: "prod", service: "db", exists: true, readyEndpoints: 1 },
      { dependency: "payments", namespace: "prod", service: "payments", exists: false, readyEndpoints: 0 },
    ]);
  });

  test("Given a StatefulSet, When described, Then its kind says so and it has no Deployment revisions", async () => {
    const env = await adapter();
    const w = await env.describeWorkload("prod/statefulset/db");
    expect(w.kind).toBe("StatefulSet");
    expect(w.autoscaler).toBeUndefined();
    expect(w.nodes).toBeUndefined();
    expect(await env.deployHistory("prod/statefulset/db")).toEqual([]);
  });

  test("Given the described workload, When evidence is extracted, Then the facts name the changes, the lost selector, the missing Service, the HPA, the quota and the unschedulable pod", async () => {
    const env = await adapter();
    const [workload, deploys] = await Promise.all([env.describeWorkload("api"), env.deployHistory("api")]);
    const { evidence } = extractEvidence(
      makeAlert({ service: "api" }),
      [{ service: "api", role: "alerting", workload, deploys, metrics: {}, logs: [], consumerGroups: [] }],
      { firing: 1, resolved: 0, windowMinutes: 60 },
      NOW,
    );
    const of = (key: string) => evidence.filter((e) => e.key === key).map((e) => ({ value: e.value, ...e.attrs }));
    expect(of("deploy.latest")[0]).toMatchObject({ value: 10, changes: "command,dnsConfig,dnsPolicy,readinessProbe", previous_revision: 1 });
    expect(of("workload.kind")).toEqual([{ value: "Deployment" }]);
    expect(of("pod.not_ready")).toEqual([{ value: 1, revision: 2 }]);
    expect(of("service.selects")).toContainEqual(expect.objectContaining({ value: 0, kube_service: "api", selects_workload: false, selected_pods: 0, workload_ready_pods: 1 }));
    expect(of("dependency.service_missing")).toEqual([{ value: "payments", kube_service: "payments", namespace: "prod" }]);
    expect(of("hpa.at_max")).toEqual([{ value: 20, hpa: "api", min: 1, max: 2, current: 2, desired: 2, scaling_limited: true, pinned: false, wants_more: true }]);
    expect(of("quota.exceeded")).toEqual([{ value: "pods", quota: "compute", used: "3", hard: "3" }]);
    expect(of("pod.unschedulable")).toEqual([expect.objectContaining({ value: 1, cordoned: "node-1", not_ready: "node-2", message: expect.stringMatching(/were unschedulable/) as unknown })]);
  });
});

describe("template changes", () => {
  test("Given two templates equal up to key order, When diffed, Then nothing changed; a new env var, args and a second container are named", () => {
    const a = { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "app", image: "x:1", resources: { limits: { memory: "256Mi", cpu: "1" } } }] } };
    const reordered = { spec: { containers: [{ resources: { limits: { cpu: "1", memory: "256Mi" } }, image: "x:1", name: "app" }] }, metadata: { labels: { app: "x" } } };
    expect(templateChanges(reordered, a)).toEqual([]);
    const b = {
      spec: {
        containers: [
          { name: "app", image: "x:1", args: ["--v=2"], env: [{ name: "A", value: "1" }], resources: { limits: { memory: "512Mi", cpu: "1" } } },
          { name: "proxy", image: "envoy" },
        ],
      },
    };
    expect(templateChanges(b, a)).toEqual(["args", "containers", "env", "memory", "resources"]);
  });
});

describe("set_service_selector", () => {
  const registry = createDefaultRegistry();

  async function act(env: EnvironmentAdapter, call: ToolCall, key: string): Promise<ToolCall | undefined> {
    const tool = registry.get(call.tool);
    const parsed = registry.parseCall(call);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(await tool.validateLive?.(parsed.params, env)).toEqual({ ok: true });
    const before = await tool.captureBefore?.(parsed.params, env);
    await tool.run(parsed.params, env, key);
    return tool.rollback?.(parsed.params, before);
  }

  test("Given a Service whose selector lost the pods, When set_service_selector runs over the API and then its rollback, Then the Service selects the workload's pods and then its old selector again", async () => {
    const env = await adapter();
    // When the tool points the Service back at the workload's own selector
    const rollback = await act(env, { tool: "set_service_selector", params: { service: "api", kubeService: "api" } }, "sel-1");
    // Then it selects the workload's three pods
    const after = (await env.describeWorkload("api")).services?.find((s) => s.name === "api");
    expect(after).toMatchObject({ selector: { app: "api" }, selectsWorkload: true, selectedPods: 3 });
    // And running the same key again changes nothing; a second call for the same selector is refused as done
    await env.setServiceSelector("api", "api", { app: "api" }, "sel-1");
    const tool = registry.get("set_service_selector");
    expect(await tool.validateLive?.({ service: "api", kubeService: "api" }, env)).toMatchObject({ ok: false, reason: expect.stringMatching(/already selects app=api/) as unknown });
    // When the rollback runs, Then the old selector is back
    expect(rollback).toEqual({ tool: "set_service_selector", params: { service: "api", kubeService: "api", selector: { app: "api-v2" } } });
    const parsed = registry.parseCall(rollback!);
    if (!parsed.ok) throw new Error(parsed.error);
    await tool.run(parsed.params, env, "sel-1:rollback");
    expect((await env.describeWorkload("api")).services?.find((s) => s.name === "api")?.selector).toEqual({ app: "api-v2" });
    expect(await env.appliedChange("sel-1")).toMatchObject({ operation: "setServiceSelector" });
  });

  test("Given a workload an HPA scales, When scale_deployment is validated, Then it is refused naming the HPA", async () => {
    const env = await adapter();
    expect(await registry.get("scale_deployment").validateLive?.({ service: "api", replicas: 4 }, env)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/HorizontalPodAutoscaler api scales api/) as unknown,
    });
    // A workload without an HPA can still be scaled
    expect(await registry.get("scale_deployment").validateLive?.({ service: "prod/statefulset/db", replicas: 2 }, env)).toEqual({ ok: true });
  });

  test("Given a Service that is not in front of the workload, or an empty selector, When set_service_selector is validated or run, Then it is refused", async () => {
    const env = await adapter();
    const tool = registry.get("set_service_selector");
    expect(await tool.validateLive?.({ service: "api", kubeService: "db" }, env)).toMatchObject({ ok: false, reason: expect.stringMatching(/not in front of api/) as unknown });
    await expect(env.setServiceSelector("api", "api", {}, "sel-2")).rejects.toThrow(/empty selector/);
    // And a given selector that picks another workload's pods (a proposal, not a rollback) is refused
    expect(await tool.validateLive?.({ service: "api", kubeService: "api", selector: { app: "db" } }, env)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/selector app=db would send Service api's traffic to .*db's pods; refused/) as unknown,
    });
  });

  test("Given the simulator with a Service whose selector was changed, When set_service_selector runs in-process, Then its endpoints come back and both paths describe the Service alike", async () => {
    const scenario = await loadScenario(path.join(ROOT, "data", "scenarios", "service-target-port-mismatch.yaml"));
    const sim = SimEnvironment.create(scenario.environment);
    const [service] = await sim.listServices();
    const namespace = sim.namespaceOf(service!)!;
    const type = sim.types().find((t) => t.kind === "Service")!;
    const svc = sim.get(type, namespace, service!)!;
    sim.apply({ verb: "update", object: { ...svc, spec: { ...(svc as unknown as { spec: object }).spec, selector: { app: "nobody" } } } }, { dryRun: false });
    await sim.advanceBy(60_000);
    const broken = (await sim.describeWorkload(service!)).services?.find((s) => s.name === service);
    expect(broken).toMatchObject({ selectsWorkload: false, selectedPods: 0, readyEndpoints: 0 });
    const rollback = await act(sim, { tool: "set_service_selector", params: { service: service!, kubeService: service! } }, "sel-3");
    await sim.advanceBy(60_000);
    const fixed = (await sim.describeWorkload(service!)).services?.find((s) => s.name === service);
    expect(fixed?.selectsWorkload).toBe(true);
    expect(fixed?.readyEndpoints).toBeGreaterThan(0);
    expect(rollback?.params).toMatchObject({ selector: { app: "nobody" } });
    expect(sim.operationsApplied().map((o) => o.op)).toContain("setServiceSelector");
  });
});
