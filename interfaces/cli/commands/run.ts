import { readFile } from "node:fs/promises";
import type { Config } from "../../../app/config.js";
import { parseAlertmanagerWebhook, type Alert } from "../../../domain/alerts/alert.js";
import type { TimelineEntry } from "../../../domain/model.js";
import { resumeIncident, type RunResult } from "../../../app/advance.js";
import { runAlert, runScenario } from "../../../app/scenario-run.js";
import { openSuture } from "../../../app/suture.js";
import { loadScenario } from "../../../app/scenario.js";
import type { CommandArgs } from "../args.js";
import { formatStatus, formatTimelineEntry } from "../format.js";

/** The outcome line, or how to answer a pending approval. */
export function printResult(r: RunResult): void {
  if (r.awaitingApproval !== undefined) {
    console.log(
      `incident ${r.incidentId}: ${formatStatus("awaiting approval")} — ${r.awaitingApproval.call.tool} ${JSON.stringify(r.awaitingApproval.call.params)}; answer with \`suture approve|reject ${r.incidentId} --as <you>\``,
    );
    return;
  }
  if (r.awaitingSettle !== undefined) {
    console.log(`incident ${r.incidentId}: ${formatStatus("verifying")} — ${r.awaitingSettle.tool} settles until ${r.awaitingSettle.until}; a worker continues it then`);
    return;
  }
  console.log(`incident ${r.incidentId}: ${formatStatus(r.state.outcome?.status ?? "open")} — ${r.state.outcome?.reason ?? ""}`);
}

const printTimeline = (entries: TimelineEntry[]): void => entries.forEach((e) => console.log(formatTimelineEntry(e)));
const printOpen = (incidentId: string, alert: Alert): void => console.log(`incident ${incidentId} opened: ${alert.name} on ${alert.service}`);

/**
 * `suture run [<alert.json>] --scenario <file>`: one Alertmanager webhook (or, without a file,
 * the scenario's own alerts) against the scenario's simulated world.
 */
export async function runCommand(config: Config, args: CommandArgs): Promise<number> {
  const [alertFile] = args.positionals;
  const scenarioFile = args.values["scenario"];
  if (typeof scenarioFile !== "string") {
    console.error("usage: suture run [<alert.json>] --scenario <scenario.yaml>");
    return 2;
  }
  const scenario = await loadScenario(scenarioFile);
  if (alertFile === undefined) {
    const suture = await openSuture(config, { migrate: true });
    try {
      const r = await runScenario(suture, scenario, { onOpen: printOpen, onTimeline: printTimeline });
      printResult(r);
      return 0;
    } finally {
      await suture.close();
    }
  }
  let rawBody: string;
  try {
    rawBody = await readFile(alertFile, "utf8");
    JSON.parse(rawBody);
  } catch (error) {
    throw new Error(`${alertFile}: cannot read an alert JSON file (${(error as Error).message.split("\n")[0] ?? ""})`, { cause: error });
  }
  // Validate before touching the database, so a bad alert changes nothing.
  parseAlertmanagerWebhook(JSON.parse(rawBody) as unknown);
  const suture = await openSuture(config, { migrate: true });
  try {
    const results = await runAlert(suture, rawBody, scenario, { onOpen: printOpen, onTimeline: printTimeline });
    for (const r of results) printResult(r);
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
    const result = await resumeIncident(suture, incidentId, { onTimeline: printTimeline });
    printResult(result);
    return 0;
  } finally {
    await suture.close();
  }
}
