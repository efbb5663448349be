/**
 * What the LLM path costs Suture itself, besides the model's own latency: building the fenced,
 * budgeted prompt from an incident's evidence, grounding a model answer against the evidence and
 * the tool registry, and pooling it with the rules. The baseline, in the same run on the same
 * incidents, is the runbook rules' own diagnosis. Also reports how large the prompts of the
 * shipped scenarios are against the default budget, and how much evidence the budget dropped.
 */
import { openDatabase } from "../store/database.js";
import type { Hypothesis } from "../domain/model.js";
import { migrate } from "../store/migrate.js";
import { MemoryNotifier } from "../app/notify.js";
import { combine } from "../reasoners/combine.js";
import { ground } from "../reasoners/llm/llm-reasoner.js";
import { buildPrompt } from "../reasoners/llm/prompt.js";
import type { ModelDiagnosis } from "../reasoners/llm/diagnosis-schema.js";
import type { ReasonerInput } from "../reasoners/reasoner.js";
import { runScenario } from "../app/scenario-run.js";
import { wireSuture } from "../app/suture.js";
import { loadScenario } from "../app/scenario.js";
import { scenarioFiles } from "../app/evaluate.js";
import type { ToolRegistry } from "../tools/registry.js";
import { percentile } from "./stats.js";
import { SCENARIOS_DIR } from "../domain/data.js";

const REPEATS = 200;
const TOKEN_BUDGET = 6000;

/** The table's figures. */
export interface LlmPromptRow {
  scenarios: number;
  promptTokensP50: number;
  promptTokensMax: number;
  droppedEvidence: number;
  buildP50Ms: number;
  groundAndCombineP50Ms: number;
  rulesP50Ms: number;
}

function time(work: () => unknown): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}

/** A plausible model answer for an incident: three hypotheses citing its first evidence items, one with a remediation. */
function answerFor(input: ReasonerInput): ModelDiagnosis {
  const ids = input.context.evidence.slice(0, 4).map((e) => e.id);
  const hypothesis = (faultClass: string, remediations: ModelDiagnosis["hypotheses"][number]["remediations"]) => ({
    faultClass,
    category: "deployment",
    title: faultClass,
    confidence: 0.8,
    evidenceIds: [...ids, "ev-9999"],
    disposition: "act" as const,
    remediations,
    readings: [{ service: input.alert.service, metric: "error_rate", trend: "rising" as const }],
    explanation: "bench",
  });
  return {
    hypotheses: [
      hypothesis("bad-rollout", [{ tool: "rollout_undo", params: { service: input.alert.service, toRevision: 1 }, rationale: "bench" }]),
      hypothesis("memory-leak", []),
      hypothesis("traffic-surge", [{ tool: "scale_deployment", params: { service: input.alert.service, replicas: 6 }, rationale: "bench" }]),
    ],
  };
}

/** Runs the shipped scenarios once (rules) to get real incident contexts, then times each step on them. */
export async function benchLlmPrompt(): Promise<LlmPromptRow> {
  const db = await openDatabase({ dataDir: "memory://" });
  try {
    await migrate(db);
    const suture = await wireSuture(db, { notifier: new MemoryNotifier() });
    const rules = suture.reasoners[0];
    if (rules === undefined) throw new Error("no rules reasoner");
    const inputs: ReasonerInput[] = [];
    for (const file of await scenarioFiles([SCENARIOS_DIR])) {
      const run = await runScenario(suture, await loadScenario(file));
      if (run.state.context !== null) inputs.push({ alert: run.state.alert, context: run.state.context, attempts: run.state.attempts });
    }
    const tokens: number[] = [];
    let dropped = 0;
    const build: number[] = [];
    const groundCombine: number[] = [];
    const rulesMs: number[] = [];
    for (const input of inputs) {
      const prompt = buildPrompt(input, suture.tools, TOKEN_BUDGET);
      tokens.push(prompt.tokens);
      dropped += prompt.droppedEvidence;
      const answer = answerFor(input);
      const ruled = await rules.diagnose(input);
      for (let i = 0; i < REPEATS; i++) {
        build.push(time(() => buildPrompt(input, suture.tools, TOKEN_BUDGET)));
        groundAndCombine(groundCombine, answer, input, suture.tools, ruled);
        const start = performance.now();
        await rules.diagnose(input);
        rulesMs.push(performance.now() - start);
      }
    }
    return {
      scenarios: inputs.length,
      promptTokensP50: percentile(tokens, 0.5),
      promptTokensMax: Math.max(...tokens),
      droppedEvidence: dropped,
      buildP50Ms: percentile(build, 0.5),
      groundAndCombineP50Ms: percentile(groundCombine, 0.5),
      rulesP50Ms: percentile(rulesMs, 0.5),
    };
  } finally {
    await db.close();
  }
}

function groundAndCombine(into: number[], answer: ModelDiagnosis, input: ReasonerInput, tools: ToolRegistry, ruled: Hypothesis[]): void {
  into.push(time(() => combine([ruled, ground(answer, input.context, tools, input.attempts).hypotheses])));
}

/** Prints the LLM-path table with its ratio to the rules' own diagnosis. */
export function printLlmPromptTable(r: LlmPromptRow): void {
  console.log(`\nLLM path inside Suture (no model latency), ${r.scenarios} shipped scenarios × ${REPEATS}, prompt budget ${TOKEN_BUDGET} tokens\n`);
  const header = `${"step".padEnd(34)} ${"p50 ms".padStart(8)} ${"vs rules' diagnosis".padStart(20)}`;
  console.log(header);
  console.log("-".repeat(header.length));
  for (const [step, ms] of [
    ["runbook rules diagnose (baseline)", r.rulesP50Ms],
    ["build fenced, budgeted prompt", r.buildP50Ms],
    ["ground model answer + combine", r.groundAndCombineP50Ms],
  ] as const) {
    console.log(`${step.padEnd(34)} ${ms.toFixed(3).padStart(8)} ${`${(ms / r.rulesP50Ms).toFixed(2)}×`.padStart(20)}`);
  }
  console.log(`\nprompt size: p50 ${r.promptTokensP50} estimated tokens, max ${r.promptTokensMax} (budget ${TOKEN_BUDGET}); evidence items dropped by the budget: ${r.droppedEvidence}`);
}

if (process.argv[1]?.endsWith("llm-prompt.ts") === true) {
  printLlmPromptTable(await benchLlmPrompt());
}
