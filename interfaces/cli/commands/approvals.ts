import type { Config } from "../../../app/config.js";
import { decide, expireApprovals } from "../../../app/approvals.js";
import { openSuture } from "../../../app/suture.js";
import type { CommandArgs } from "../args.js";
import { formatTimelineEntry } from "../format.js";
import { printResult } from "./run.js";

function text(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** `suture approve <incident> --as <name> [--note …] [--set key=value …]` and `suture reject <incident> --as <name> --reason …`. */
export async function decideCommand(config: Config, args: CommandArgs, decision: "approved" | "rejected"): Promise<number> {
  const [incidentId] = args.positionals;
  const approver = text(args, "as");
  const verb = decision === "approved" ? "approve" : "reject";
  if (incidentId === undefined || approver === undefined) {
    throw new Error(`usage: suture ${verb} <incident> --as <name> ${decision === "approved" ? "[--note <text>] [--set key=value]…" : "--reason <text>"}`);
  }
  const reason = text(args, "reason");
  if (decision === "rejected" && reason === undefined) throw new Error(`usage: suture reject ${incidentId} --as ${approver} --reason <why>`);
  const set = args.values["set"];
  const suture = await openSuture(config);
  try {
    const note = decision === "rejected" ? reason : text(args, "note");
    const result = await decide(
      suture,
      incidentId,
      { decision, approver, ...(note !== undefined ? { note } : {}), set: Array.isArray(set) ? set : typeof set === "string" ? [set] : [] },
      { onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))) },
    );
    printResult(result);
    return 0;
  } finally {
    await suture.close();
  }
}

/** `suture pending`: what waits for a human, oldest first. */
export async function pendingCommand(config: Config): Promise<number> {
  const suture = await openSuture(config);
  try {
    const rows = await suture.store.pendingApprovals();
    if (rows.length === 0) {
      console.log("nothing awaits approval");
      return 0;
    }
    for (const r of rows) {
      const waited = Math.round((Date.now() - r.requested_at.getTime()) / 60_000);
      console.log(`${r.incident_id}  ${r.alert_name} on ${r.service}  waiting ${waited} min${r.expired ? " (EXPIRED: `suture tick` escalates it)" : `, expires ${r.expires_at.toISOString()}`}`);
      if (r.forked_from !== null) {
        const what = r.replay_mode === "live" ? "live replay (on a private copy of its world)" : "dry-run replay";
        console.log(`    replay:   ${what} of ${r.forked_from}${r.replay_mode === "live" ? "" : ": approving it executes nothing"}`);
      }
      console.log(`    proposed: ${r.call.tool} ${JSON.stringify(r.call.params)} [${r.risk} risk]`);
      console.log(`    because:  ${r.reasons[r.reasons.length - 1] ?? ""}`);
      console.log(`    answer:   npm run suture -- approve ${r.incident_id} --as <you>   |   npm run suture -- reject ${r.incident_id} --as <you> --reason <why>`);
    }
    return 0;
  } finally {
    await suture.close();
  }
}

/** `suture tick`: escalates incidents whose approval expired. */
export async function tickCommand(config: Config): Promise<number> {
  const suture = await openSuture(config);
  try {
    const expired = await expireApprovals(suture);
    console.log(expired.length === 0 ? "no expired approvals" : `escalated ${expired.length} incident(s) whose approval expired: ${expired.join(", ")}`);
    return 0;
  } finally {
    await suture.close();
  }
}
