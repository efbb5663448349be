import type { Brief } from "../../../graphs/brief.js";
import type { Config } from "../../../app/config.js";
import { currentState } from "../../../app/advance.js";
import { describeOperatorStep, nextOperatorStep } from "../../../app/operator-step.js";
import { incidentHistory } from "../../../app/history.js";
import { openSuture, type Suture } from "../../../app/suture.js";
import type { CommandArgs } from "../args.js";
import { color, formatActionRow, formatBrief, formatStatus, WALL_CLOCK } from "../format.js";

/** Opens Suture for one command and closes it afterwards. */
export async function withSuture<T>(config: Config, work: (s: Suture) => Promise<T>): Promise<T> {
  const suture = await openSuture(config);
  try {
    return await work(suture);
  } finally {
    await suture.close();
  }
}

function requireId(args: CommandArgs, usage: string): string {
  const [id] = args.positionals;
  if (id === undefined) throw new Error(`usage: ${usage}`);
  return id;
}

/** `suture incidents`: newest first, one line each. */
export async function incidentsCommand(config: Config): Promise<number> {
  return withSuture(config, async (suture) => {
    const rows = await suture.store.listIncidents(100);
    if (rows.length === 0) {
      console.log("no incidents yet; try `npm run demo`");
      return 0;
    }
    console.log(`${"incident".padEnd(30)} ${"status".padEnd(18)} ${"service".padEnd(14)} ${"alert".padEnd(24)} summary`);
    for (const r of rows) {
      const note = r.status === "dead_letter" && r.last_error !== null ? ` (last error: ${r.last_error})` : "";
      console.log(`${r.id.padEnd(30)} ${r.status.padEnd(18)} ${(r.service !== "" ? r.service : "(no workload)").padEnd(14)} ${r.alert_name.padEnd(24)} ${r.summary ?? ""}${note}`);
    }
    return 0;
  });
}

/** `suture show <id>`: the brief, the actions table and the audit trail. */
export async function showCommand(config: Config, args: CommandArgs): Promise<number> {
  const id = requireId(args, "suture show <incident>");
  return withSuture(config, async (suture) => {
    const incident = await suture.store.getIncident(id);
    if (incident.forked_from !== null) {
      console.log(color("dim", `replay (${incident.replay_mode ?? "?"}) of ${incident.forked_from} from checkpoint ${incident.forked_at_checkpoint ?? "?"}`));
    }
    if (incident.brief !== null) {
      console.log(formatBrief(incident.brief as Brief));
    } else {
      console.log(`Incident ${id}: ${formatStatus(incident.status)}${incident.summary ? ` — ${incident.summary}` : ""} (no brief yet: the incident has not finished)`);
    }
    const { awaitingApproval } = await currentState(suture, id);
    // The same next step `suture history` prints and `suture resume` refuses with (operatorStep).
    const step = await nextOperatorStep(suture, id);
    if (awaitingApproval !== undefined) {
      const a = awaitingApproval;
      console.log(`\n${color("bold", "Awaiting approval")}`);
      console.log(`  proposed: ${a.call.tool} ${JSON.stringify(a.call.params)} [${a.risk} risk], confidence ${a.confidence.toFixed(2)}`);
      for (const r of a.reasons) console.log(`    - ${r}`);
      console.log(`  hypotheses: ${a.hypotheses.map((h) => `${h.faultClass} ${h.confidence.toFixed(2)}`).join(", ")}`);
      for (const e of a.evidence) console.log(`  ${e}`);
      console.log(`  blast radius: ${a.blastRadius}`);
      console.log(`  rollback to be registered: ${a.rollback}`);
      console.log(`  if nobody answers: ${a.ifNobodyAnswers}`);
      if (step.kind === "answer") console.log(`  answer: suture approve ${id} --as <you> [--note …] [--set key=value]  |  suture reject ${id} --as <you> --reason …`);
      else console.log(`  next: ${describeOperatorStep(step)}`);
    } else if (step.command !== null || step.kind === "wait") {
      console.log(`\nnext: ${describeOperatorStep(step)}`);
    }
    const approvals = await suture.store.approvalsFor(id);
    if (approvals.length > 0) {
      console.log(`\n${color("bold", "Approvals")} ${color("dim", `(${WALL_CLOCK})`)}`);
      for (const a of approvals) {
        console.log(
          `  ${a.requested_at.toISOString()} ${a.call.tool} → ${a.decision ?? "pending"}${a.approver ? ` by ${a.approver}` : ""}${a.note ? ` (${a.note})` : ""}${a.decided_at ? ` at ${a.decided_at.toISOString()}` : ""}`,
        );
      }
    }
    const usage = await suture.store.modelUsageFor(id);
    console.log(`\n${color("bold", "Model usage")}`);
    for (const u of usage) console.log(`  ${u.model}: ${u.tokens} tokens, est. $${u.costUsd.toFixed(4)} over ${u.rounds} diagnosis round(s)`);
    if (usage.length === 0) console.log("  none (offline reasoners only)");
    const actions = await suture.store.actionsFor(id);
    console.log(`\n${color("bold", "Actions table")} ${color("dim", "(by attempt number, as above; ran: the tool call · verify: its verdict)")}`);
    for (const a of actions) console.log(`  ${formatActionRow(a)}`);
    if (actions.length === 0) console.log("  (none)");
    console.log(`\n${color("bold", "Audit log")} ${color("dim", `(${WALL_CLOCK}; env = environment time, as in the Timeline)`)}`);
    for (const e of await suture.store.auditFor(id)) {
      const env = e.env_time !== null ? `env ${e.env_time.toISOString()}` : "";
      console.log(`  ${e.at.toISOString()} ${env.padEnd(28)} ${e.actor.padEnd(12)} ${e.kind.padEnd(16)} ${e.summary}`);
    }
    return 0;
  });
}

/** `suture history <id>`: every checkpoint, oldest first, with the node that wrote it and what changed. */
export async function historyCommand(config: Config, args: CommandArgs): Promise<number> {
  const id = requireId(args, "suture history <incident>");
  return withSuture(config, async (suture) => {
    await suture.store.getIncident(id);
    const history = await incidentHistory(suture, id);
    if (history.steps.length === 0) {
      console.log(`incident ${id} has no checkpoints`);
      return 0;
    }
    console.log(`${"step".padStart(4)}  ${"checkpoint".padEnd(38)} ${"node".padEnd(13)} changed`);
    for (const s of history.steps) {
      const what = s.node === "(input)" ? "alert received" : s.changed.join(", ") || "(nothing)";
      console.log(`${String(s.step).padStart(4)}  ${s.checkpointId.padEnd(38)} ${s.node.padEnd(13)} ${what}`);
      for (const e of s.entries) console.log(color("dim", `        ${e.message}`));
    }
    const step = await nextOperatorStep(suture, id);
    if (history.next.length > 0 || step.command !== null) {
      console.log(`\nnext: ${history.next.join(", ") || "(a step whose checkpoint was not written)"} — ${describeOperatorStep(step)}`);
    }
    return 0;
  });
}
