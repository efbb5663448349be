import { readFile, writeFile } from "node:fs/promises";
import type { Config } from "../../config/config.js";
import { loadPolicy } from "../../policy/policy.js";
import { exportIncident, importIncident } from "../../runtime/export.js";
import { replayIncident } from "../../runtime/replay.js";
import { openSuture } from "../../runtime/suture.js";
import type { CommandArgs } from "../args.js";
import { color, formatTimelineEntry } from "../format.js";
import { printResult } from "./run.js";

function text(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * `suture replay <incident> --from <checkpoint> [--policy <file>] [--live]` and
 * `suture replay --file <export.json> --from <checkpoint> …`: forks a new incident from a checkpoint.
 */
export async function replayCommand(config: Config, args: CommandArgs): Promise<number> {
  const from = text(args, "from");
  const file = text(args, "file");
  const [incident] = args.positionals;
  if (from === undefined || (incident === undefined && file === undefined)) {
    throw new Error("usage: suture replay <incident> --from <checkpoint> [--policy <file>] [--live]  |  suture replay --file <export.json> --from <checkpoint>");
  }
  const policyFile = text(args, "policy");
  const policy = policyFile !== undefined ? await loadPolicy(policyFile) : undefined;
  let data: unknown;
  if (file !== undefined) {
    try {
      data = JSON.parse(await readFile(file, "utf8")) as unknown;
    } catch (error) {
      throw new Error(`${file}: cannot read an export (${(error as Error).message.split("\n")[0] ?? ""})`, { cause: error });
    }
  }
  const suture = await openSuture(config, { migrate: true, ...(policy !== undefined ? { policy } : {}) });
  try {
    const sourceId = file !== undefined ? await importIncident(suture, data, file) : (incident ?? "");
    const live = args.values["live"] === true && args.values["dry-run"] !== true;
    const result = await replayIncident(suture, sourceId, { from, live, onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))) });
    console.log(color("dim", `replay ${result.incidentId} of ${result.forkedFrom} from checkpoint ${result.checkpoint} (${live ? "live, on a private copy of the world" : "dry run"})`));
    if (!live && result.state.outcome === null && result.awaitingApproval === undefined) {
      const call = result.state.verdict?.call;
      console.log(`incident ${result.incidentId}: dry run stopped before act${call ? `: would execute ${call.tool} ${JSON.stringify(call.params)}` : ""}`);
      return 0;
    }
    printResult(result);
    return 0;
  } finally {
    await suture.close();
  }
}

/** `suture export <incident> [--out <file>]`: a self-contained JSON of the incident. */
export async function exportCommand(config: Config, args: CommandArgs): Promise<number> {
  const [incident] = args.positionals;
  if (incident === undefined) throw new Error("usage: suture export <incident> [--out <file>]");
  const suture = await openSuture(config);
  try {
    const json = `${JSON.stringify(await exportIncident(suture, incident), null, 2)}\n`;
    const out = text(args, "out");
    if (out === undefined) process.stdout.write(json);
    else {
      await writeFile(out, json);
      console.log(`wrote ${out}`);
    }
    return 0;
  } finally {
    await suture.close();
  }
}
