import { describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEFAULT_POLICY, loadPolicy, PolicyEngine, type Policy } from "../../policy/policy.js";
import { createDefaultRegistry } from "../../tools/registry.js";
import { SimEnvironment } from "../../tools/simulator/index.js";
import type { ToolCall } from "../../tools/tool.js";

const env = SimEnvironment.create({
  services: [
    { name: "checkout", replicas: 3, dependencies: ["inventory"], revisions: [{ image: "registry.internal/checkout:1.0.0", deployedAtMinutes: -9000 }] },
    { name: "inventory", replicas: 2 },
  ],
  networkPolicies: [{ name: "inventory-deny", podSelector: "inventory", allowIngressFrom: [] }],
});
const engine = (policy: Policy = DEFAULT_POLICY) => new PolicyEngine(policy, createDefaultRegistry());

interface Case {
  name: string;
  call: ToolCall;
  confidence: number;
  category?: string;
  policy?: Partial<Policy>;
  outcome: "allow" | "needs_approval" | "deny";
  reason: RegExp;
}

const cases: Case[] = [
  { name: "medium risk at 0.80 ≥ 0.75", call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } }, confidence: 0.8, outcome: "allow", reason: /0\.80 ≥ 0\.75/ },
  { name: "medium risk at 0.72 < 0.75", call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } }, confidence: 0.72, outcome: "needs_approval", reason: /0\.72 is below 0\.75/ },
  { name: "low risk at 0.70", call: { tool: "restart_pods", params: { service: "checkout" } }, confidence: 0.7, outcome: "allow", reason: /≥ 0\.70/ },
  { name: "high risk always needs a human", call: { tool: "delete_network_policy", params: { service: "inventory", policy: "inventory-deny" } }, confidence: 0.99, outcome: "needs_approval", reason: /high-risk actions always need a human/ },
  { name: "stricter policy: medium needs approval too", call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } }, confidence: 0.95, policy: { approvalRequiredFor: ["medium", "high"] }, outcome: "needs_approval", reason: /medium-risk actions always need a human/ },
  { name: "security faults are never remediated", call: { tool: "restart_pods", params: { service: "checkout" } }, confidence: 0.99, category: "security", outcome: "deny", reason: /never remediated automatically/ },
  { name: "unknown tool", call: { tool: "scale_deploymnt", params: { service: "checkout", replicas: 3 } }, confidence: 0.99, outcome: "deny", reason: /unknown tool "scale_deploymnt"; known tools: .*scale_deployment/ },
  { name: "read tool proposed as remediation", call: { tool: "tail_logs", params: { service: "checkout", lines: 10 } }, confidence: 0.99, outcome: "deny", reason: /read tool/ },
  { name: "parameter outside the schema", call: { tool: "scale_deployment", params: { service: "checkout", replicas: 5000 } }, confidence: 0.99, outcome: "deny", reason: /replicas: expected at most 50/ },
  { name: "hallucinated revision", call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 42 } }, confidence: 0.99, outcome: "deny", reason: /no revision 42/ },
  { name: "workload that does not exist", call: { tool: "restart_pods", params: { service: "chekout" } }, confidence: 0.99, outcome: "deny", reason: /unknown service "chekout"/ },
  { name: "scale to zero", call: { tool: "scale_deployment", params: { service: "checkout", replicas: 0 } }, confidence: 0.99, outcome: "deny", reason: /take it offline/ },
];

describe("policy check", () => {
  it.each(cases)("$name → $outcome", async (c) => {
    // Given a proposal, when the policy evaluates it, then the verdict and its reason match
    const verdict = await engine({ ...DEFAULT_POLICY, ...c.policy }).evaluate({ call: c.call, confidence: c.confidence, category: c.category ?? "deployment" }, env);
    expect(verdict.outcome).toBe(c.outcome);
    expect(verdict.reasons.join(" | ")).toMatch(c.reason);
  });

  it("rejects a broken policy file with the path and the expectation", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "policy-"));
    const file = path.join(dir, "policy.yaml");
    await writeFile(file, "thresholds:\n  medium: 1.5\n");
    await expect(loadPolicy(file)).rejects.toThrow(/policy\.yaml: thresholds\.medium: expected a confidence between 0 and 1/);
    await writeFile(file, "thresholds:\n  critical: 0.9\n");
    await expect(loadPolicy(file)).rejects.toThrow(/thresholds: Unrecognized key: "critical"/);
  });
});

describe("shipped policy file", () => {
  it("documents exactly the built-in default", async () => {
    expect(await loadPolicy(path.join(import.meta.dirname, "..", "..", "policy", "default-policy.yaml"))).toEqual(DEFAULT_POLICY);
  });
});
