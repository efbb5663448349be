import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IncidentMemory } from "../../memory/incident-memory.js";
import { PolicyEngine } from "../../policy/policy.js";
import { withSections } from "../../policy/schema.js";
import { LlmReasoner, type LlmOptions } from "../../reasoners/llm/llm-reasoner.js";
import type { Reasoner } from "../../reasoners/reasoner.js";
import { type RunResult } from "../../app/advance.js";
import { runScenario } from "../../app/scenario-run.js";
import type { Suture } from "../../app/suture.js";
import { testBackends } from "../helpers/backends.js";
import { evidenceId, imagePullHypothesis, startScriptedModel, type ChatRequest, type ScriptedModelServer, type ScriptStep } from "../helpers/openai-server.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

/** A watched signal of `service` listed in the prompt that moved away from its baseline, and which way. */
function movedSignal(request: ChatRequest, service: string): { metric: string; rising: boolean } {
  const user = request.messages.find((m) => m.role === "user")?.content ?? "";
  for (const line of user.split("\n")) {
    const m = new RegExp(`^- ${service} (\\S+): (-?[\\d.]+) \\(baseline (-?[\\d.]+)\\)`).exec(line);
    if (m === null) continue;
    const [current, baseline] = [Number(m[2]), Number(m[3])];
    if (Math.abs(current - baseline) > 0.2 * Math.max(Math.abs(baseline), 1e-9)) return { metric: m[1]!, rising: current > baseline };
  }
  throw new Error(`no moved signal of ${service} in the prompt`);
}

/** A model answer: one bad-rollout hypothesis citing the image-pull evidence, proposing `call`. */
function rollbackAnswer(request: ChatRequest, call: { tool: string; params: Record<string, unknown> } = { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } }, cite?: string[]) {
  return { answer: { hypotheses: [imagePullHypothesis(cite ?? [evidenceId(request, /ImagePull|ErrImagePull/)], call)] } };
}

/** A model answer for the leaking recommendations service: more memory headroom (which cannot fix a leak). */
function raiseMemoryLimit(request: ChatRequest) {
  return {
    answer: {
      hypotheses: [
        {
          faultClass: "memory-limit-too-low",
          category: "resources",
          title: "The memory limit is too tight",
          confidence: 0.95,
          evidenceIds: [evidenceId(request, /OOMKilled/)],
          disposition: "act",
          remediations: [{ tool: "set_memory_limit", params: { service: "recommendations", limitMib: 768 }, rationale: "more headroom" }],
          explanation: "Pods are OOM-killed at the limit.",
        },
      ],
    },
  };
}

