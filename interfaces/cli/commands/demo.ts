import path from "node:path";
import { describeReasoners, type Config } from "../../../app/config.js";
import { runScenario } from "../../../app/scenario-run.js";
import { openSuture } from "../../../app/suture.js";
import { loadScenario } from "../../../app/scenario.js";
import type { CommandArgs } from "../args.js";
import { color, formatStatus, formatTimelineEntry } from "../format.js";
import { SCENARIOS_DIR } from "../../../domain/data.js";

/** The curated demo: one of each path through the graph. */
export const DEMO_SCENARIOS = [
  "bad-rollout-missing-image",
  "bad-rollout-during-change-freeze",
  "memory-leak-old-revision",
  "memory-leak-recurrence",
  "network-policy-blocks-callers",
  "shared-config-flag-blast-radius",
  "rollback-blocked-by-schema-migration",
  "credential-leak-in-logs",
  "latency-flapping-threshold",
] as const;

/** `suture demo`: runs the curated scenarios, streaming each node's decision as it happens. */
export async function demoCommand(config: Config, args: CommandArgs): Promise<number> {
  const only = args.values["only"];
  const names = typeof only === "string" ? only.split(",") : [...DEMO_SCENARIOS];
  const scenarios = await Promise.all(names.map((n) => loadScenario(path.join(SCENARIOS_DIR, `${n}.yaml`))));
  const started = Date.now();
  const suture = await openSuture(config, { migrate: true });
  console.log(color("bold", `Suture demo — ${suture.db.kind} database at ${suture.db.location}, simulated environment`));
  console.log(color("dim", `${describeReasoners(config)}\n`));
  const summary: string[] = [];
  try {
    for (const scenario of scenarios) {
      console.log(color("bold", `▶ ${scenario.title}`));
      console.log(color("dim", `  ${scenario.description.trim().split("\n").join(" ")}`));
      const result = await runScenario(suture, scenario, {
        onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))),
      });
      const outcome = result.state.outcome;
      if (result.awaitingApproval !== undefined) {
        const a = result.awaitingApproval;
        console.log(formatTimelineEntry({ node: "policy-check", at: result.env.now(), message: `needs approval ${a.call.tool} (${a.risk} risk): ${a.reasons.join("; ")}` }));
        console.log(`  ⏸ ${formatStatus("awaiting approval")}: ${a.call.tool} ${JSON.stringify(a.call.params)} [${a.risk} risk]; rollback if approved: ${a.rollback}`);
        console.log(`    approve in any process:  npm run suture -- approve ${result.incidentId} --as <you>`);
        console.log(`    or reject:               npm run suture -- reject ${result.incidentId} --as <you> --reason "<why>"`);
        summary.push(`  ${scenario.name.padEnd(40)} ${formatStatus("awaiting approval")}`);
        console.log("");
        continue;
      }
      console.log(`  ⇒ ${formatStatus(outcome?.status ?? "open")}: ${outcome?.reason ?? ""}`);
      console.log(color("dim", `    brief: npm run suture -- show ${result.incidentId}   checkpoints: npm run suture -- history ${result.incidentId}\n`));
      summary.push(`  ${scenario.name.padEnd(40)} ${formatStatus(outcome?.status ?? "open")}`);
    }
  } finally {
    await suture.close();
  }
  console.log(color("bold", "Summary"));
  for (const line of summary) console.log(line);
  console.log(color("dim", `\n${scenarios.length} incidents in ${((Date.now() - started) / 1000).toFixed(1)} s`));
  return 0;
}
