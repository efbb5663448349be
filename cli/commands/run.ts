import { readFile } from "node:fs/promises";
import type { Config } from "../../config/config.js";
import { resumeIncident, runAlert } from "../../runtime/incident-runner.js";
import { openSuture } from "../../runtime/suture.js";
import { loadScenario } from "../../scenario/schema.js";
import type { CommandArgs } from "../main.js";
import { formatStatus, formatTimelineEntry } from "../format.js";

function crashHook(): { crashAfterNode?: string } {
  // Test-only fault injection: kill the process right after this node's checkpoint is written.
  const node = process.env["SUTURE_CRASH_AFTER_NODE"];
  return node !== undefined && node !== "" ? { crashAfterNode: node } : {};
}

/** `suture run <alert.json> --scenario <file>`: one alert against a scenario's simulated world. */
export async function runCommand(config: Config, args: CommandArgs): Promise<number> {
  const [alertFile] = args.positionals;
  const scenarioFile = args.values["scenario"];
  if (alertFile === undefined || typeof scenarioFile !== "string") {
    console.error("usage: suture run <alert.json> --scenario <scenario.yaml>");
    return 2;
  }
  const scenario = await loadScenario(scenarioFile);
  let rawBody: string;
  try {
    rawBody = await readFile(alertFile, "utf8");
    JSON.parse(rawBody);
  } catch (error) {
    throw new Error(`${alertFile}: cannot read an alert JSON file (${(error as Error).message.split("\n")[0] ?? ""})`);
  }
  const suture = await openSuture(config, { migrate: true });
  try {
    const results = await runAlert(suture, rawBody, scenario, {
      ...crashHook(),
      onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))),
    });
    for (const r of results) {
      console.log(`incident ${r.incidentId}: ${formatStatus(r.state.outcome?.status ?? "open")} — ${r.state.outcome?.reason ?? ""}`);
    }
    return 0;
  } finally {
    await suture.close();
  }
}

/** `suture resume <incident>`: continues an interrupted incident from its last checkpoint. */
export async function resumeCommand(config: Config, args: CommandArgs): Promise<number> {
  const [incidentId] = args.positionals;
  if (incidentId === undefined) {
    console.error("usage: suture resume <incident>");
    return 2;
  }
  const suture = await openSuture(config);
  try {
    const result = await resumeIncident(suture, incidentId, {
      ...crashHook(),
      onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))),
    });
    console.log(`incident ${incidentId}: ${formatStatus(result.state.outcome?.status ?? "open")} — ${result.state.outcome?.reason ?? ""}`);
    return 0;
  } finally {
    await suture.close();
  }
}