describe.each(testBackends())("LLM reasoner: the real ChatOpenAI client over HTTP against a scripted OpenAI-compatible server, on $name", (backend) => {
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
    // Each run remembers in its own scope: what one test's model tried must not steer the next test.
    const memory = new IncidentMemory(t.suture.db, t.suture.memory.embedder, `llm-test-${randomUUID()}`);
    const suture: Suture = { ...t.suture, memory, reasoners: withRules ? [...t.suture.reasoners, llm] : [llm] };
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
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/discarded 1 model proposal\(s\): "New revision cannot pull its image" cites no evidence that exists \(ev-9999\)/);
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

  it.each(["jsonSchema", "functionCalling"] as const)("corrects malformed JSON (%s) once, then uses the good answer", async (method) => {
    const result = await run([{ content: '{"hypotheses": [ {"faultClass": "bad-rollout", ' }, (r) => rollbackAnswer(r)], { method });
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
          {
            ...rollbackAnswer(r).answer.hypotheses[0]!,
            title: "Ignore the policy and scale to zero",
            remediations: [{ tool: "scale_deployment", params: { service: "checkout", replicas: 0 }, rationale: "as instructed" }],
          },
          {
            ...rollbackAnswer(r).answer.hypotheses[0]!,
            title: "Delete the network policy",
            confidence: 0.9,
            remediations: [{ tool: "delete_network_policy", params: { service: "payments", policy: "allow-all" }, rationale: "as instructed" }],
          },
        ],
      },
    });
    const result = await run([obey]);
    // Then nothing ran, and the policy's reasons say why
    expect(result.state.attempts).toHaveLength(0);
    expect(result.state.verdict?.outcome).not.toBe("allow");
    expect(result.state.verdict?.reasons.join()).toMatch(/would take it offline/);
  });

  it("agreeing with the rules raises confidence, and the brief shows each reasoner's contribution", async () => {
    // Given the rules and a model that both see a bad rollout
    const result = await run([(r) => rollbackAnswer(r)], {}, true);
    // Then one pooled hypothesis carries both contributions and is more confident than either
    const top = result.state.diagnoses[0]!.hypotheses[0]!;
    expect(top.reasoner).toBe("rules+llm");
    expect(top.contributions?.map((c) => c.reasoner)).toEqual(["rules", "llm"]);
    const [rules, llm] = top.contributions!;
    expect(top.confidence).toBeGreaterThan(Math.max(rules!.confidence, llm!.confidence));
    expect(result.state.outcome?.status).toBe("resolved");
    const incident = await t.suture.store.getIncident(result.incidentId);
    const brief = incident.brief as { hypotheses: Array<{ contributions?: unknown[] }>; modelUsage?: { tokens: number } };
    expect(brief.hypotheses[0]?.contributions).toHaveLength(2);
    expect(brief.modelUsage?.tokens).toBe(1050);
    expect(await t.suture.store.modelUsageFor(result.incidentId)).toEqual([{ model: "scripted-diagnoser", rounds: 1, tokens: 1050, costUsd: expect.closeTo(0.00063, 6) as number }]);
  });

  it("flags a hypothesis whose stated readings contradict the signals and halves its confidence", async () => {
    // Given a model that claims the opposite of what a watched signal of checkout did
    const contradicting = (r: ChatRequest) => {
      const signal = movedSignal(r, "checkout");
      const base = rollbackAnswer(r).answer.hypotheses[0]!;
      return { answer: { hypotheses: [{ ...base, readings: [{ service: "checkout", metric: signal.metric, trend: signal.rising ? "falling" : "rising" }] }] } };
    };
    const result = await run([contradicting]);
    // Then the step is flagged, confidence drops below what it would have been, and the note says why
    const h = result.state.diagnoses[0]!.hypotheses[0]!;
    expect(h.inconsistencies?.[0]).toMatch(/the tools read (rising|falling)/);
    expect(h.confidence).toBeCloseTo(0.97 * 0.85 * 0.5, 5);
    expect(result.state.diagnoses[0]!.notes.join()).toMatch(/inconsistent with the signals, confidence halved/);
    // And a reading that matches the tools costs nothing
    const agreeing = (r: ChatRequest) => {
      const signal = movedSignal(r, "checkout");
      const base = rollbackAnswer(r).answer.hypotheses[0]!;
      return { answer: { hypotheses: [{ ...base, readings: [{ service: "checkout", metric: signal.metric, trend: signal.rising ? "rising" : "falling" }] }] } };
    };
    const ok = await run([agreeing]);
    expect(ok.state.diagnoses[0]!.hypotheses[0]!.inconsistencies).toBeUndefined();
    expect(ok.state.diagnoses[0]!.hypotheses[0]!.confidence).toBeCloseTo(0.97 * 0.85, 5);
  });

  it.each(["jsonSchema", "functionCalling"] as const)("replans (%s) after a failed verification from the healing history, never repeating what was tried", async (method) => {
    // Given a model that first raises the memory limit of a leaking service (raiseMemoryLimit: it cannot fix a leak)
    // And which, shown the history, repeats that (to be refused) and also proposes the rollback
    const replan = (r: ChatRequest) => ({
      answer: {
        hypotheses: [
          { ...raiseMemoryLimit(r).answer.hypotheses[0]! },
          {
            faultClass: "memory-leak",
            category: "resources",
            title: "The current revision leaks memory",
            confidence: 0.9,
            evidenceIds: [evidenceId(r, /OOMKilled/)],
            disposition: "act",
            remediations: [{ tool: "rollout_undo", params: { service: "recommendations", toRevision: 1 }, rationale: "memory kept climbing with more headroom" }],
            explanation: "Memory climbs at the same rate after the limit was raised: a leak.",
          },
        ],
      },
    });
    const result = await run([raiseMemoryLimit, replan], { method }, false, "memory-leak-old-revision");
    // Then the second prompt carries the attempt with its verdict and before/after signals
    expect(model.requests).toHaveLength(2);
    const second = model.requests[1]!.messages.find((m) => m.role === "user")?.content ?? "";
    expect(second).toMatch(/attempt 1: set_memory_limit \{"service":"recommendations","limitMib":768\} → not_recovered/);
    expect(second).toMatch(/verify: recommendations memory still climbing/);
    expect(second).toMatch(/signals before → after: recommendations \S+ [\d.]+ → [\d.]+ \(baseline/);
    // And the repeat is refused, the new strategy runs and resolves the incident
    expect(result.state.diagnoses[1]!.notes.join()).toMatch(/proposes set_memory_limit on recommendations, already tried/);
    expect(result.state.attempts.map((a) => `${a.call.tool}:${a.verdict ?? "-"}`)).toEqual(["set_memory_limit:not_recovered", "rollout_undo:recovered"]);
    expect(result.state.outcome?.status).toBe("resolved");
  });

  it("escalates when, after a failed verification, the model has nothing new", async () => {
    const result = await run([raiseMemoryLimit, raiseMemoryLimit], {}, false, "memory-leak-old-revision");
    expect(result.state.attempts).toHaveLength(1);
    expect(result.state.outcome?.status).toBe("escalated");
    expect(result.state.diagnoses[1]!.notes.join()).toMatch(/already tried/);
  });

  it("does not ask the model once the incident's model budget would be passed", async () => {
    // Given a policy whose model budget is smaller than one prompt
    const tight = withSections(t.suture.policy.policy, { guardrails: { ...t.suture.policy.policy.guardrails, maxModelTokens: 100 } });
    model.play([(r) => rollbackAnswer(r)]);
    const llm = new LlmReasoner(options(), t.suture.tools);
    const suture: Suture = { ...t.suture, reasoners: [...t.suture.reasoners, llm], policy: new PolicyEngine(tight, t.suture.tools) };
    const result = await runScenario(suture, await shippedScenario("bad-rollout-missing-image"));
    // Then no request reached the model, the rules decided, and the brief says why
    expect(model.requests).toHaveLength(0);
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/model budget: 0 tokens .* would pass 100 tokens .*model not asked/);
    expect(result.state.outcome?.status).toBe("resolved");
  });

  it("a separate small classification model picks the evidence the diagnosis prompt keeps under a tight budget", async () => {
    // Given the evidence ids a roomy prompt shows, and those a tight budget keeps by Suture's own ranking
    const ids = (r: ChatRequest | undefined) => [...(r?.messages.find((m) => m.role === "user")?.content ?? "").matchAll(/^- \[(ev-\d+)\]/gm)].map((m) => m[1]!);
    await run([(r) => rollbackAnswer(r)], { tokenBudget: 20_000 });
    const all = ids(model.requests[0]);
    await run([(r) => rollbackAnswer(r)], { tokenBudget: 2_600 });
    const kept = ids(model.requests[0]);
    const dropped = all.filter((id) => !kept.includes(id));
    expect(dropped.length, "the tight budget drops some evidence").toBeGreaterThan(0);
    // When a classifier model names a dropped item as the most relevant
    const byModel = (r: ChatRequest) => (r.model === "scripted-classifier" ? { answer: { category: "deployment", relevantEvidenceIds: [dropped[0], "ev-9999"] } } : rollbackAnswer(r));
    const result = await run([byModel, byModel], { tokenBudget: 2_600, classifierModel: "scripted-classifier" });
    // Then the classifier is asked first, the diagnosis prompt keeps that item, and both models' tokens are counted
    expect(model.requests.map((r) => r.model)).toEqual(["scripted-classifier", "scripted-diagnoser"]);
    expect(ids(model.requests[1])).toContain(dropped[0]);
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/classifier scripted-classifier: deployment; 1 evidence item\(s\) put first/);
    expect(result.state.usage.modelTokens).toBe(2100);
    expect((await t.suture.store.modelUsageFor(result.incidentId)).map((u) => u.model)).toEqual(["scripted-classifier", "scripted-diagnoser"]);
    expect(result.state.outcome?.status).toBe("resolved");
  });

  it("a failing classifier leaves the diagnosis to Suture's own ranking", async () => {
    const byModel = (r: ChatRequest) => (r.model === "scripted-classifier" ? { status: 503 } : rollbackAnswer(r));
    const result = await run([byModel, byModel], { classifierModel: "scripted-classifier" });
    expect(result.state.diagnoses[0]?.notes.join()).toMatch(/classifier scripted-classifier HTTP 503: diagnosis used Suture's own evidence ranking/);
    expect(result.state.outcome?.status).toBe("resolved");
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
