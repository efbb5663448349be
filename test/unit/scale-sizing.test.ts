import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

/** A 3-replica API with 1-core pods whose request rate rose by `loadFactor` 20 min ago. */
function surge(loadFactor: number): EnvironmentSpecInput {
  return {
    seed: 7,
    services: [{ name: "timetable", namespace: "harbour", replicas: 3, cpuLimitCores: 1, cpuPerRequest: 0.008, baseline: { requestRate: 220, errorRate: 0.001, latencyP99Ms: 120 } }],
    faults: [{ kind: "traffic-surge", service: "timetable", atMinutes: -20, params: { loadFactor } }],
  };
}

const alert = makeAlert({ service: "timetable", namespace: "harbour", name: "HighLatencyP99", labels: { alertname: "HighLatencyP99", service: "timetable", namespace: "harbour" } });

async function proposedReplicas(loadFactor: number): Promise<{ replicas: unknown; demand: unknown }> {
  const evidence = await perceiveSim(SimEnvironment.create(surge(loadFactor)), alert);
  const saturation = evidence.find((e) => e.key === "cpu.saturation");
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  expect(top?.id).toBe("rules:saturated-workload");
  return { replicas: top?.candidates[0]?.call.params["replicas"], demand: saturation?.attrs["demand_cores"] };
}

describe("how far a saturated workload is scaled out", () => {
  it("Given the request rate tripled on pods capped at their CPU limit, When diagnosed, Then it scales to what the demand needs at 70 % of the limit, not merely double", async () => {
    // Given 3 × 1-core pods at their limit while 660 req/s ask for ~5.3 cores
    const { replicas, demand } = await proposedReplicas(3);
    // Then the demand is read from the request rate (the CPU series is capped), and 8 pods run it at ≤ 70 %
    expect(Number(demand)).toBeGreaterThan(4.8);
    expect(replicas).toBe(8);
  });

  it("Given a surge that doubling absorbs, When diagnosed, Then it doubles the replicas as before", async () => {
    const { replicas } = await proposedReplicas(1.75);
    expect(replicas).toBe(6);
  });
});
