/**
 * Per-incident overhead of the Kubernetes API path: every shipped scenario runs as one incident
 * (world built, alert ingested, perceive → … → verify) in-process against the simulator, and
 * through the simulated cluster's Kubernetes API with the real client (`suture eval --via
 * kubernetes`), in the same process and run, the two paths interleaved. The table reports the
 * median of each and their ratio; each path has its own embedded database, so memory from one
 * never changes the other's run.
 *
 *   npx tsx bench/kubernetes-path.ts
 *   BENCH_REPEATS=5 npx tsx bench/kubernetes-path.ts
 */
import { scenarioFiles } from "../app/evaluate.js";
import { MemoryNotifier } from "../app/notify.js";
import { loadScenario, type Scenario } from "../app/scenario.js";
import { runScenario } from "../app/scenario-run.js";
import type { PerceptionPath } from "../app/sim-kubernetes.js";
import { wireSuture, type Suture } from "../app/suture.js";
import { SCENARIOS_DIR } from "../domain/data.js";
import { openDatabase } from "../store/database.js";
import { migrate } from "../store/migrate.js";
import { percentile } from "./stats.js";

const REPEATS = Number(process.env["BENCH_REPEATS"] ?? 3);

/** One row of the table: a scenario's median incident time on each path. */
export interface KubernetesPathRow {
  scenario: string;
  inProcessMs: number;
  kubernetesMs: number;
  ratio: number;
}

async function openSuture(): Promise<Suture> {
  const db = await openDatabase({ dataDir: "memory://" });
  await migrate(db);
  return wireSuture(db, { notifier: new MemoryNotifier() });
}

/** Wall time of one incident of `scenario` along `via`. */
async function timeIncident(suture: Suture, scenario: Scenario, via: PerceptionPath): Promise<number> {
  const started = performance.now();
  await runScenario(suture, scenario, { via });
  return performance.now() - started;
}

/** Times every shipped scenario on both paths, `REPEATS` times each after one warm-up round. */
export async function benchKubernetesPath(): Promise<KubernetesPathRow[]> {
  const scenarios = await Promise.all((await scenarioFiles([SCENARIOS_DIR])).map(loadScenario));
  const sutures: Record<PerceptionPath, Suture> = { "in-process": await openSuture(), kubernetes: await openSuture() };
  try {
    // Warm-up: module loading, JIT and the first database writes are not part of any row.
    for (const scenario of scenarios.slice(0, 3)) for (const via of ["in-process", "kubernetes"] as const) await timeIncident(sutures[via], scenario, via);
    const rows: KubernetesPathRow[] = [];
    for (const scenario of scenarios) {
      const times: Record<PerceptionPath, number[]> = { "in-process": [], kubernetes: [] };
      for (let i = 0; i < REPEATS; i++) {
        for (const via of ["in-process", "kubernetes"] as const) times[via].push(await timeIncident(sutures[via], scenario, via));
      }
      const inProcessMs = percentile(times["in-process"], 50);
      const kubernetesMs = percentile(times.kubernetes, 50);
      rows.push({ scenario: scenario.name, inProcessMs, kubernetesMs, ratio: kubernetesMs / inProcessMs });
    }
    return rows;
  } finally {
    await sutures["in-process"].close();
    await sutures.kubernetes.close();
  }
}

/** Prints the table and the mean ratio. */
export function printKubernetesPathTable(rows: KubernetesPathRow[]): void {
  const header = `${"scenario".padEnd(38)} ${"in-process ms".padStart(14)} ${"kubernetes ms".padStart(14)} ${"ratio".padStart(7)}`;
  console.log(`Per-incident time, in-process vs through the simulated cluster's Kubernetes API (median of ${REPEATS}, simulated clock)\n`);
  console.log(header);
  console.log("-".repeat(header.length));
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(38)} ${r.inProcessMs.toFixed(1).padStart(14)} ${r.kubernetesMs.toFixed(1).padStart(14)} ${`${r.ratio.toFixed(2)}x`.padStart(7)}`);
  }
  const mean = rows.reduce((sum, r) => sum + r.ratio, 0) / Math.max(1, rows.length);
  console.log("-".repeat(header.length));
  console.log(`mean ratio ${mean.toFixed(2)}x over ${rows.length} scenario(s)`);
}

if (process.argv[1]?.endsWith("kubernetes-path.ts") === true) {
  printKubernetesPathTable(await benchKubernetesPath());
}
