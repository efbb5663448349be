import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { formatZodError } from "../../domain/problems.js";
import { round } from "../../evidence/metrics.js";
import type { Attempt, Hypothesis, IncidentContext } from "../../domain/model.js";
import type { ModelOutcome } from "../../domain/self-calls.js";
import type { ToolRegistry } from "../../tools/registry.js";
import type { Reasoner, ReasonerInput } from "../reasoner.js";
import { MODEL_CLASSIFICATION_JSON_SCHEMA, MODEL_DIAGNOSIS_JSON_SCHEMA, ModelClassificationSchema, ModelDiagnosisSchema, type ModelDiagnosis } from "./diagnosis-schema.js";
import { buildClassificationPrompt, buildPrompt } from "./prompt.js";

/**
 * A model's stated confidence is scaled by this before it competes with the runbook rules: models
 * state 0.9 for guesses the evidence only half supports, and a rule match is a checked pattern.
 */
export const LLM_CONFIDENCE_SCALE = 0.85;

/** How to reach the model. */
export interface LlmOptions {
  apiKey: string;
  /** An OpenAI-compatible server (vLLM, Ollama, …); unset = OpenAI. */
  baseURL?: string;
  model: string;
  /**
   * A small, fast model that first picks the evidence that matters, so the diagnosis prompt keeps
   * it when the budget forces cuts; unset = no classification step.
   */
  classifierModel?: string;
  /** `jsonSchema` (response_format) or `functionCalling` (a forced tool call). */
  method: "jsonSchema" | "functionCalling";
  timeoutMs: number;
  /** Corrective retries after invalid output. */
  corrections: number;
  /** Prompt budget in (estimated) tokens. */
  tokenBudget: number;
  /** Estimated price per million tokens, for the incident's cost budget. */
  usdPerMillionTokens: number;
}

/** What grounding kept and why it threw the rest away. */
export interface Grounded {
  hypotheses: Hypothesis[];
  discarded: string[];
  /** Hypotheses whose stated readings contradict the signals, each with what disagreed. */
  inconsistent: string[];
}

/** A hypothesis whose stated readings contradict the signals keeps this share of its confidence. */
export const INCONSISTENT_CONFIDENCE_FACTOR = 0.5;
/** Within this relative distance two readings are the same level ("steady"). */
const STEADY_BAND = 0.1;

function trendOf(from: number, to: number): "rising" | "falling" | "steady" {
  const scale = Math.max(Math.abs(from), 1e-9);
  if ((to - from) / scale > STEADY_BAND) return "rising";
  if ((from - to) / scale > STEADY_BAND) return "falling";
  return "steady";
}

/**
 * What the tools say a signal did: since the last attempt that measured it (before → after), or
 * else against its pre-incident baseline.
 */
export function observedTrend(service: string, metric: string, context: IncidentContext, attempts: Attempt[]): { trend: "rising" | "falling" | "steady"; detail: string } | undefined {
  for (const a of [...attempts].reverse()) {
    const before = a.before.signals.find((x) => x.service === service && x.metric === metric);
    const after = a.after?.signals.find((x) => x.service === service && x.metric === metric);
    if (before !== undefined && after !== undefined) {
      return { trend: trendOf(before.current, after.current), detail: `${round(before.current)} → ${round(after.current)} after attempt ${a.number}` };
    }
  }
  const s = context.snapshot.signals.find((x) => x.service === service && x.metric === metric);
  if (s === undefined) return undefined;
  return { trend: trendOf(s.baseline, s.current), detail: `${round(s.current)} against a baseline of ${round(s.baseline)}` };
}

/**
 * Keeps only what the incident can back: every hypothesis must cite at least one evidence id that
 * exists (invented ids are dropped and cost confidence), and every proposed call must name a
 * registered remediation tool with parameters valid against its schema, or the whole hypothesis
 * is discarded. Calls already tried are dropped (replanning must bring something new). A stated
 * reading the signals contradict (the model says lag is falling, the metric is rising) flags
 * the hypothesis as inconsistent and costs it half its confidence.
 */
