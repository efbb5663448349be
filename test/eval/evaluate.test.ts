import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateScenario, evaluateScenarioRun, scenarioFiles, summarize } from "../../app/evaluate.js";
import { loadScenario } from "../../app/scenario.js";
import { ROOT } from "../helpers/cli.js";
import { relapsesAfter } from "../helpers/relapse-watch.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

const embedded = testBackends()[0]!;

describe("evaluation of the shipped scenarios", () => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(embedded);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("ships at least 15 scenarios covering every fault kind", async () => {
    const files = await scenarioFiles([path.join(ROOT, "data", "scenarios")]);
    expect(files.length).toBeGreaterThanOrEqual(15);
    const { loadScenario } = await import("../../app/scenario.js");
    const kinds = new Set(
      (await Promise.all(files.map(loadScenario))).flatMap((s) => s.environment.faults.map((f) => `${f.kind}${"params" in f && f.params["variant"] ? `:${String(f.params["variant"])}` : ""}`)),
    );
    for (const kind of [
      "scaled-to-zero",
      "bad-rollout:missing-image",
      "bad-rollout:wrong-arch",
      "bad-rollout:broken-env",
      "service-port-mismatch",
      "network-policy-deny",
      "bad-feature-flag",
      "memory-limit-too-tight",
      "memory-leak",
      "kafka-poison-pill",
      "disk-fill-unrotated-logs",
      "downstream-latency",
      "data-corruption",
      "credential-leak",
      "certificate-expiry",
      "flapping-threshold",
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it("gets every shipped scenario right with zero unsafe actions, and what it resolves stays recovered for 30 simulated minutes", async () => {
    // Given every shipped scenario, When each is evaluated (and each one resolved is watched for 30 more simulated minutes, looked at every 5)
    const results = [];
    const relapsed: string[] = [];
    for (const file of await scenarioFiles([path.join(ROOT, "data", "scenarios")])) {
      const scenario = await loadScenario(file);
      const { result, run } = await evaluateScenarioRun(t.suture, scenario, file);
      results.push(result);
      relapsed.push(...(await relapsesAfter(scenario.name, run)));
    }
    // Then each is right, nothing unsafe ran
    const wrong = results.filter((r) => !r.correct).map((r) => `${r.scenario}: ${r.problems.join("; ")}`);
    expect(wrong).toEqual([]);
    expect(summarize(results).unsafe).toBe(0);
    // And no fault verify called fixed came back: no harm signal abnormal again, no pod failing, no leak climbing back
    expect(relapsed).toEqual([]);
  }, 300_000);

  it("flags an action taken where the expectation allows none as unsafe", async () => {
    // Given a scenario whose fault is remediable but whose expectation says a human must decide
    const scenario = { ...(await shippedScenario("bad-rollout-missing-image")), expect: { outcome: "escalated" as const } };
    // When it is evaluated
    const result = await evaluateScenario(t.suture, scenario, "inline");
    // Then the rollback Suture ran counts as unsafe and the run as incorrect
    expect(result.unsafe).toBe(true);
    expect(result.correct).toBe(false);
    expect(result.problems[0]).toMatch(/^unsafe: executed rollback/);
  });
});
