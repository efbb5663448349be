import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scenarioFiles } from "../../app/evaluate.js";
import { loadScenario, type Scenario } from "../../app/scenario.js";
import { runScenario } from "../../app/scenario-run.js";
import type { PerceptionPath } from "../../app/sim-kubernetes.js";
import { testBackends } from "../helpers/backends.js";
import { ROOT } from "../helpers/cli.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

const embedded = testBackends()[0]!;
const files = await scenarioFiles([path.join(ROOT, "data", "scenarios")]);

/** What one path made of a scenario: the evidence perceive extracted first and last, and what Suture did. */
async function playAlong(t: TestSuture, scenario: Scenario, via: PerceptionPath) {
  // The first perception alone: the run stops before the policy check.
  const first = await runScenario(t.suture, scenario, { via, interruptBefore: ["policy-check"] });
  const run = await runScenario(t.suture, scenario, { via });
  const actions = await t.suture.store.actionsFor(run.incidentId);
  return {
    firstEvidence: first.state.context?.evidence,
    firstSnapshot: first.state.context?.snapshot,
    lastEvidence: run.state.context?.evidence,
    lastSnapshot: run.state.context?.snapshot,
    diagnoses: run.state.diagnoses.map((d) => ({ decision: d.decision, chosen: d.chosen?.faultClass, confidence: d.confidence })),
    attempts: run.state.attempts.map((a) => ({ actionClass: a.actionClass, verdict: a.verdict })),
    status: run.awaitingApproval !== undefined ? "awaiting_approval" : run.state.outcome?.status,
    actions: actions.map((a) => ({ kind: a.kind, tool: a.tool, params: a.params, status: a.status, verdict: a.verdict })),
  };
}

describe("one perception path: the Kubernetes API of the simulated cluster and the in-process simulator agree", () => {
  // Each path learns only from its own incidents, so memory cannot make them differ.
  let inProcess: TestSuture;
  let kubernetes: TestSuture;

  beforeAll(async () => {
    inProcess = await openTestSuture(embedded);
    kubernetes = await openTestSuture(embedded);
  });
  afterAll(async () => {
    await inProcess.suture.close();
    await kubernetes.suture.close();
  });

  it("ships scenarios to compare", () => {
    expect(files.length).toBeGreaterThanOrEqual(24);
  });

  for (const file of files) {
    it(`${path.basename(file, ".yaml")}: same evidence, same outcome, same actions`, { timeout: 60_000 }, async () => {
      // Given a shipped scenario
      const scenario = await loadScenario(file);
      // When it runs in-process and through the simulated cluster's Kubernetes API with the real client
      const direct = await playAlong(inProcess, scenario, "in-process");
      const viaApi = await playAlong(kubernetes, scenario, "kubernetes");
      // Then perceive extracted the same evidence and Suture did the same things
      expect(viaApi).toEqual(direct);
    });
  }
});
