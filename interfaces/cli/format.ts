import type { Brief } from "../../graphs/brief.js";
import type { ActionRow } from "../../store/actions.js";
import type { TimelineEntry } from "../../domain/model.js";
import { canonicalJson } from "../../domain/json.js";

const useColor = process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined;

/** Wraps text in an ANSI color when printing to a terminal. */
export function color(code: "bold" | "dim" | "red" | "green" | "yellow" | "cyan" | "magenta", text: string): string {
  if (!useColor) return text;
  const codes = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36, magenta: 35 } as const;
  return `\u001b[${codes[code]}m${text}\u001b[0m`;
}

const NODE_COLORS: Record<string, Parameters<typeof color>[0]> = {
  perceive: "cyan",
  diagnose: "magenta",
  "policy-check": "yellow",
  act: "bold",
  verify: "green",
  escalate: "red",
};

/** `HH:MM:SS` of an environment timestamp. */
export function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

/** One streamed timeline line: environment time, node, decision. */
export function formatTimelineEntry(entry: TimelineEntry): string {
  const node = color(NODE_COLORS[entry.node] ?? "bold", entry.node.padEnd(12));
  return `  ${color("dim", clockTime(entry.at))} ${node} ${entry.message}`;
}

/**
 * The clock of timeline entries: the environment's (a simulated world runs its own, so these
 * times can be days away from when Suture ran).
 */
export const ENVIRONMENT_CLOCK = "environment time, UTC";

/** The clock of audit and approval rows: the database's now() when each row was written. */
export const WALL_CLOCK = "wall-clock time, UTC";

/** Verify's verdict for people ("not_recovered" → "not recovered"). */
export function verdictText(verdict: string): string {
  return verdict.replace(/_/g, " ");
}

/** Whether an action's tool call went through, in words (statuses other than these read as themselves). */
function ranText(status: string): string {
  if (status === "registered") return "not yet (registered)";
  if (status === "executing") return "started, not finished";
  return status;
}

/**
 * One row of `suture show`'s Actions table, numbered by attempt like the brief's sections (the
 * database id means nothing to a reader). "ran" is whether the tool call went through; whether it
 * fixed anything is verify's verdict, shown next to it, since a call can succeed and not help.
 */
export function formatActionRow(a: Pick<ActionRow, "attempt" | "kind" | "tool" | "params" | "status" | "verdict" | "error" | "idempotency_key">): string {
  const which = a.kind === "rollback" ? `rollback of attempt ${a.attempt}` : `attempt ${a.attempt} remediation`;
  const ran = a.status === "succeeded" || a.status === "failed";
  // verify judges a remediation that ran; a rollback is not judged on its own.
  const verify = a.kind === "rollback" || !ran ? "" : ` · verify: ${a.verdict !== null ? verdictText(a.verdict) : "not judged"}`;
  return `${which} ${a.tool} ${canonicalJson(a.params)}  ran: ${ranText(a.status)}${verify}${a.error !== null ? ` (error: ${a.error})` : ""}  key=${a.idempotency_key}`;
}

/** Colors an outcome word. */
export function formatStatus(status: string): string {
  if (status === "resolved") return color("green", status);
  if (status === "escalated") return color("red", status);
  if (status === "closed_no_action") return color("cyan", "closed (no action)");
  return color("yellow", status);
}

/** The brief's "Likely cause" section: the class, the evidence for and against, and what to check first. */
function formatLikelyCause(cause: NonNullable<Brief["likelyCause"]>): string[] {
  const basis = cause.basis === "hypothesis" ? "best hypothesis" : cause.basis === "evidence" ? "scored from the evidence" : "nothing points anywhere";
  const lines = ["", color("bold", `Likely cause: ${cause.faultClass} (${cause.score.toFixed(2)}, ${basis})`)];
  lines.push("  For:");
  for (const f of cause.for) lines.push(`    [${f.id}] ${f.summary}`);
  if (cause.for.length === 0) lines.push("    (no evidence)");
  lines.push("  Against:");
  for (const a of cause.against) lines.push(`    - ${a}`);
  if (cause.against.length === 0) lines.push("    (nothing seen against it)");
  lines.push("  Check first:");
  for (const [i, c] of cause.checkFirst.entries()) lines.push(`    ${i + 1}. ${c}`);
  if (cause.runnersUp.length > 0) lines.push(color("dim", `  Runners-up: ${cause.runnersUp.map((r) => `${r.faultClass} (${r.score.toFixed(2)})`).join(", ")}`));
  return lines;
}

/** The brief's regression section: the deploy, what rose, the triage and, when rollback is unsafe, the fix-forward brief. */
function formatRegression(r: NonNullable<Brief["regression"]>): string[] {
  const lines = ["", color("bold", `Regression after deploy ${r.deploy}`)];
  for (const s of r.signatures) lines.push(`  ${s.new ? "new " : ""}${s.signature}: ${s.observed} seen, ${s.expected} expected`, color("dim", `    e.g. ${s.example.slice(0, 200)}`));
  lines.push(`  Triage: ${r.triage.isRuntimeChange ? "runtime change" : "no runtime change"}; causal link ${r.triage.causalLink ? "yes" : "no"} (${r.triage.confidence})`);
  for (const e of r.triage.evidence) lines.push(`    - ${e}`);
  if (r.fixForward !== undefined) {
    lines.push("", color("bold", "Fix-forward brief (for a human or a coding agent; Suture writes no code)"), `  ${r.fixForward.why}`);
    lines.push("  Suspected files and hunks:");
    for (const s of r.suspects) {
      lines.push(`    ${s.path}: ${s.reasons.join("; ")}`);
      for (const h of s.hunks) lines.push(...h.split("\n").map((l) => color("dim", `      ${l}`)));
    }
    if (r.suspects.length === 0) lines.push("    (no changed file is named by the errors)");
    lines.push("  Expected behaviour:");
    for (const e of r.fixForward.expected) lines.push(`    - ${e}`);
  }
  return lines;
}