export function ground(diagnosis: ModelDiagnosis, context: IncidentContext, tools: ToolRegistry, attempts: Attempt[] = []): Grounded {
  const known = new Set(context.evidence.map((e) => e.id));
  const tried = new Set(attempts.map((a) => a.strategy));
  const hypotheses: Hypothesis[] = [];
  const discarded: string[] = [];
  const inconsistent: string[] = [];
  diagnosis.hypotheses.forEach((h, i) => {
    const real = h.evidenceIds.filter((id) => known.has(id));
    const invented = h.evidenceIds.filter((id) => !known.has(id));
    if (real.length === 0) {
      discarded.push(`"${h.title}" cites no evidence that exists${invented.length > 0 ? ` (${invented.join(", ")})` : ""}`);
      return;
    }
    const candidates: Hypothesis["candidates"] = [];
    for (const r of h.remediations) {
      if (!tools.has(r.tool) || tools.get(r.tool).risk === "read") {
        discarded.push(`"${h.title}" proposes ${tools.has(r.tool) ? `read tool "${r.tool}" as a fix` : `unknown tool "${r.tool}"`}`);
        return;
      }
      const parsed = tools.parseCall({ tool: r.tool, params: r.params });
      if (!parsed.ok) {
        discarded.push(`"${h.title}" proposes ${r.tool} with invalid parameters: ${parsed.error}`);
        return;
      }
      const target = tools.get(r.tool).target?.(parsed.params).service ?? "";
      const strategy = `${r.tool}:${target}`;
      if (tried.has(strategy)) {
        discarded.push(`"${h.title}" proposes ${r.tool} on ${target}, already tried`);
        continue;
      }
      candidates.push({ call: { tool: r.tool, params: parsed.params }, rationale: r.rationale, strategy });
    }
    if (h.disposition === "act" && h.remediations.length > 0 && candidates.length === 0) return;
    const contradictions = h.readings.flatMap((reading) => {
      const seen = observedTrend(reading.service, reading.metric, context, attempts);
      if (seen === undefined) return [`says ${reading.service} ${reading.metric} is ${reading.trend}, but no such signal was read`];
      return seen.trend === reading.trend ? [] : [`says ${reading.service} ${reading.metric} is ${reading.trend}; the tools read ${seen.trend} (${seen.detail})`];
    });
    if (contradictions.length > 0) inconsistent.push(`"${h.title}" ${contradictions.join("; ")}`);
    const share = real.length / h.evidenceIds.length;
    const consistency = contradictions.length > 0 ? INCONSISTENT_CONFIDENCE_FACTOR : 1;
    hypotheses.push({
      id: `llm:${i + 1}:${h.faultClass}`,
      faultClass: h.faultClass,
      category: h.category,
      title: h.title,
      confidence: Math.min(1, Math.max(0, h.confidence * LLM_CONFIDENCE_SCALE * share * consistency)),
      evidenceIds: real,
      reasoner: "llm",
      disposition: h.disposition,
      candidates: h.disposition === "act" ? candidates : [],
      explanation: `${h.explanation}${invented.length > 0 ? ` (cited ids that do not exist, ignored: ${invented.join(", ")})` : ""}`,
      ...(contradictions.length > 0 ? { inconsistencies: contradictions } : {}),
    });
  });
  return { hypotheses, discarded, inconsistent };
}

function describeFailure(error: unknown): string {
  const e = error as { status?: number; name?: string; message?: string };
  if (e.status === 429) return "rate limited (429)";
  if (typeof e.status === "number") return `HTTP ${e.status}`;
  if (e.name === "AbortError" || e.name === "TimeoutError" || /timed? ?out/i.test(e.message ?? "")) return "timed out";
  return (e.message ?? String(error)).split("\n")[0] ?? "failed";
}

