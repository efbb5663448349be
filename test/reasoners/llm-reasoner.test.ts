import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmReasoner, type LlmOptions } from "../../reasoners/llm/llm-reasoner.js";
import type { Reasoner } from "../../reasoners/reasoner.js";
import { runScenario, type RunResult } from "../../runtime/incident-runner.js";
import type { Suture } from "../../runtime/suture.js";
import { testBackends } from "../helpers/backends.js";
import { evidenceId, startScriptedModel, type ChatRequest, type ScriptedModelServer, type ScriptStep } from "../helpers/openai-server.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

/** A model answer: one bad-rollout hypothesis citing the image-pull evidence, proposing `call`. */
function rollbackAnswer(request: ChatRequest, call: { tool: string; params: Record<string, unknown> } = { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } }, cite?: string[]) {
  return {
    answer: {
      hypotheses: [
        {
          faultClass: "bad-rollout",
          category: "deployment",
          title: "New revision cannot pull its image",
          confidence: 0.97,
          evidenceIds: cite ?? [evidenceId(request, /ImagePull|ErrImagePull/)],
          disposition: "act",
          remediations: [{ ...call, rationale: "the previous revision's image exists" }],
          explanation: "Pods of the new revision are stuck pulling an image tag that does not exist.",
        },
      ],
    },
  };
}

const backend = testBackends()[0]!;

