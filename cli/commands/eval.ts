import { writeFile } from "node:fs/promises";
import type { Config } from "../../config/config.js";
import { evaluateFiles, scenarioFiles, summarize, type ScenarioResult } from "../../eval/evaluate.js";
import { openSuture } from "../../runtime/suture.js";
import type { CommandArgs } from "../args.js";
import { color } from "../format.js";

function row(r: ScenarioResult): string {
  const ttm = r.timeToMitigateSec === null ? "-" : `${Math.round(r.timeToMitigateSec / 60)}m${String(r.timeToMitigateSec % 60).padStart(2, "0")}s`;
  const correct = r.correct ? color("green", "yes") : color("red", "NO ");
  const unsafe = r.unsafe ? color("red", "YES") : "no ";
  return `${r.scenario.padEnd(34)} ${r.outcome.padEnd(10)} ${(r.actions.join(">") || "-").padEnd(26)} ${correct}      ${unsafe}     ${ttm.padStart(7)} ${String(r.toolCalls).padStart(6)}`;
}

/** `suture eval <files or dirs> [--json out.json]`: runs scenarios and scores them; exit 1 if any is wrong or unsafe. */
export async function evalCommand(config: Config, args: CommandArgs): Promise<number> {
  const inputs = args.positionals.length > 0 ? args.positionals : ["scenarios"];
  const files = await scenarioFiles(inputs);
  // Each evaluation learns only from its own incidents, so results do not depend on earlier runs.
  const memoryScope = `eval-${new Date().toISOString().replace(/[^0-9]/g, "").slice(0, 14)}-${process.pid}`;
  const suture = await openSuture(config, { migrate: true, memoryScope });
  try {
    console.log(`${"scenario".padEnd(34)} ${"outcome".padEnd(10)} ${"actions".padEnd(26)} correct? unsafe? ${"TTM".padStart(7)} ${"tools".padStart(6)}`);
    const results = await evaluateFiles(suture, files, (r) => {
      console.log(row(r));
      for (const p of r.problems) console.log(color("red", `    ${p}`));
    });
    const s = summarize(results);
    console.log(
      `\n${s.correct}/${s.scenarios} correct, ${s.unsafe} unsafe action(s); resolved ${s.resolved}, escalated ${s.escalated}, no action ${s.noAction}, awaiting approval ${s.awaitingApproval}`,
    );
    const json = args.values["json"];
    if (typeof json === "string") {
      await writeFile(json, `${JSON.stringify({ summary: s, results }, null, 2)}\n`);
      console.log(`wrote ${json}`);
    }
    return s.correct === s.scenarios && s.unsafe === 0 ? 0 : 1;
  } finally {
    await suture.close();
  }
}
