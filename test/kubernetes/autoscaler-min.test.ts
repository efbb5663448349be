import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, test } from "vitest";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { startClusterApiServer } from "../../environments/cluster-api/server.js";
import { KubernetesEnvironment } from "../../environments/kubernetes/kubernetes-environment.js";
import type { WorkloadSignals } from "../../environments/kubernetes/signals.js";
import { createDefaultRegistry } from "../../tools/registry.js";
import { FixedClock, NOW, shippedRules, SUTURE_USER } from "./cluster.js";

/** A Deployment whose pods lost their CPU requests: its HPA cannot compute a replica count. */
const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: quote, namespace: prod }
spec:
  replicas: 4
  selector: { matchLabels: { app: quote } }
  template:
    metadata: { labels: { app: quote } }
    spec: { containers: [{ name: app, image: "quote:12.6.3", resources: { limits: { cpu: "1" } } }] }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: quote, namespace: prod }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: quote }
  minReplicas: 4
  maxReplicas: 16
  metrics: [{ type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } }]
status:
  currentReplicas: 4
  desiredReplicas: 4
  conditions:
    - { type: ScalingActive, status: "False", reason: FailedGetResourceMetric, message: "the HPA was unable to compute the replica count: missing request for cpu", lastTransitionTime: "2026-11-30T06:40:00Z" }
`;

const signals: WorkloadSignals = {
  queryMetric: async (ref, metric) => ({ service: ref.name, metric, points: [] }),
  consumerLag: async () => [],
  disks: async () => [],
  circuitBreakers: async () => [],
  dependencies: async () => [],
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function adapter(): Promise<{ env: KubernetesEnvironment; backend: MemoryClusterBackend }> {
  const backend = MemoryClusterBackend.fromManifests(MANIFESTS, { now: () => new Date(NOW) });
  const api = await startClusterApiServer({ backend, rbac: { rules: shippedRules(), user: SUTURE_USER } });
  close = () => api.close();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(api.kubeconfig({ namespace: "prod" }));
  return { env: new KubernetesEnvironment({ kubeConfig, namespace: "prod", clock: new FixedClock(), signals }), backend };
}

const registry = createDefaultRegistry();
const tool = registry.get("set_autoscaler_min");

describe("set_autoscaler_min: the HPA is the lever for a workload it owns", () => {
  test("Given an HPA that cannot compute a replica count, When perceived, Then its ScalingActive reason is read", async () => {
    const { env } = await adapter();
    expect((await env.describeWorkload("quote")).autoscaler).toMatchObject({
      scalingActive: false,
      inactiveReason: expect.stringMatching(/FailedGetResourceMetric: .*missing request for cpu/) as unknown,
    });
  });

  test("Given that HPA, When its minimum is raised to 8 with Suture's RBAC and rolled back, Then the HPA's spec says 8, then 4 again, once per key", async () => {
    const { env } = await adapter();
    // When validated and run (as act does)
    expect(await tool.validateLive?.({ service: "quote", minReplicas: 8 }, env)).toEqual({ ok: true });
    const before = await tool.captureBefore?.({ service: "quote", minReplicas: 8 }, env);
    await tool.run({ service: "quote", minReplicas: 8 }, env, "hpa-min-1");
    await tool.run({ service: "quote", minReplicas: 8 }, env, "hpa-min-1");
    // Then the HPA's minimum moved, recorded under its key
    expect((await env.describeWorkload("quote")).autoscaler?.minReplicas).toBe(8);
    expect((await env.appliedChange("hpa-min-1"))?.operation).toBe("patchAutoscalerBounds");
    // And its rollback sets the minimum back
    const rollback = tool.rollback?.({ service: "quote", minReplicas: 8 }, before);
    expect(rollback).toEqual({ tool: "set_autoscaler_min", params: { service: "quote", minReplicas: 4 } });
    await tool.run({ service: "quote", minReplicas: 4 }, env, "hpa-min-1:rollback");
    expect((await env.describeWorkload("quote")).autoscaler?.minReplicas).toBe(4);
  });

  test("Given that HPA, When a minimum above its maximum or one that adds no pod is asked, Then each is refused with the reason", async () => {
    const { env } = await adapter();
    expect(await tool.validateLive?.({ service: "quote", minReplicas: 20 }, env)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/above HorizontalPodAutoscaler quote's maximum of 16; raising the maximum is a capacity decision/) as unknown,
    });
    expect(await tool.validateLive?.({ service: "quote", minReplicas: 4 }, env)).toMatchObject({ ok: false, reason: expect.stringMatching(/adds none/) as unknown });
    // And scale_deployment points at this lever
    expect(await registry.get("scale_deployment").validateLive?.({ service: "quote", replicas: 8 }, env)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/set_autoscaler_min raises its minimum/) as unknown,
    });
  });
});
