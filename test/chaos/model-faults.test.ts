import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "../../app/scenario-run.js";
import { selfRecoveryPass } from "../../app/self-recovery.js";
import type { Suture } from "../../app/suture.js";
import { SutureMetrics } from "../../interfaces/metrics.js";
import { IncidentMemory } from "../../memory/incident-memory.js";
import { LlmReasoner } from "../../reasoners/llm/llm-reasoner.js";
import { testBackends } from "../helpers/backends.js";
import { evidenceId, imagePullHypothesis, startScriptedModel, type ChatRequest, type ScriptedModelServer, type ScriptStep } from "../helpers/openai-server.js";
import { openTestSuture, shippedScenario } from "../helpers/suture.js";

/**
 * Chaos of the model: the scripted model server answers well, then drifts (its answers cite
 * evidence that does not exist, then stop being valid JSON), or slows past the reasoner's timeout.
 * Suture keeps diagnosing with its rules beside the model; after each incident a worker's
 * self-health pass runs. Bound stated here: the model reasoner is turned off within
 * {@link DETECTION_BOUND} incidents of the onset, and no incident acts on a model proposal that
 * failed grounding.
 */
const DETECTION_BOUND = 4;
const HEALTHY_INCIDENTS = 3;
const ROLLBACK = { tool: "rollout_undo", params: { service: "checkout", toRevision: 2 } };

const healthy = (r: ChatRequest): { answer: unknown } => ({ answer: { hypotheses: [imagePullHypothesis([evidenceId(r, /ImagePull|ErrImagePull/)], ROLLBACK)] } });
/** Drift: first answers that cite evidence that does not exist (grounding discards them), then output that is not JSON at all. */
const drifting: ScriptStep[] = [
  { answer: { hypotheses: [imagePullHypothesis(["ev-9999"], { tool: "scale_deployment", params: { service: "checkout", replicas: 40 } })] } },
  { answer: { hypotheses: [imagePullHypothesis(["ev-9998"], { tool: "restart_pods", params: { service: "checkout" } })] } },
  { content: "I think the checkout service is probably fine, maybe restart it?" },
];
/** Slow: every answer arrives long after the reasoner's timeout. */
const slow: ScriptStep[] = [{ hangMs: 3_000 }];

describe.each(testBackends())("chaos: the model drifts or slows under Suture, on $name", (backend) => {
  let model: ScriptedModelServer;
  beforeAll(async () => {
    model = await startScriptedModel();
  });
  afterAll(async () => {
    await model.close();
  });

  it.each([
    { fault: "drifts (answers degrade, then become invalid)", steps: drifting },
    { fault: "slows past its timeout", steps: slow },
  ])(
    "Given a model that $fault, When incidents keep coming, Then the model reasoner is turned off within the bound, the rules keep every decision right, and no model proposal is acted on",
    async ({ steps }) => {
      // Given a fresh database, the rules and the model as reasoners, and an incident memory of its own
      const fresh = await openTestSuture(backend);
      const llm = new LlmReasoner(
        { apiKey: "sk-test", baseURL: model.baseURL, model: "scripted-diagnoser", method: "jsonSchema", timeoutMs: 400, corrections: 1, tokenBudget: 6_000, usdPerMillionTokens: 0.6 },
        fresh.suture.tools,
      );
      const suture: Suture = { ...fresh.suture, reasoners: [...fresh.suture.reasoners, llm], memory: new IncidentMemory(fresh.suture.db, fresh.suture.memory.embedder, `chaos-${randomUUID()}`) };
      const scenario = await shippedScenario("bad-rollout-missing-image");
      try {
        // And a model that first answers well
        model.play([healthy]);
        for (let i = 0; i < HEALTHY_INCIDENTS; i++) {
          const run = await runScenario(suture, scenario);
          expect(run.state.outcome?.status).toBe("resolved");
          expect(await selfRecoveryPass(suture.store)).toEqual([]);
        }

        // When it degrades
        model.play(steps);
        let detectedAfter: number | undefined;
        for (let i = 1; i <= DETECTION_BOUND + 2 && detectedAfter === undefined; i++) {
          const run = await runScenario(suture, scenario);
          // Then every incident is still decided right, by the rules: the one correct rollback, nothing the model proposed
          expect(run.state.outcome?.status).toBe("resolved");
          expect(run.state.attempts.map((a) => a.call)).toEqual([ROLLBACK]);
          if ((await selfRecoveryPass(suture.store)).some((r) => r.kind === "model_off")) detectedAfter = i;
        }
        // And the model reasoner was turned off within the bound, audited with the metric and the calls it judged
        expect(detectedAfter).toBeDefined();
        expect(detectedAfter!).toBeLessThanOrEqual(DETECTION_BOUND);
        const audit = await suture.db.pool.query<{ summary: string; detail: { metric: string; evidence: { recent: { events: number; trials: number } } } }>(
          "SELECT summary, detail FROM audit_log WHERE kind = 'self_recovery'",
        );
        expect(audit.rows).toHaveLength(1);
        expect(audit.rows[0]!.detail.metric).toBe("model_failure_rate");
        expect(audit.rows[0]!.summary).toContain("model reasoner off");
        expect(audit.rows[0]!.detail.evidence.recent.events * 2).toBeGreaterThanOrEqual(audit.rows[0]!.detail.evidence.recent.trials);

        // When the next incident comes
        const asked = model.requests.length;
        const after = await runScenario(suture, scenario);
        // Then the model is not asked, the brief says why, and the rules still resolve it
        expect(model.requests.length).toBe(asked);
        expect(after.state.diagnoses[0]?.notes.join("\n")).toMatch(/model reasoner off \(self-recovery #\d+/);
        expect(after.state.outcome?.status).toBe("resolved");

        // And no autonomy was widened: nothing but the one rollback ever ran, and no action is left half-done
        const actions = await suture.db.pool.query<{ tool: string; status: string }>("SELECT tool, status FROM actions");
        expect(new Set(actions.rows.map((a) => `${a.tool} ${a.status}`))).toEqual(new Set(["rollout_undo succeeded"]));
        const counted = await suture.db.pool.query<{ outcome: string }>("SELECT DISTINCT outcome FROM self_calls WHERE component = 'model'");
        expect(counted.rows.map((r) => r.outcome)).toContain("ok");
        // And /metrics exports the model calls by outcome and the recovery in force
        const { body } = await new SutureMetrics(suture.db).render();
        expect(body).toMatch(/suture_model_calls_total\{model="scripted-diagnoser",outcome="ok"\} [1-9]/);
        expect(body).toMatch(/suture_self_recoveries_in_force\{kind="model_off",metric="model_failure_rate"\} 1/);
      } finally {
        await fresh.suture.close();
      }
    },
  );
});
