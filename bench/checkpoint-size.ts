/**
 * Checkpoint and export size per incident: today's representation against the one it replaced,
 * for the same incidents in the same run.
 *
 * Today: read-tool results are stored once per incident (the observations table) and the
 * checkpointed context keeps references; pending writes of steps that already have a successor
 * checkpoint are pruned; an export carries each checkpoint's changed channels only, the world as
 * the incident opened, and the results once, as compact JSON.
 *
 * Before (re-materialized from the same run): every checkpointed context carried the results
 * inline, and every step's writes were kept. The bench records each write as the graph makes it,
 * then writes the incident's checkpoints and those writes again, results inline, into a scratch
 * thread through the same checkpointer and measures it the same way; the "before" export is the
 * version-1 file built from the same data (every value in every checkpoint, results inline, both
 * worlds, pretty-printed as `suture export` wrote it).
 *
 *   npx tsx bench/checkpoint-size.ts        # PGlite, and PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set
 */
import path from "node:path";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointTuple, PendingWrite } from "@langchain/langgraph-checkpoint";
import { exportIncident, exportText } from "../app/export.js";
import { MemoryNotifier } from "../app/notify.js";
import { loadScenario } from "../app/scenario.js";
import { runScenario } from "../app/scenario-run.js";
import { wireSuture } from "../app/suture.js";
import { SCENARIOS_DIR } from "../domain/data.js";
import { openDatabase, type Database } from "../store/database.js";
import { openWorldId } from "../store/environments.js";
import { migrate } from "../store/migrate.js";
import { observationsFor, type StoredObservation } from "../store/observations.js";
import { withScratchDatabase } from "./scratch-database.js";

/** One measured incident. */
export interface SizeRow {
  backend: string;
  scenario: string;
  attempts: number;
  /** Bytes in the checkpoint tables for the incident's thread, today. */
  checkpointBytes: number;
  /** The same incident stored as before (results inline, every write kept). */
  beforeCheckpointBytes: number;
  /** Bytes of its stored observations (the results, once; not checkpoint data). */
  observationBytes: number;
  exportBytes: number;
  beforeExportBytes: number;
}

/** Bytes the checkpointer stores for one thread (checkpoints, channel blobs, pending writes). */
async function threadBytes(db: Database, threadId: string): Promise<number> {
  const rows = await db.pool.query<{ n: string }>(
    `SELECT (SELECT COALESCE(sum(octet_length(checkpoint::text) + octet_length(metadata::text)), 0) FROM checkpoints WHERE thread_id = $1)
          + (SELECT COALESCE(sum(octet_length(blob)), 0) FROM checkpoint_blobs WHERE thread_id = $1)
          + (SELECT COALESCE(sum(octet_length(blob)), 0) FROM checkpoint_writes WHERE thread_id = $1) AS n`,
    [threadId],
  );
  return Number(rows.rows[0]?.n ?? 0);
}

/** A context with its observation references replaced by the observations, results inline (before). */
function inlined(value: unknown, results: Map<string, StoredObservation>): unknown {
  const context = value as { observationRefs?: string[] } | null;
  if (context === null || typeof context !== "object" || !Array.isArray(context.observationRefs)) return value;
  const { observationRefs, ...rest } = context as { observationRefs: string[] } & Record<string, unknown>;
  const observations = observationRefs.map((ref) => {
    const o = results.get(ref);
    return o === undefined ? null : { tool: o.tool, params: o.params, at: o.at, ok: o.ok, summary: o.summary, result: o.result };
  });
  return { ...rest, observations };
}

const inlineWrites = (writes: PendingWrite[], results: Map<string, StoredObservation>): PendingWrite[] =>
  writes.map(([channel, value]) => [channel, channel === "context" ? inlined(value, results) : value]);

