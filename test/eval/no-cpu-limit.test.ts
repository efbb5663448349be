import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { evaluateScenario } from "../../app/evaluate.js";
import { parseScenario } from "../../app/scenario.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

/** A caller whose dependency's Deployment sets no resources at all, as many real manifests do. */
const WORLD = `
name: dependency-without-limits
title: The dependency sets no CPU limit
tags: [regression]
environment:
  seed: 5
  manifests: |
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: route-api, namespace: fleet, labels: { app: route-api } }
    spec:
      replicas: 3
      selector: { matchLabels: { app: route-api } }
      template:
        metadata: { labels: { app: route-api } }
        spec:
          containers:
            - name: app
              image: registry.internal/fleet/route-api:3.1.0
              resources: { limits: { cpu: "1", memory: 512Mi }, requests: { cpu: 250m, memory: 256Mi } }
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: geo-cache, namespace: fleet, labels: { app: geo-cache } }
    spec:
      replicas: 2
      selector: { matchLabels: { app: geo-cache } }
      template:
        metadata: { labels: { app: geo-cache } }
        spec:
          containers:
            - { name: app, image: "registry.internal/fleet/geo-cache:1.4.0" }
  workloads:
    route-api: { dependencies: [geo-cache] }
  faults:
    - kind: flapping-threshold
      service: route-api
      atMinutes: -80
      params: { metric: latency_p99_ms, amplitude: 0.3, periodMinutes: 20 }
alerts:
  - atMinutes: 0
    labels: { alertname: HighLatency, service: route-api, namespace: fleet, severity: warning }
expect:
  outcome: escalated
`;

describe("a workload without a CPU limit (regression: Infinity reached the evidence and failed the checkpoint)", () => {
  let t: TestSuture;
  beforeAll(async () => {
    t = await openTestSuture(testBackends()[0]!);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("is perceived without a CPU-saturation fact and the incident finishes", async () => {
    // Given a caller whose dependency's containers set no resources (no CPU limit to be saturated against)
    const scenario = parseScenario(parse(WORLD) as unknown, "inline");
    // When Suture handles an alert on the caller
    const result = await evaluateScenario(t.suture, scenario, "inline", { via: "in-process" });
    // Then the run reaches an outcome (before the fix, perceive stored CPU used ÷ 0 and the state failed validation)
    expect(["escalated", "no_action", "resolved"]).toContain(result.outcome);
    const run = await t.suture.store.getIncident(result.incidentId);
    expect(run.status).not.toBe("failed");
  });
});
