/**
 * Per-incident graph overhead: one full incident (perceive → diagnose → policy-check → act →
 * verify) against the simulated environment, whose clock advances instantly, so the time is the
 * graph, the reasoners and persistence. Each database back end runs the same graph twice: with
 * PostgresSaver checkpoints, and with LangGraph's in-memory MemorySaver as the baseline, in the
 * same process and run; the table reports the ratio.
 *
 *   npm run bench                      # embedded PGlite (+ PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set)
 *   BENCH_INCIDENTS=50 npm run bench
 *
 * It then runs the other benchmarks of this folder (policy evaluation, the LLM prompt path, memory
 * search and the production path on PostgreSQL, `/healthz` during a large webhook on PGlite).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { parseAlertmanagerWebhook } from "../domain/alerts/alert.js";
import { openDatabase, type Database } from "../store/database.js";
import { migrate } from "../store/migrate.js";
import { GRAPH_STEP_LIMIT, contextFor } from "../app/advance.js";
import { incidentGraph } from "../app/graph.js";
import { MemoryNotifier } from "../app/notify.js";
import { scenarioWebhook } from "../app/scenario-run.js";
import { newIncidentId } from "../store/incidents.js";
import { wireSuture, type Suture } from "../app/suture.js";
import { loadScenario, type Scenario } from "../app/scenario.js";
import { benchIntake, printIntakeTable, type IntakeRow } from "./intake-throughput.js";
import { benchLlmPrompt, printLlmPromptTable } from "./llm-prompt.js";
import { benchMemorySearch, printMemoryTable } from "./memory-search.js";
import { benchPolicy, printPolicyTable } from "./policy-evaluation.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import { percentile } from "./stats.js";
import { benchWebhookLiveness, printLivenessTable } from "./webhook-liveness.js";
import { benchCheckpointSize, printCheckpointSizeTable } from "./checkpoint-size.js";
import { benchSettleMemory, printSettleMemoryTable } from "./settle-memory.js";
import { SCENARIOS_DIR } from "../domain/data.js";

const INCIDENTS = Number(process.env["BENCH_INCIDENTS"] ?? 40);
const WARMUP = 5;
const SCENARIO = path.join(SCENARIOS_DIR, "bad-rollout-missing-image.yaml");

interface Row {
  backend: string;
  checkpointer: string;
  incidents: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Times `n` incidents; world building and alert intake happen before the clock starts. */
async function timeIncidents(suture: Suture, graph: ReturnType<typeof incidentGraph>, scenario: Scenario, n: number): Promise<number[]> {
  const times: number[] = [];
  const alert = scenario.alerts[0];
  if (alert === undefined) throw new Error("benchmark scenario has no alert");
  for (let i = 0; i < n; i++) {
    const env = SimEnvironment.create(scenario.environment);
    await env.advanceTo(env.startTime + alert.atMinutes * 60_000);
    const body = scenarioWebhook(alert, env.startTime);
    const normalized = parseAlertmanagerWebhook(body).alerts[0];
    if (normalized === undefined) throw new Error("benchmark alert did not normalize");
    const incidentId = newIncidentId();
    await suture.store.createIncident({ id: incidentId, alert: normalized, environmentId: incidentId });
    await suture.store.recordAlert({ incidentId, alert: normalized, rawBody: JSON.stringify(body) });
    const context = contextFor(suture, env);
    const started = performance.now();
    const final = await graph.invoke({ incidentId, alert: normalized }, { configurable: { thread_id: incidentId }, context, durability: "sync", recursionLimit: GRAPH_STEP_LIMIT });
    times.push(performance.now() - started);
    // The runner releases an incident's workload locks when its run ends; invoking the graph directly, so do we.
    await suture.locks.releaseIncident(incidentId);
    if (final.outcome?.status !== "resolved") throw new Error(`benchmark incident ended ${final.outcome?.status ?? "unfinished"}: ${final.outcome?.reason ?? ""}`);
  }
  return times;
}

