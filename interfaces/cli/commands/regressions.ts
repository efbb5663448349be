import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { judgeDeployRun, loadRegressionScenario, runRegressionScenario } from "../../../app/regression-scenario.js";
import { triageBuild } from "../../../app/regression-watch.js";
import type { Config } from "../../../app/config.js";
import { openSuture } from "../../../app/suture.js";
import { workloadKey } from "../../../domain/deploys.js";
import { InvalidInputError } from "../../../domain/errors.js";
import type { RegressionWatch } from "../../../domain/regressions.js";
import type { CommandArgs } from "../args.js";
import { color } from "../format.js";

const USAGE = "usage: suture regressions [<deploy id>] | suture regressions eval <files or dirs> [--tag t]…";

function statusText(w: RegressionWatch): string {
  switch (w.status) {
    case "regression":
      return color("red", "regression");
    case "recorded":
      return color("yellow", "recorded");
    case "clean":
      return color("green", "clean");
    default:
      return w.status;
  }
}

/** One watch in full: what rose, the triage and its evidence, the suspects. */
function printWatch(w: RegressionWatch): void {
  console.log(color("bold", `Deploy ${w.deployId}: ${workloadKey(w.workload)} ${w.version} (${w.source}, ${w.deployAt.toISOString()})`));
  console.log(`  watch: ${statusText(w)} after ${w.looks} look(s) — ${w.reason}`);
  if (w.incidentId !== null) console.log(`  incident: ${w.incidentId}   (npm run suture -- show ${w.incidentId})`);
  const f = w.finding;
  if (f === null) return;
  console.log("  Signatures that rose:");
  for (const s of f.flagged) {
    console.log(`    ${s.seenBefore ? "" : "new "}${s.signature}: ${s.observed} seen, ${s.expected.toFixed(2)} expected (p ${s.p.toExponential(1)}, q ${s.q.toExponential(1)})`);
  }
  const t = f.triage;
  console.log(
    `  Triage: ${t.isRuntimeChange ? "runtime change" : "no runtime change"}; causal link ${t.causalLink ? "yes" : "no"} (${t.confidence}, ${t.score.toFixed(2)}); rollback ${t.rollbackSafe ? "safe" : "unsafe"}`,
  );
  for (const e of t.evidence) console.log(`    - ${e}`);
  for (const s of t.suspects) console.log(`  Suspect ${s.path} (${s.kind}): ${s.reasons.join("; ")}`);
}

/**
 * `suture regressions`: recent deploys with their watch's verdict and evidence, then recent
 * failed builds with their triage; `suture regressions <deploy id>` shows one deploy in full.
 */
export async function regressionsCommand(config: Config, args: CommandArgs): Promise<number> {
  const [id] = args.positionals;
  if (id === "eval") return evalRegressions(config, args);
  if (id !== undefined && !/^\d+$/.test(id)) throw new InvalidInputError(`deploy id: expected a number, got ${JSON.stringify(id)}\n${USAGE}`);
  const suture = await openSuture(config);
  try {
    if (id !== undefined) {
      const w = await suture.store.regressionWatch(Number(id));
      if (w === undefined) throw new InvalidInputError(`deploy ${id} is not watched (unknown deploy, or received before the watch existed); see \`suture regressions\``);
      printWatch(w);
      return 0;
    }
    const watches = await suture.store.recentRegressionWatches(50);
    if (watches.length === 0) console.log("no deploys watched yet: POST them to /v1/deploys, or run `npm run demo`");
    else console.log(`${"deploy".padEnd(7)} ${"at".padEnd(21)} ${"workload".padEnd(28)} ${"version".padEnd(12)} ${"source".padEnd(8)} ${"verdict".padEnd(11)} why`);
    for (const w of watches) {
      const triage = w.finding === null ? "" : ` [triage: ${w.finding.triage.confidence}]`;
      console.log(
        `${String(w.deployId).padEnd(7)} ${w.deployAt.toISOString().slice(0, 19).padEnd(21)} ${workloadKey(w.workload).padEnd(28)} ${w.version.slice(0, 12).padEnd(12)} ${w.source.padEnd(8)} ${statusText(w).padEnd(11 + (statusText(w).length - w.status.length))} ${w.reason}${triage}${w.incidentId !== null ? ` → ${w.incidentId}` : ""}${w.scope !== "" ? color("dim", " [simulated]") : ""}`,
      );
    }
    const builds = await suture.store.recentBuilds(10);
    if (builds.length > 0) console.log(color("bold", "\nFailed builds"));
    for (const b of builds) {
      const { errors, triage } = triageBuild(b);
      console.log(
        `  ${b.id} ${b.at.toISOString().slice(0, 19)} ${workloadKey(b.workload)} ${b.commit}: ${errors.length} error line(s); triage ${triage.confidence}${triage.suspects[0] !== undefined ? `, suspect ${triage.suspects[0].path}` : ""}`,
      );
      for (const e of triage.evidence.slice(0, 3)) console.log(color("dim", `    - ${e}`));
    }
    return 0;
  } finally {
    await suture.close();
  }
}

/** Regression scenario files under the given files or directories (recursively), sorted. */
async function scenarioFiles(targets: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const t of targets) {
    if (!(await stat(t)).isDirectory()) files.push(t);
    else for (const entry of await readdir(t, { recursive: true })) if (/\.ya?ml$/.test(entry)) files.push(path.join(t, entry));
  }
  return files.sort();
}

/**
 * `suture regressions eval <files or dirs> [--tag t]…`: plays regression scenarios and scores each
 * deploy's verdict and incident outcome against its expectation; exits 1 on any miss.
 */
async function evalRegressions(config: Config, args: CommandArgs): Promise<number> {
  const targets = args.positionals.slice(1);
  if (targets.length === 0) throw new InvalidInputError(USAGE);
  const tags = args.values["tag"];
  const wanted = Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
  const scenarios = (await Promise.all((await scenarioFiles(targets)).map((f) => loadRegressionScenario(f)))).filter((s) => wanted.length === 0 || wanted.some((t) => s.tags.includes(t)));
  const suture = await openSuture(config, { migrate: true });
  let deploys = 0;
  let correct = 0;
  try {
    console.log(`${"scenario".padEnd(46)} ${"deploy".padEnd(30)} ${"expected".padEnd(24)} ${"got".padEnd(24)} ok`);
    for (const scenario of scenarios) {
      for (const run of await runRegressionScenario(suture, scenario)) {
        const judged = judgeDeployRun(run);
        const outcome = run.incident?.state.outcome?.status ?? (run.incident?.awaitingApproval !== undefined ? "awaiting_approval" : undefined);
        const expected = `${run.expected.watch}${run.expected.outcome !== undefined ? ` → ${run.expected.outcome}` : ""}`;
        const got = `${run.look.status}${outcome !== undefined ? ` → ${outcome}` : ""}`;
        deploys += 1;
        if (judged.ok) correct += 1;
        console.log(
          `${scenario.name.slice(0, 46).padEnd(46)} ${`${workloadKey(run.deploy.workload)} ${run.deploy.version}`.slice(0, 30).padEnd(30)} ${expected.padEnd(24)} ${got.padEnd(24)} ${judged.ok ? color("green", "yes") : color("red", "no")}`,
        );
        for (const d of judged.differences) console.log(color("dim", `    ${d}`));
      }
    }
  } finally {
    await suture.close();
  }
  console.log(`\n${correct}/${deploys} deploys as expected (${scenarios.length} scenarios)`);
  return correct === deploys ? 0 : 1;
}