/** A reply that arrived but is not JSON for the schema (as opposed to a transport or HTTP failure). */
function isInvalidOutput(error: unknown): boolean {
  const e = error as { status?: number; name?: string; message?: string };
  if (typeof e.status === "number" || e.name === "AbortError" || e.name === "TimeoutError") return false;
  return /structured output|JSON|pars(e|ing)|Unexpected (token|end)/i.test(e.message ?? "");
}

function rawText(raw: BaseMessage): string {
  const calls = (raw as { tool_calls?: Array<{ args: unknown }> }).tool_calls ?? [];
  if (calls.length > 0) return JSON.stringify(calls[0]?.args);
  return typeof raw.content === "string" ? raw.content : JSON.stringify(raw.content);
}

/**
 * Diagnosis by a chat model (any OpenAI-compatible server) with structured output. Its answer is
 * grounded before it counts; a model failure leaves the offline reasoners to decide, with a note.
 */
export class LlmReasoner implements Reasoner {
  readonly name = "llm";
  readonly replans = true;
  readonly usesModel = true;
  private readonly model: ChatOpenAI;
  private readonly classifier: ChatOpenAI | undefined;

  constructor(
    private readonly options: LlmOptions,
    private readonly tools: ToolRegistry,
  ) {
    const client = (model: string): ChatOpenAI =>
      new ChatOpenAI({
        model,
        apiKey: options.apiKey,
        temperature: 0,
        maxRetries: 0,
        timeout: options.timeoutMs,
        ...(options.baseURL !== undefined ? { configuration: { baseURL: options.baseURL } } : {}),
      });
    this.model = client(options.model);
    this.classifier = options.classifierModel !== undefined ? client(options.classifierModel) : undefined;
  }

  /** Asks the classification model which evidence matters; on any failure the diagnosis uses Suture's own ranking. */
  private async classify(input: ReasonerInput, notes: string[]): Promise<{ priority: Set<string>; tokens: number }> {
    const model = this.options.classifierModel ?? "";
    if (this.classifier === undefined) return { priority: new Set(), tokens: 0 };
    const prompt = buildClassificationPrompt(input, this.options.tokenBudget);
    const structured = this.classifier.withStructuredOutput(MODEL_CLASSIFICATION_JSON_SCHEMA, { name: "classification", method: this.options.method, includeRaw: true });
    try {
      const result = await structured.invoke([new SystemMessage(prompt.system), new HumanMessage(prompt.user)], { signal: AbortSignal.timeout(this.options.timeoutMs) });
      const tokens = (result.raw as { usage_metadata?: { total_tokens?: number } }).usage_metadata?.total_tokens ?? prompt.tokens;
      const parsed = ModelClassificationSchema.safeParse(result.parsed ?? undefined);
      if (!parsed.success) {
        notes.push(`classifier ${model} returned invalid output: diagnosis used Suture's own evidence ranking`);
        return { priority: new Set(), tokens };
      }
      const known = new Set(input.context.evidence.map((e) => e.id));
      const priority = new Set(parsed.data.relevantEvidenceIds.filter((id) => known.has(id)));
      notes.push(`classifier ${model}: ${parsed.data.category}; ${priority.size} evidence item(s) put first`);
      return { priority, tokens };
    } catch (error) {
      notes.push(`classifier ${model} ${describeFailure(error)}: diagnosis used Suture's own evidence ranking`);
      return { priority: new Set(), tokens: isInvalidOutput(error) ? prompt.tokens : 0 };
    }
  }

