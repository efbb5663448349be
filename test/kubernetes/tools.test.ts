import { afterEach, describe, expect, test } from "vitest";
import type { ToolCall } from "../../domain/model.js";
import { RESOURCE_TYPES } from "../../environments/cluster-api/resource-types.js";
import { createDefaultRegistry } from "../../tools/registry.js";
import type { EnvironmentAdapter } from "../../environments/adapter.js";
import { shippedRules, startCluster, type TestCluster } from "./cluster.js";

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const registry = createDefaultRegistry();

/** Runs a call as the act node would (validate, capture, run) and returns its rollback call. */
async function act(env: EnvironmentAdapter, call: ToolCall, key: string): Promise<ToolCall | undefined> {
  const tool = registry.get(call.tool);
  const parsed = registry.parseCall(call);
  if (!parsed.ok) throw new Error(parsed.error);
  expect(await tool.validateLive?.(parsed.params, env)).toEqual({ ok: true });
  const before = await tool.captureBefore?.(parsed.params, env);
  await tool.run(parsed.params, env, key);
  return tool.rollback?.(parsed.params, before);
}

/** Runs a rollback call as verify would. */
async function rollBack(env: EnvironmentAdapter, call: ToolCall | undefined, key: string): Promise<void> {
  if (call === undefined) throw new Error("the tool registered no rollback");
  const parsed = registry.parseCall(call);
  if (!parsed.ok) throw new Error(parsed.error);
  await registry.get(call.tool).run(parsed.params, env, key);
}

describe("Suture's remediation tools on the Kubernetes adapter", () => {
  test("Given a bad rollout, When rollout_undo runs and is rolled back, Then the template goes to revision 1 and back to revision 2", async () => {
    const c = (cluster = await startCluster({ rules: shippedRules() }));
    const env = c.adapter();
    const rollback = await act(env, { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } }, "k1");
    expect((await env.describeWorkload("checkout")).deployment.image).toBe("registry.example.com/checkout:1.4.0");
    await rollBack(c.adapter(), rollback, "k1:rollback");
    expect((await env.describeWorkload("checkout")).deployment.image).toBe("registry.example.com/checkout:1.4.1");
  });

  test("Given a deny-all policy, When delete_network_policy runs and its rollback runs in a new process, Then the policy is back with its original spec", async () => {
    const c = (cluster = await startCluster({ rules: shippedRules() }));
    const env = c.adapter();
    const rollback = await act(env, { tool: "delete_network_policy", params: { service: "checkout", policy: "checkout-deny-all" } }, "k2");
    expect((await env.describeWorkload("checkout")).networkPolicies.map((p) => p.name)).toEqual(["checkout-allow-frontend"]);
    await rollBack(c.adapter(), rollback, "k2:rollback");
    expect((await env.describeWorkload("checkout")).networkPolicies.map((p) => [p.name, p.allowIngressFrom])).toEqual([
      ["checkout-allow-frontend", ["frontend"]],
      ["checkout-deny-all", []],
    ]);
  });

  test("Given Suture's tools, When scale, memory, port and ConfigMap tools run and roll back, Then each setting returns to what it was", async () => {
    const c = (cluster = await startCluster({ rules: shippedRules() }));
    const env = c.adapter();
    const before = await env.describeWorkload("checkout");
    const configMaps = RESOURCE_TYPES.find((t) => t.plural === "configmaps");
    const cm = configMaps === undefined ? undefined : c.backend.get(configMaps, "prod", "checkout-config");
    if (cm === undefined) throw new Error("fixture lacks checkout-config");
    c.backend.apply({ verb: "update", object: { ...cm, data: { PAYMENT_TIMEOUT_MS: "200" } } }, { dryRun: false });
    await env.describeWorkload("checkout");
    const rollbacks = [
      await act(env, { tool: "scale_deployment", params: { service: "checkout", replicas: 4 } }, "s"),
      await act(env, { tool: "set_memory_limit", params: { service: "checkout", limitMib: 1024 } }, "m"),
      await act(env, { tool: "revert_config_map", params: { service: "checkout", configMap: "checkout-config", toVersion: 1 } }, "c"),
    ];
    const changed = await env.describeWorkload("checkout");
    expect([changed.deployment.desiredReplicas, changed.deployment.memoryLimitMib, changed.configMaps[0]?.data["PAYMENT_TIMEOUT_MS"]]).toEqual([4, 1024, "2000"]);
    for (const [i, call] of rollbacks.entries()) await rollBack(env, call, `rb${i}`);
    const after = await env.describeWorkload("checkout");
    expect([after.deployment.desiredReplicas, after.deployment.memoryLimitMib, after.configMaps[0]?.data["PAYMENT_TIMEOUT_MS"]]).toEqual([
      before.deployment.desiredReplicas,
      before.deployment.memoryLimitMib,
      "200",
    ]);
  });
});
