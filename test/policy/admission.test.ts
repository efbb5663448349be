import { describe, expect, it } from "vitest";
import type { PolicyLedger } from "../../domain/ledger.js";
import type { ToolCall } from "../../domain/model.js";
import { SimEnvironment } from "../../environments/simulator/index.js";
import { DEFAULT_POLICY, PolicyEngine, type IncidentFacts } from "../../policy/policy.js";
import { placementAdmission, quotaAdmission } from "../../policy/admission.js";
import { createDefaultRegistry } from "../../tools/registry.js";
import { lastScaleDownTo } from "../../environments/scale-events.js";
import type { KubeEvent } from "../../environments/adapter.js";

/** An empty shared ledger: no earlier action counts against this one. */
const EMPTY_LEDGER: PolicyLedger = {
  countActions: async () => 0,
  lastSameCall: async () => undefined,
  workloadsInFlight: async () => [],
  failures: async () => 0,
};

/** A namespace "claims" with one workload of 3 × 512Mi and a limits.memory quota of `hard`. */
function claimsWorld(hard: Record<string, string>): SimEnvironment {
  return SimEnvironment.create({
    startTime: "2026-11-27T10:00:00Z",
    services: [
      { name: "validator", namespace: "claims", replicas: 3, memoryLimitMib: 512 },
      { name: "intake", namespace: "claims", replicas: 1, memoryLimitMib: 256 },
    ],
    manifests: `apiVersion: v1\nkind: ResourceQuota\nmetadata: { name: compute, namespace: claims }\nspec:\n  hard: ${JSON.stringify(hard)}\n`,
  });
}

async function verdictFor(env: SimEnvironment, call: ToolCall): Promise<Awaited<ReturnType<PolicyEngine["evaluate"]>>> {
  const engine = new PolicyEngine(DEFAULT_POLICY, createDefaultRegistry());
  const incident: IncidentFacts = {
    id: "inc-quota",
    subject: { service: "validator", namespace: "claims" },
    environmentId: "env-1",
    openedAt: env.now(),
    now: env.now(),
    attempts: [],
    usage: { modelTokens: 0, modelCostUsd: 0 },
    services: ["validator", "intake"],
  };
  return engine.evaluate({ call, confidence: 0.95, category: "resources", strategy: `${call.tool}:validator`, incident }, env, EMPTY_LEDGER);
}

const raiseTo = (limitMib: number): ToolCall => ({ tool: "set_memory_limit", params: { service: "validator", limitMib } });
const scaleTo = (replicas: number): ToolCall => ({ tool: "scale_deployment", params: { service: "validator", replicas } });

describe("quota admission: a remediation the namespace's ResourceQuota cannot admit is denied", () => {
  it("Given 1792Mi of 2Gi limits.memory used, When the memory limit of 3 replicas is raised 512 → 768Mi (+768Mi), Then policy denies naming the quota, its use and what the change adds", async () => {
    const env = claimsWorld({ "limits.memory": "2Gi" });
    const verdict = await verdictFor(env, raiseTo(768));
    expect(verdict.outcome).toBe("deny");
    const check = verdict.checks.find((c) => c.rule === "quotaAdmission");
    expect(check?.outcome).toBe("deny");
    expect(check?.detail).toMatch(/compute limits\.memory: used 1792Mi of 2Gi, the change adds 768Mi/);
    expect(check?.detail).toMatch(/FailedCreate/);
  });

  it("Given 4Gi of limits.memory with 2304Mi free, When the same raise adds 768Mi, Then the quota check passes and the raise may run", async () => {
    const env = claimsWorld({ "limits.memory": "4Gi" });
    const verdict = await verdictFor(env, raiseTo(768));
    expect(verdict.checks.find((c) => c.rule === "quotaAdmission")?.outcome).toBe("pass");
    expect(verdict.outcome).toBe("allow");
  });

  it("Given a pods quota of 4 with 4 used, When scaling 3 → 4 replicas, Then policy denies: the new pod would be refused", async () => {
    const env = claimsWorld({ pods: "4" });
    const verdict = await verdictFor(env, scaleTo(4));
    expect(verdict.outcome).toBe("deny");
    expect(verdict.checks.find((c) => c.rule === "quotaAdmission")?.detail).toMatch(/compute pods: used 4 of 4, the change adds 1/);
  });

  it("Given requests.cpu is used up, When scaling up, Then denied although the description carries no requests (more pods always add some)", async () => {
    const described = await claimsWorld({ "limits.memory": "8Gi" }).describeWorkload("validator");
    const full = { ...described, quotas: [{ name: "compute", resources: [{ resource: "requests.cpu", hard: "2", used: "2", full: true }] }] };
    expect(quotaAdmission({ dimension: "replicas", from: 3, to: 4 }, full).outcome).toBe("deny");
    expect(quotaAdmission({ dimension: "memoryMib", from: 512, to: 768 }, full).outcome).toBe("pass");
  });

  it("Given no ResourceQuota in the namespace, When scaling down or up, Then the check passes and says why", async () => {
    const described = await SimEnvironment.create({ services: [{ name: "validator", namespace: "claims", replicas: 3 }] }).describeWorkload("validator");
    const check = quotaAdmission({ dimension: "replicas", from: 3, to: 6 }, described);
    expect(check).toEqual({ rule: "quotaAdmission", outcome: "pass", detail: "no ResourceQuota in claims" });
  });
});