async function benchBackend(name: string, open: () => Promise<Database>, scenario: Scenario): Promise<Row[]> {
  const db = await open();
  try {
    await migrate(db);
    const suture = await wireSuture(db, { notifier: new MemoryNotifier() });
    const rows: Row[] = [];
    const graphs = [
      { checkpointer: "PostgresSaver", graph: suture.graph },
      { checkpointer: "MemorySaver", graph: incidentGraph(new MemorySaver()) },
    ];
    // Interleave rounds so drift (JIT, caches, disk) affects both checkpointers alike.
    const samples = new Map<string, number[]>(graphs.map((g) => [g.checkpointer, []]));
    for (const g of graphs) await timeIncidents(suture, g.graph, scenario, WARMUP);
    const rounds = 4;
    for (let r = 0; r < rounds; r++) {
      for (const g of graphs) samples.get(g.checkpointer)?.push(...(await timeIncidents(suture, g.graph, scenario, Math.ceil(INCIDENTS / rounds))));
    }
    for (const g of graphs) {
      const times = [...(samples.get(g.checkpointer) ?? [])].sort((a, b) => a - b);
      rows.push({
        backend: name,
        checkpointer: g.checkpointer,
        incidents: times.length,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        meanMs: times.reduce((a, b) => a + b, 0) / times.length,
      });
    }
    return rows;
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const scenario = await loadScenario(SCENARIO);
  const rows: Row[] = [];
  rows.push(...(await benchBackend("embedded (PGlite)", () => openDatabase({ dataDir: "memory://" }), scenario)));
  const url = process.env["BENCH_DATABASE_URL"] ?? process.env["TEST_DATABASE_URL"] ?? process.env["DATABASE_URL"];
  if (url !== undefined && url !== "") {
    rows.push(...(await benchBackend("PostgreSQL", () => openDatabase({ url }), scenario)));
  } else {
    console.log("(set BENCH_DATABASE_URL or TEST_DATABASE_URL to include a real PostgreSQL)\n");
  }
  const header = `${"backend".padEnd(20)} ${"checkpointer".padEnd(14)} ${"n".padStart(4)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"mean ms".padStart(8)} ${"p50 vs MemorySaver".padStart(19)}`;
  console.log(`Per-incident graph overhead (${scenario.name}: perceive → diagnose → policy-check → act → verify, simulated clock)\n`);
  console.log(header);
  console.log("-".repeat(header.length));
  for (const r of rows) {
    const baseline = rows.find((b) => b.backend === r.backend && b.checkpointer === "MemorySaver");
    const ratio = baseline ? `${(r.p50Ms / baseline.p50Ms).toFixed(2)}×` : "-";
    console.log(
      `${r.backend.padEnd(20)} ${r.checkpointer.padEnd(14)} ${String(r.incidents).padStart(4)} ${r.p50Ms.toFixed(1).padStart(8)} ${r.p99Ms.toFixed(1).padStart(8)} ${r.meanMs.toFixed(1).padStart(8)} ${ratio.padStart(19)}`,
    );
  }
  console.log("\nMemorySaver rows still write incidents, actions and the audit log to the same database; the ratio isolates checkpointing.");
  const policy = await benchPolicy(url);
  printPolicyTable(policy);
  const llm = await benchLlmPrompt();
  printLlmPromptTable(llm);
  const memory = url !== undefined && url !== "" ? await benchMemorySearch(url) : [];
  if (memory.length > 0) printMemoryTable(memory);
  else console.log("\n(memory search runs on a real PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL)");
  const intake: IntakeRow[] = url !== undefined && url !== "" ? await benchIntake(url) : [];
  if (intake.length > 0) printIntakeTable(intake);
  else console.log("\n(the production path runs on a real PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL)");
  const liveness = await benchWebhookLiveness();
  printLivenessTable(liveness);
  const sizes = await benchCheckpointSize(url);
  printCheckpointSizeTable(sizes);
  const settling = await benchSettleMemory();
  printSettleMemoryTable(settling);
  const out = path.resolve(import.meta.dirname, "results", "bench.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ at: new Date().toISOString(), scenario: scenario.name, graph: rows, policy, llm, memory, intake, liveness, sizes, settling }, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

await main();