async function measure(backend: string, db: Database, scenarioName: string): Promise<SizeRow> {
  const suture = await wireSuture(db, { notifier: new MemoryNotifier() });
  // Every write the graph makes, as it makes it (the checkpointer keeps them until pruned).
  const recorded: Array<{ checkpointId: string; taskId: string; writes: PendingWrite[] }> = [];
  const putWrites = suture.checkpointer.putWrites.bind(suture.checkpointer);
  suture.checkpointer.putWrites = async (config: RunnableConfig, writes: PendingWrite[], taskId: string) => {
    recorded.push({ checkpointId: String(config.configurable?.["checkpoint_id"] ?? ""), taskId, writes });
    return putWrites(config, writes, taskId);
  };
  const run = await runScenario(suture, await loadScenario(path.join(SCENARIOS_DIR, `${scenarioName}.yaml`)));
  const id = run.incidentId;
  const stored = await observationsFor(db.pool, id);
  const results = new Map(stored.map((o) => [o.ref, o]));

  const tuples: CheckpointTuple[] = [];
  for await (const t of suture.checkpointer.list({ configurable: { thread_id: id } })) tuples.push(t);
  tuples.reverse();
  const before = `${id}-before`;
  for (const t of tuples) {
    const checkpoint: Checkpoint = { ...t.checkpoint, channel_values: { ...t.checkpoint.channel_values, context: inlined(t.checkpoint.channel_values["context"], results) } };
    const parent = t.parentConfig?.configurable?.["checkpoint_id"] as string | undefined;
    await suture.checkpointer.put(
      { configurable: { thread_id: before, checkpoint_ns: "", ...(parent !== undefined ? { checkpoint_id: parent } : {}) } },
      checkpoint,
      t.metadata ?? { source: "input", step: -1, parents: {} },
      checkpoint.channel_versions,
    );
  }
  for (const r of recorded) await putWrites({ configurable: { thread_id: before, checkpoint_ns: "", checkpoint_id: r.checkpointId } }, inlineWrites(r.writes, results), r.taskId);

  const exported = await exportIncident(suture, id);
  const latest = await suture.store.loadEnvironment(id);
  const atOpen = await suture.store.loadEnvironment(openWorldId(id));
  const beforeExport = {
    ...exported,
    format: "suture-incident-export/1",
    observations: undefined,
    environment: { spec: atOpen?.spec ?? null, atOpen: atOpen?.state ?? null, latest: latest?.state ?? null },
    checkpoints: tuples.map((t) => ({
      checkpoint: { ...t.checkpoint, channel_values: { ...t.checkpoint.channel_values, context: inlined(t.checkpoint.channel_values["context"], results) } },
      metadata: t.metadata,
      parentId: (t.parentConfig?.configurable?.["checkpoint_id"] as string | undefined) ?? null,
      pendingWrites: recorded.filter((r) => r.checkpointId === t.checkpoint.id).flatMap((r) => inlineWrites(r.writes, results).map(([channel, value]) => [r.taskId, channel, value])),
    })),
  };
  return {
    backend,
    scenario: scenarioName,
    attempts: run.state.attempts.length,
    checkpointBytes: await threadBytes(db, id),
    beforeCheckpointBytes: await threadBytes(db, before),
    observationBytes: stored.reduce((n, o) => n + JSON.stringify(o).length, 0),
    exportBytes: exportText(exported).length,
    beforeExportBytes: `${JSON.stringify(beforeExport, null, 2)}\n`.length,
  };
}

/** Runs a one-attempt and a two-attempt incident on each back end and measures them. */
export async function benchCheckpointSize(url?: string): Promise<SizeRow[]> {
  const scenarios = ["bad-rollout-missing-image", "memory-leak-old-revision"];
  const rows: SizeRow[] = [];
  const embedded = await openDatabase({ dataDir: "memory://" });
  try {
    await migrate(embedded);
    for (const s of scenarios) rows.push(await measure("embedded PGlite", embedded, s));
  } finally {
    await embedded.close();
  }
  if (url !== undefined && url !== "") {
    await withScratchDatabase(url, async (scratch) => {
      const db = await openDatabase({ url: scratch });
      try {
        await migrate(db);
        for (const s of scenarios) rows.push(await measure("PostgreSQL", db, s));
      } finally {
        await db.close();
      }
    });
  }
  return rows;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

/** Prints the table: today's size next to the one before, and the ratio. */
export function printCheckpointSizeTable(rows: SizeRow[]): void {
  console.log("\nCheckpoint data and export per incident: today vs before (results inline in every checkpoint, every write kept, v1 export), same incidents");
  const header = `${"back end".padEnd(16)} ${"scenario".padEnd(28)} ${"attempts".padStart(8)} ${"checkpoints".padStart(12)} ${"before".padStart(10)} ${"ratio".padStart(6)} ${"results once".padStart(13)} ${"export".padStart(10)} ${"before".padStart(10)} ${"ratio".padStart(6)}`;
  console.log(header);
  console.log("-".repeat(header.length));
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(16)} ${r.scenario.padEnd(28)} ${String(r.attempts).padStart(8)} ${kb(r.checkpointBytes).padStart(12)} ${kb(r.beforeCheckpointBytes).padStart(10)} ${(r.checkpointBytes / r.beforeCheckpointBytes).toFixed(2).padStart(6)} ${kb(r.observationBytes).padStart(13)} ${kb(r.exportBytes).padStart(10)} ${kb(r.beforeExportBytes).padStart(10)} ${(r.exportBytes / r.beforeExportBytes).toFixed(2).padStart(6)}`,
    );
  }
  console.log("(results once: the read-tool results, stored once per incident in the observations table; not checkpoint data)");
}

if (process.argv[1]?.endsWith("checkpoint-size.ts") === true) {
  printCheckpointSizeTable(await benchCheckpointSize(process.env["BENCH_DATABASE_URL"] ?? process.env["TEST_DATABASE_URL"]));
}