/** Two nodes of 2 CPU / 4Gi (one tainted for GPUs) and 3 pods of 600m / 512Mi requests. */
function nodesWorld(extraNode: string): SimEnvironment {
  const node = (name: string, extra = "") =>
    `apiVersion: v1\nkind: Node\nmetadata: { name: ${name}, labels: { kubernetes.io/arch: amd64 } }\nspec: { ${extra} }\nstatus: { allocatable: { cpu: "2", memory: 4Gi, pods: "110" } }\n`;
  return SimEnvironment.create({
    startTime: "2026-11-27T10:00:00Z",
    services: [{ name: "validator", namespace: "claims", replicas: 3, requests: { cpu: "600m", memory: "512Mi" } }],
    manifests: [node("node-a"), node("node-gpu", 'taints: [{ key: gpu, value: "true", effect: NoSchedule }]'), extraNode].filter((m) => m !== "").join("---\n"),
  });
}

describe("placement admission: a scale-up the nodes cannot place is denied", () => {
  it("Given one eligible 2-CPU node running 3 pods of 600m (a GPU node it does not tolerate beside it), When scaling 3 → 6, Then denied: the node has room for 0 more and the rest would stay Pending", async () => {
    const env = nodesWorld("");
    const headroom = await env.placementHeadroom("validator");
    expect(headroom).toMatchObject({ podsThatFit: 0, eligibleNodes: 1, totalNodes: 2, requests: { cpuCores: 0.6, memoryMib: 512 } });
    const verdict = await verdictFor(env, scaleTo(6));
    expect(verdict.outcome).toBe("deny");
    expect(verdict.checks.find((c) => c.rule === "placementAdmission")?.detail).toMatch(/room for 0 more pod\(s\) \(0\.6 CPU, 512Mi each\), fewer than the 3 this adds/);
  });

  it("Given a second untainted 2-CPU node with nothing on it, When scaling 3 → 6, Then allowed: it holds 3 more pods of 600m", async () => {
    const env = nodesWorld(`apiVersion: v1\nkind: Node\nmetadata: { name: node-b, labels: { kubernetes.io/arch: amd64 } }\nstatus: { allocatable: { cpu: "2", memory: 4Gi, pods: "110" } }\n`);
    const check = (await verdictFor(env, scaleTo(6))).checks.find((c) => c.rule === "placementAdmission");
    expect(check?.outcome).toBe("pass");
    expect(check?.detail).toMatch(/room for 3 more pod\(s\)/);
  });

  it("Given nodes that declare no capacity or pods that request nothing, When scaling up, Then the check passes and says why", () => {
    const growth = { dimension: "replicas" as const, from: 3, to: 6 };
    expect(placementAdmission(growth, { podsThatFit: null, requests: { cpuCores: 0, memoryMib: 0 }, eligibleNodes: 3, totalNodes: 3 }).outcome).toBe("pass");
    expect(placementAdmission(growth, undefined).detail).toMatch(/does not report node capacity/);
    expect(placementAdmission({ dimension: "replicas", from: 6, to: 3 }, { podsThatFit: 0, requests: { cpuCores: 1, memoryMib: 1 }, eligibleNodes: 1, totalNodes: 1 }).outcome).toBe("pass");
  });
});

describe("bounds of a restore from zero: compared with the count the controller scaled the workload down from", () => {
  /** validator ran with 4 replicas until it was scaled to zero ten minutes ago (or ran with none, when `scaledDown` is false). */
  function zeroWorld(scaledDown: boolean): SimEnvironment {
    return SimEnvironment.create({
      startTime: "2026-11-27T10:00:00Z",
      services: [{ name: "validator", namespace: "claims", replicas: scaledDown ? 4 : 0 }],
      ...(scaledDown ? { faults: [{ kind: "scaled-to-zero", service: "validator", atMinutes: -10 }] } : {}),
    });
  }

  it("Given a deployment scaled 4 → 0 by its controller, When restoring 4 replicas, Then the bound passes (1× of what it ran with), though 0 → 4 is more than the 3× factor", async () => {
    const verdict = await verdictFor(zeroWorld(true), scaleTo(4));
    const bound = verdict.checks.find((c) => c.rule === "parameters.bounds");
    expect(bound?.outcome).toBe("pass");
    expect(bound?.detail).toMatch(/of the 4 it ran with before it was scaled down/);
  });

  it("Given the same deployment, When the call asks for 13 replicas (above 3 × 4), Then the bound still asks for approval", async () => {
    const verdict = await verdictFor(zeroWorld(true), scaleTo(13));
    expect(verdict.checks.find((c) => c.rule === "parameters.bounds")?.outcome).toBe("approval");
  });

  it("Given a deployment at zero with no scale-down event, When restoring 4 replicas, Then 0 → 4 counts from 1 and needs approval", async () => {
    const verdict = await verdictFor(zeroWorld(false), scaleTo(4));
    expect(verdict.checks.find((c) => c.rule === "parameters.bounds")?.detail).toMatch(/is 4\.0×, above 3×/);
  });

  it("reads both the older and the newer controller's wording; only the newest scale-down, and only when it left the workload where it is", () => {
    const event = (t: number, message: string): KubeEvent => ({ t, type: "Normal", reason: "ScalingReplicaSet", object: "deployment/validator", message, count: 1 });
    expect(lastScaleDownTo([event(1, "Scaled down replica set validator-5d8 to 0 from 6")], 0)).toEqual({ from: 6, to: 0, at: 1 });
    expect(lastScaleDownTo([event(1, "Scaled down replica set validator-5d8 from 6 to 0"), event(2, "Scaled down replica set validator-5d8 from 8 to 2")], 2)?.from).toBe(8);
    // A workload scaled back up since is not "where the scale-down left it"
    expect(lastScaleDownTo([event(1, "Scaled down replica set validator-5d8 from 8 to 2")], 4)).toBeUndefined();
    expect(lastScaleDownTo([event(1, "Scaled up replica set validator-5d8 from 0 to 3")], 3)).toBeUndefined();
  });
});
