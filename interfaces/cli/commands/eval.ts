import { writeFile } from "node:fs/promises";
import type { Config } from "../../../app/config.js";
import { describeReasoners } from "../../../app/config.js";
import { evaluateFiles, scenarioFiles, summarize, withTags, type EvaluationSummary, type ScenarioResult } from "../../../app/evaluate.js";
import { MemoryReasoner } from "../../../reasoners/memory-reasoner.js";
import { openSuture, type Suture } from "../../../app/suture.js";
import { parsePerceptionPath, type PerceptionPath } from "../../../app/sim-kubernetes.js";
import type { CommandArgs } from "../args.js";
import { color } from "../format.js";
import type { Calibration } from "../../../app/calibration.js";
import { SCENARIOS_DIR } from "../../../domain/data.js";

/** Which reasoners an evaluation runs. */
export const REASONER_MODES = ["rules", "memory", "llm", "all"] as const;
/** A reasoner mode of `suture eval`. */
export type ReasonerMode = (typeof REASONER_MODES)[number];

/** `1m30s` for 90 seconds, `-` for none. */
export function minutesSeconds(seconds: number | null): string {
  return seconds === null ? "-" : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

function row(r: ScenarioResult): string {
  const ttm = minutesSeconds(r.timeToMitigateSec);
  const correct = r.correct ? color("green", "yes") : color("red", "NO ");
  const unsafe = r.unsafe ? color("red", "YES") : "no ";
  const reliability = r.reliability === null ? "-" : r.reliability.toFixed(2);
  return `${r.scenario.padEnd(34)} ${r.outcome.padEnd(10)} ${(r.actions.join(">") || "-").padEnd(26)} ${correct}      ${unsafe}     ${ttm.padStart(7)} ${String(r.toolCalls).padStart(6)} ${reliability.padStart(5)}  ${r.decidedBy ?? "-"}`;
}

/** Parses `--reasoner`, failing with the accepted values. */
export function parseReasonerMode(value: unknown): ReasonerMode {
  if (value === undefined) return "all";
  if (typeof value === "string" && (REASONER_MODES as readonly string[]).includes(value)) return value as ReasonerMode;
  throw new Error(`--reasoner ${JSON.stringify(value)}: expected one of ${REASONER_MODES.join(", ")}`);
}

/**
 * `suture eval <files or dirs> [--tag t]… [--reasoner rules|memory|llm|all] [--via kubernetes|in-process] [--json out.json]`:
 * runs scenarios (only those carrying every `--tag`) and scores them; exit 1 if any is wrong or unsafe. `--via kubernetes` perceives
 * and acts on each world through its Kubernetes API with the real adapter.
 *
 * `rules` and `llm` run that reasoner alone (no memory adjustment); `all` runs the configured
 * combination. `memory` is leave-one-out: every scenario first runs with the configured
 * reasoners so memory has experience, then each runs again with memory as the only reasoner,
 * its own earlier incident hidden from recall.
 */
export async function evalCommand(config: Config, args: CommandArgs): Promise<number> {
  const mode = parseReasonerMode(args.values["reasoner"]);
  const via = parsePerceptionPath(args.values["via"]);
  if (mode === "llm" && config.openaiApiKey === undefined) {
    throw new Error("--reasoner llm needs a model: set OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible server such as vLLM or Ollama)");
  }
  const inputs = args.positionals.length > 0 ? args.positionals : [SCENARIOS_DIR];
  const tagged = args.values["tag"];
  const tags = Array.isArray(tagged) ? tagged : typeof tagged === "string" ? [tagged] : [];
  const files = await withTags(await scenarioFiles(inputs), tags);
  if (files.length === 0) throw new Error(`no scenario in ${inputs.join(", ")} carries the tag(s) ${tags.join(", ")}`);
  // Each evaluation learns only from its own incidents, so results do not depend on earlier runs.
  const memoryScope = `eval-${new Date()
    .toISOString()
    .replace(/[^0-9]/g, "")
    .slice(0, 14)}-${process.pid}`;
  const suture = await openSuture(config, { migrate: true, memoryScope });
  try {
    console.log(mode === "all" ? describeReasoners(config) : `reasoner: ${mode} alone`);
    console.log(`perception: ${via === "kubernetes" ? "through the simulated cluster's Kubernetes API (real client)" : "in-process simulator"}`);
    const runWith = await reasonersFor(suture, mode, files, via);
    console.log(`${"scenario".padEnd(34)} ${"outcome".padEnd(10)} ${"actions".padEnd(26)} correct? unsafe? ${"TTM".padStart(7)} ${"tools".padStart(6)} ${"rel.".padStart(5)}  decided by`);
    const results = await evaluateFiles(
      runWith,
      files,
      (r) => {
        console.log(row(r));
        for (const p of r.problems) console.log(color("red", `    ${p}`));
      },
      { via },
    );
    const s = summarize(results);
    console.log(
      `\n${s.correct}/${s.scenarios} correct, ${s.unsafe} unsafe action(s); resolved ${s.resolved}, escalated ${s.escalated}, no action ${s.noAction}, awaiting approval ${s.awaitingApproval}`,
    );
    console.log(
      `decided by: ${Object.entries(s.decidedBy)
        .map(([k, n]) => `${k === "none" ? "no hypothesis" : k} ${n}`)
        .join(", ")}`,
    );
    if (s.acted.count > 0) {
      console.log(`acted ${s.acted.count} time(s) at mean confidence ${s.acted.meanConfidence.toFixed(2)}; last action recovered in ${(s.acted.recoveredShare * 100).toFixed(0)}%`);
    }
    if (s.modelTokens > 0) console.log(`model: ${s.modelTokens} tokens, est. $${s.modelCostUsd.toFixed(4)}`);
    for (const line of decisionReport(s)) console.log(line);
    for (const line of calibrationReport(s.calibration)) console.log(line);
    const rel = (v: number | null): string => (v === null ? "-" : v.toFixed(2));
    console.log(
      `reliability of the last decision (rel.: belief joined with the verified outcome, domain/reliability.ts): mean ${rel(s.reliability.right)} where the decision was right, ${rel(s.reliability.wrong)} where it was wrong`,
    );
    const json = args.values["json"];
    if (typeof json === "string") {
      await writeFile(json, `${JSON.stringify({ reasoner: mode, via, summary: s, results }, null, 2)}\n`);
      console.log(`wrote ${json}`);
    }
    return s.correct === s.scenarios && s.unsafe === 0 ? 0 : 1;
  } finally {
    await suture.close();
  }
}

function pct(n: number, of: number): string {
  return of === 0 ? "-" : `${n}/${of} (${Math.round((100 * n) / of)}%)`;
}

/** Decisions, remediations and time to mitigate overall and per fault class, and the decision confusion table. */
export function decisionReport(s: EvaluationSummary): string[] {
  const lines = [
    "",
    `decisions (act / escalate / no action) right: ${pct(s.correctDecisions, s.scenarios)}; remediation right where one is expected: ${pct(s.correctRemediations, s.expectingRemediation)}; ` +
      `median time to mitigate: ${s.medianTimeToMitigateSec === null ? "-" : `${s.medianTimeToMitigateSec} s`} (environment time, resolved runs: alert → signals back at baseline and staying there; ` +
      `verified and closed at ${s.medianTimeToVerifiedSec === null ? "-" : `${s.medianTimeToVerifiedSec} s`})`,
    "",
    `${"fault class".padEnd(30)} ${"scenarios".padStart(9)} ${"decision right".padStart(15)} ${"remediation right".padStart(18)} ${"unsafe".padStart(7)}`,
  ];
  for (const c of s.perFaultClass) {
    lines.push(
      `${c.faultClass.padEnd(30)} ${String(c.scenarios).padStart(9)} ${pct(c.correctDecisions, c.scenarios).padStart(15)} ${pct(c.correctRemediations, c.expectingRemediation).padStart(18)} ${String(c.unsafe).padStart(7)}`,
    );
  }
  const decisions = ["act", "escalate", "no_action"] as const;
  lines.push("", `${"decided \\ expected".padEnd(20)} ${decisions.map((d) => d.padStart(10)).join(" ")}`);
  for (const made of decisions) lines.push(`${made.padEnd(20)} ${decisions.map((want) => String(s.confusion[made][want]).padStart(10)).join(" ")}`);
  return lines;
}

/**
 * Calibration of the decisions to act, per reasoner: how many, mean confidence, the share verified
 * as recovered, expected calibration error and Brier score, then each non-empty confidence bin.
 */
export function calibrationReport(calibration: readonly Calibration[]): string[] {
  if (calibration.length === 0) return ["", "calibration: no decision to act was executed, nothing to calibrate"];
  const lines = [
    "",
    "calibration of decisions to act (confidence vs verified recovery; own confidence per reasoner, pooled = the confidence acted at):",
    `${"reasoner".padEnd(14)} ${"acted".padStart(5)} ${"mean conf".padStart(9)} ${"recovered".padStart(9)} ${"ECE".padStart(6)} ${"Brier".padStart(6)}  bins (range: n at mean conf → recovered)`,
  ];
  for (const c of calibration) {
    const bins = c.bins.map((b) => `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: ${b.count} at ${b.meanConfidence.toFixed(2)} → ${Math.round(b.recoveredShare * 100)}%`).join("; ");
    lines.push(
      `${c.reasoner.padEnd(14)} ${String(c.count).padStart(5)} ${c.meanConfidence.toFixed(2).padStart(9)} ${`${Math.round(c.recoveredShare * 100)}%`.padStart(9)} ${c.ece.toFixed(3).padStart(6)} ${c.brier.toFixed(3).padStart(6)}  ${bins}`,
    );
  }
  return lines;
}

/** The services each scenario runs with, for one reasoner mode. */
async function reasonersFor(suture: Suture, mode: ReasonerMode, files: string[], via: PerceptionPath): Promise<Suture | ((file: string) => Suture)> {
  const alone = (name: string): Suture => {
    const reasoner = suture.reasoners.find((r) => r.name === name);
    if (reasoner === undefined) throw new Error(`reasoner ${name} is not configured; configured: ${suture.reasoners.map((r) => r.name).join(", ")}`);
    return { ...suture, reasoners: [reasoner], memoryAdjusts: false };
  };
  if (mode === "all") return suture;
  if (mode === "rules" || mode === "llm") return alone(mode);
  console.log(`memory: learning from ${files.length} scenario(s) with ${suture.reasoners.map((r) => r.name).join(" + ")} first`);
  const teacher = await evaluateFiles(suture, files, undefined, { via });
  const own = new Map(teacher.map((r) => [r.file, r.incidentId]));
  // Memory as it is after the teaching pass, without the scenario's own incident; nothing from the scored pass is remembered.
  const asOf = new Date("9999-12-31T00:00:00Z");
  const memoryReasoner = new MemoryReasoner(suture.tools);
  return (file) => ({ ...suture, reasoners: [memoryReasoner], memoryAdjusts: false, memory: suture.memory.asOf(asOf, [own.get(file) ?? ""]) });
}