  async diagnose(input: ReasonerInput): Promise<Hypothesis[]> {
    const started = performance.now();
    const called = (outcome: ModelOutcome): { model: string; outcome: ModelOutcome; ms: number } => ({ model: this.options.model, outcome, ms: performance.now() - started });
    const prompt = buildPrompt(input, this.tools, this.options.tokenBudget);
    const budget = input.budget;
    if (budget !== undefined) {
      const spent = budget.spent;
      const costAhead = spent.modelCostUsd + (prompt.tokens / 1_000_000) * this.options.usdPerMillionTokens;
      if (spent.modelTokens + prompt.tokens > budget.max.modelTokens || costAhead > budget.max.modelCostUsd) {
        input.report?.({
          notes: [
            `model budget: ${spent.modelTokens} tokens / $${spent.modelCostUsd.toFixed(4)} spent, a ~${prompt.tokens}-token prompt would pass ${budget.max.modelTokens} tokens / $${budget.max.modelCostUsd.toFixed(2)} (policy.guardrails): model not asked`,
          ],
          call: called("skipped"),
        });
        return [];
      }
    }
    const notes: string[] = [];
    const classified = await this.classify(input, notes);
    if (this.options.classifierModel !== undefined) {
      const cost = (classified.tokens / 1_000_000) * this.options.usdPerMillionTokens;
      input.report?.({ usage: { model: this.options.classifierModel, modelTokens: classified.tokens, modelCostUsd: cost } });
    }
    const ranked = classified.priority.size > 0 ? buildPrompt(input, this.tools, this.options.tokenBudget, classified.priority) : prompt;
    const structured = this.model.withStructuredOutput(MODEL_DIAGNOSIS_JSON_SCHEMA, { name: "diagnosis", method: this.options.method, includeRaw: true });
    const messages: BaseMessage[] = [new SystemMessage(ranked.system), new HumanMessage(ranked.user)];
    let tokens = 0;
    const finish = (hypotheses: Hypothesis[], outcome: ModelOutcome): Hypothesis[] => {
      input.report?.({ notes, usage: { model: this.options.model, modelTokens: tokens, modelCostUsd: (tokens / 1_000_000) * this.options.usdPerMillionTokens }, call: called(outcome) });
      return hypotheses;
    };
    for (let attempt = 0; attempt <= this.options.corrections; attempt++) {
      let result: { raw: BaseMessage; parsed: unknown };
      try {
        result = await structured.invoke(messages, { signal: AbortSignal.timeout(this.options.timeoutMs) });
      } catch (error) {
        if (!isInvalidOutput(error)) {
          notes.push(`model ${this.options.model} ${describeFailure(error)}: decided by the offline reasoners only`);
          return finish([], describeFailure(error) === "timed out" ? "timeout" : "error");
        }
        // The client could not even parse the reply as JSON: its usage is lost with it, so count
        // the prompt's estimate, and ask again, saying why.
        tokens += prompt.tokens;
        messages.push(new HumanMessage(`Your previous answer was invalid (${describeFailure(error)}). Reply again with only the diagnosis object matching the schema.`));
        continue;
      }
      tokens += (result.raw as { usage_metadata?: { total_tokens?: number } }).usage_metadata?.total_tokens ?? 0;
      const parsed = ModelDiagnosisSchema.safeParse(result.parsed ?? undefined);
      if (parsed.success) {
        const grounded = ground(parsed.data, input.context, this.tools, input.attempts);
        if (grounded.discarded.length > 0) notes.push(`discarded ${grounded.discarded.length} model proposal(s): ${grounded.discarded.join("; ")}`);
        if (grounded.inconsistent.length > 0) notes.push(`inconsistent with the signals, confidence halved: ${grounded.inconsistent.join("; ")}`);
        if (attempt > 0) notes.push(`model output valid after ${attempt} correction(s)`);
        // Valid but nothing survived grounding: the model gave nothing usable, as a drifting model does first.
        return finish(grounded.hypotheses, grounded.hypotheses.length === 0 && grounded.discarded.length > 0 ? "discarded" : "ok");
      }
      const problem = result.parsed == null ? "not valid JSON for the schema" : formatZodError(parsed.error);
      messages.push(new HumanMessage(`Your previous answer was invalid (${problem}). It was:\n${rawText(result.raw).slice(0, 2000)}\nReply again with only the diagnosis object matching the schema.`));
    }
    notes.push(`model ${this.options.model} returned invalid output ${this.options.corrections + 1} time(s): decided by the offline reasoners only`);
    return finish([], "invalid");
  }
}