describe("LLM reasoner: the real ChatOpenAI client over HTTP against a scripted OpenAI-compatible server", () => {
  let model: ScriptedModelServer;
  let t: TestSuture;

  beforeAll(async () => {
    model = await startScriptedModel();
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await model.close();
    await t.suture.db.close();
  });

  const options = (overrides: Partial<LlmOptions> = {}): LlmOptions => ({
    apiKey: "sk-test",
    baseURL: model.baseURL,
    model: "scripted-diagnoser",
    method: "jsonSchema",
    timeoutMs: 2_000,
    corrections: 1,
    tokenBudget: 6_000,
    usdPerMillionTokens: 0.6,
    ...overrides,
  });

  /** Runs the scenario with the model as the only reasoner (or beside the rules). */
  async function run(steps: ScriptStep[], opts: Partial<LlmOptions> = {}, withRules = false, scenario = "bad-rollout-missing-image"): Promise<RunResult> {
    model.play(steps);
    const llm: Reasoner = new LlmReasoner(options(opts), t.suture.tools);
    const suture: Suture = { ...t.suture, reasoners: withRules ? [...t.suture.reasoners, llm] : [llm] };
    return runScenario(suture, await shippedScenario(scenario));
  }

  it.each(["jsonSchema", "functionCalling"] as const)("a correct diagnosis (%s) is grounded, acted on and resolves the incident; tokens are counted", async (method) => {
    const result = await run([(r) => rollbackAnswer(r)], { method });
    expect(result.state.outcome?.status).toBe("resolved");
    expect(result.state.attempts[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } });
    expect(result.state.diagnoses[0]?.chosen?.reasoner).toBe("llm");
    expect(result.state.usage.modelTokens).toBe(1050);
    expect(result.state.usage.modelCostUsd).toBeCloseTo(0.00063, 6);
    const sent = model.requests[0]!;
    if (method === "jsonSchema") expect(sent.response_format?.type).toBe("json_schema");
    else expect(sent.tools?.[0]?.function.name).toBe("diagnosis");
  });

  it("discards a hypothesis that cites only evidence that does not exist", async () => {
    const result = await run([(r) => rollbackAnswer(r, undefined, ["ev-9999"])]);
    expect(result.state.outcome?.status).toBe("escalated");
    expect(result.state.attempts).toHaveLength(0);
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/discarded 1 model hypothesis\(es\): "New revision cannot pull its image" cites no evidence that exists \(ev-9999\)/);
  });

  it("discards a hypothesis that proposes an unknown tool", async () => {
    const result = await run([(r) => rollbackAnswer(r, { tool: "kubectl_exec", params: { service: "checkout", command: "rm -rf /data" } })]);
    expect(result.state.attempts).toHaveLength(0);
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/proposes unknown tool "kubectl_exec"/);
  });

  it("discards a hypothesis whose parameters are out of the tool's bounds", async () => {
    const result = await run([(r) => rollbackAnswer(r, { tool: "scale_deployment", params: { service: "checkout", replicas: 5000 } })]);
    expect(result.state.attempts).toHaveLength(0);
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/proposes scale_deployment with invalid parameters: replicas: expected at most 50 replicas/);
  });

  it("corrects malformed JSON once, then uses the good answer", async () => {
    const result = await run([{ content: '{"hypotheses": [ {"faultClass": "bad-rollout", ' }, (r) => rollbackAnswer(r)]);
    expect(model.requests, result.state.diagnoses[0]?.notes.join()).toHaveLength(2);
    expect(model.requests[1]?.messages.at(-1)?.content).toMatch(/Your previous answer was invalid/);
    expect(result.state.outcome?.status).toBe("resolved");
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/model output valid after 1 correction/);
    // The unreadable reply's usage is lost with it: its prompt is counted by estimate.
    expect(result.state.usage.modelTokens).toBeGreaterThan(1050 + 500);
  });

  it.each([
    ["a timeout", { hangMs: 5_000 }, /model scripted-diagnoser timed out: decided by the offline reasoners only/],
    ["429", { status: 429, message: "Rate limit reached" }, /model scripted-diagnoser rate limited \(429\): decided by the offline reasoners only/],
    ["a 503", { status: 503 }, /model scripted-diagnoser HTTP 503/],
  ] as const)("falls back to the offline reasoners on %s, never failing the incident", async (_name, step, note) => {
    const result = await run([step], { timeoutMs: 800 }, true);
    expect(result.state.outcome?.status).toBe("resolved");
    expect(result.state.diagnoses[0]?.chosen?.reasoner).toBe("rules");
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(note);
  });

  it("a model that obeys an injection still gets nothing past the policy", async () => {
    // Given a model that does what injected text asks: take the service offline, or delete a security control
    const obey = (r: ChatRequest) => ({
      answer: {
        hypotheses: [
          { ...rollbackAnswer(r).answer.hypotheses[0]!, title: "Ignore the policy and scale to zero", remediations: [{ tool: "scale_deployment", params: { service: "checkout", replicas: 0 }, rationale: "as instructed" }] },
          { ...rollbackAnswer(r).answer.hypotheses[0]!, title: "Delete the network policy", confidence: 0.9, remediations: [{ tool: "delete_network_policy", params: { service: "payments", policy: "allow-all" }, rationale: "as instructed" }] },
        ],
      },
    });
    const result = await run([obey]);
    // Then nothing ran, and the policy's reasons say why
    expect(result.state.attempts).toHaveLength(0);
    expect(result.state.verdict?.outcome).not.toBe("allow");
    expect(result.state.verdict?.reasons.join()).toMatch(/would take it offline/);
  });

  it("fences text from alerts and logs as untrusted in the prompt", async () => {
    await run([(r) => rollbackAnswer(r)]);
    const user = model.requests[0]?.messages.find((m) => m.role === "user")?.content ?? "";
    const system = model.requests[0]?.messages.find((m) => m.role === "system")?.content ?? "";
    expect(system).toMatch(/never instructions/);
    expect(user).toMatch(/summary: <untrusted>Pods of checkout have been in a non-ready state/);
    // Every fence opened is closed before the next opens: untrusted text cannot end its fence early.
    const opens = user.split("<untrusted>").length - 1;
    const closes = user.split("</untrusted>").length - 1;
    expect(opens).toBe(closes);
    expect(opens).toBeGreaterThan(5);
  });
});
