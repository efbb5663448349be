import path from "node:path";
import { describeReasoners, type Config } from "../../../app/config.js";
import { runScenario } from "../../../app/scenario-run.js";
import { openSuture, type Suture } from "../../../app/suture.js";
import { loadScenario } from "../../../app/scenario.js";
import type { CommandArgs } from "../args.js";
import { color, formatStatus, formatTimelineEntry } from "../format.js";
import { REGRESSION_SCENARIOS_DIR, SCENARIOS_DIR } from "../../../domain/data.js";
import { workloadKey } from "../../../domain/deploys.js";
import { loadRegressionScenario, runRegressionScenario, type RegressionScenario } from "../../../app/regression-scenario.js";

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

/** The regression watch's part of the demo: a release that regresses next to a docs-only deploy. */
export const DEMO_REGRESSION_SCENARIOS = ["release-and-docs-deploy"] as const;

/** `suture demo`: runs the curated scenarios, streaming each node's decision as it happens. */
export async function demoCommand(config: Config, args: CommandArgs): Promise<number> {
  const only = args.values["only"];
  const names = typeof only === "string" ? only.split(",") : [...DEMO_SCENARIOS, ...DEMO_REGRESSION_SCENARIOS];
  const isRegression = (n: string): boolean => (DEMO_REGRESSION_SCENARIOS as readonly string[]).includes(n);
  const scenarios = await Promise.all(names.filter((n) => !isRegression(n)).map((n) => loadScenario(path.join(SCENARIOS_DIR, `${n}.yaml`))));
  const regressionScenarios = await Promise.all(names.filter(isRegression).map((n) => loadRegressionScenario(path.join(REGRESSION_SCENARIOS_DIR, `${n}.yaml`))));
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
    for (const scenario of regressionScenarios) summary.push(...(await demoRegression(suture, scenario)));
  } finally {
    await suture.close();
  }
  console.log(color("bold", "Summary"));
  for (const line of summary) console.log(line);
  console.log(color("dim", `\n${scenarios.length + regressionScenarios.length} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s`));
  return 0;
}

/** Plays one regression scenario, printing each deploy's verdict and the regression incident's timeline. */
async function demoRegression(suture: Suture, scenario: RegressionScenario): Promise<string[]> {
  console.log(color("bold", `▶ Regression watch: ${scenario.title}`));
  console.log(color("dim", `  ${scenario.description.trim().split("\n").join(" ")}`));
  console.log(color("dim", `  (the watch counts each workload's error signatures for a simulated day first: its baseline)`));
  const runs = await runRegressionScenario(suture, scenario, {
    onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))),
    onLook: (deploy, look) => console.log(`  deploy ${deploy.id} ${workloadKey(deploy.workload)} ${deploy.version}: ${look.status} — ${look.reason}`),
  });
  const lines: string[] = [];
  for (const run of runs) {
    const label = `${workloadKey(run.deploy.workload)} ${run.deploy.version}`;
    const outcome = run.incident?.state.outcome;
    const verdict = outcome !== undefined && outcome !== null ? `regression → ${formatStatus(outcome.status)}` : `${run.look.status} (left alone)`;
    if (run.incident !== undefined) console.log(color("dim", `    brief: npm run suture -- show ${run.incident.incidentId}`));
    lines.push(`  ${label.padEnd(40)} ${verdict}`);
  }
  console.log(color("dim", "    every deploy's verdict and evidence: npm run suture -- regressions\n"));
  return lines;
}