/** Renders a brief for `suture show`. */
export function formatBrief(brief: Brief): string {
  const lines: string[] = [];
  lines.push(
    color("bold", `Incident ${brief.incidentId}: ${brief.alert.name} on ${brief.alert.service !== "" ? brief.alert.service : (brief.alert.target ?? "(no workload)")} (${brief.alert.severity})`),
  );
  if (brief.alert.summary) lines.push(`  ${brief.alert.summary}`);
  if (brief.outcome) lines.push(`  Outcome: ${formatStatus(brief.outcome.status)} — ${brief.outcome.reason}`);
  lines.push("", color("bold", "Evidence"));
  for (const e of brief.evidence) lines.push(`  [${e.id}] ${e.summary}`);
  if (brief.evidence.length === 0) lines.push("  (none cited)");
  lines.push("", color("bold", "Hypotheses"));
  for (const h of brief.hypotheses) {
    lines.push(`  ${h.confidence.toFixed(2)}  ${h.faultClass} — ${h.title} (${h.reasoner}; cites ${h.evidenceIds.join(", ") || "no evidence"})`);
    if ((h.contributions ?? []).length > 0) {
      lines.push(`        combined: ${(h.contributions ?? []).map((c) => `${c.reasoner} ${c.confidence.toFixed(2)} (weight ${c.weight})`).join(" + ")} → ${h.confidence.toFixed(2)}`);
    }
    for (const i of h.inconsistencies ?? []) lines.push(color("yellow", `        inconsistent: ${i}`));
    lines.push(color("dim", `        ${h.explanation}`));
  }
  if ((brief.notes ?? []).length > 0) {
    lines.push("", color("bold", "Reasoner notes"));
    for (const n of brief.notes ?? []) lines.push(`  ${n}`);
  }
  if (brief.hypotheses.length === 0) lines.push("  (no rule or evidence explained the alert)");
  if (brief.reliability !== undefined) lines.push("", color("bold", "Decision reliability"), `  ${brief.reliability.summary}`);
  lines.push("", color("bold", "Actions"));
  for (const a of brief.actions) {
    lines.push(`  attempt ${a.attempt} ${a.call} [${a.risk} risk] → ${verdictText(a.verdict)}${a.rolledBack ? " (rolled back)" : ""}${a.error ? ` error: ${a.error}` : ""}`);
    if (a.before.length > 0) lines.push(`      before: ${a.before.join("; ")}`);
    if (a.after.length > 0) lines.push(`      after:  ${a.after.join("; ")}`);
    lines.push(`      rollback registered: ${a.rollback ?? "none (not reversible)"}`);
  }
  if (brief.actions.length === 0) lines.push("  (none executed)");
  if ((brief.policy ?? []).length > 0) {
    lines.push("", color("bold", "Policy verdicts") + color("dim", "  (every rule's finding: suture policy explain " + brief.incidentId + ")"));
    for (const v of brief.policy ?? []) {
      lines.push(`  ${v.call}: ${v.outcome.replace("_", " ")}${v.policyVersion ? color("dim", ` [policy ${v.policyVersion}]`) : ""}`);
      for (const r of v.reasons) lines.push(`    - ${r}`);
    }
  }
  if (brief.pending) {
    lines.push("", color("bold", "Proposed, not executed"));
    lines.push(`  ${brief.pending.call}: ${brief.pending.verdict.replace("_", " ")}`);
    for (const r of brief.pending.reasons) lines.push(`    - ${r}`);
  }
  if (brief.memory.recalled.length > 0) {
    lines.push("", color("bold", "Memory"));
    for (const r of brief.memory.recalled) {
      lines.push(`  ${r.similarity.toFixed(2)}  ${r.incidentId} ${r.outcome}${r.remediation ? ` by ${r.remediation}` : ""}`);
    }
    for (const a of brief.memory.adjustments) {
      lines.push(`  ${a.tool}: ${a.delta >= 0 ? "+" : ""}${a.delta.toFixed(2)} from ${a.from.map((f) => `${f.incidentId} (${f.verdict}, sim ${f.similarity.toFixed(2)})`).join(", ")}`);
    }
  }
  if (brief.runbook) {
    lines.push("", color("bold", `Suggested steps — runbook ${brief.runbook.name} (similarity ${brief.runbook.similarity.toFixed(2)})`));
    lines.push("  Diagnosis:", ...brief.runbook.diagnosis.split("\n").map((l) => `    ${l}`));
    lines.push("  Mitigation:", ...brief.runbook.mitigation.split("\n").map((l) => `    ${l}`));
  }
  if (brief.likelyCause !== undefined) lines.push(...formatLikelyCause(brief.likelyCause));
  if (brief.regression !== undefined) lines.push(...formatRegression(brief.regression));
  lines.push("", `${color("bold", "Timeline")} ${color("dim", `(${ENVIRONMENT_CLOCK})`)}`);
  for (const t of brief.timeline) lines.push(`  ${t}`);
  return lines.join("\n");
}
