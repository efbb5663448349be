import { readFileSync } from "node:fs";
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
    expect(w.autoscaler).toEqual({ name: "api", minReplicas: 1, maxReplicas: 2, currentReplicas: 2, desiredReplicas: 2, atMax: true, scalingLimited: true, limitedSince: Date.parse("2026-11-30T06:40:00Z") });
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
    expect(of("hpa.at_max")).toEqual([{ value: 20, hpa: "api", min: 1, max: 2, current: 2, desired: 2, scaling_limited: true }]);
    expect(of("quota.exceeded")).toEqual([{ value: "pods", quota: "compute", used: "3", hard: "3" }]);
    expect(of("pod.unschedulable")).toEqual([expect.objectContaining({ value: 1, cordoned: "node-1", not_ready: "node-2", message: expect.stringMatching(/were unschedulable/) })]);
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
