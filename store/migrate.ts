import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type { Database } from "./database.js";

/** The shipped migrations folder. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "migrations");

/** Arbitrary constant: one advisory lock serializes migrations across processes. */
const MIGRATION_LOCK = 727_001;

/** What a migrate run did. */
export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies pending SQL migrations in file-name order, each in its own transaction, then sets up
 * the LangGraph checkpoint tables once. Safe to run concurrently: an advisory lock serializes it.
 */
export async function migrate(db: Database, dir: string = MIGRATIONS_DIR): Promise<MigrationReport> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const client = await db.pool.connect();
  const applied: string[] = [];
  let alreadyApplied = 0;
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const done = new Set((await client.query<{ name: string }>("SELECT name FROM schema_migrations")).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) {
        alreadyApplied += 1;
        continue;
      }
      const sql = await readFile(path.join(dir, file), "utf8");
      try {
        await client.query("BEGIN");
        await client.query(sql);
        await client.query("INSERT INTO schema_migrations (name) VALUES ($1)", [file]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(file);
    }
    // On a server, set up the checkpoint tables while still holding the lock so replicas never
    // race; PGlite has one connection (and one process), so it does this after releasing ours.
    if (db.kind === "postgres") await new PostgresSaver(db.pool).setup();
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  if (db.kind === "embedded") await new PostgresSaver(db.pool).setup();
  return { applied, alreadyApplied };
}

/** Fails with the fix when the database has never been migrated (a query that also proves it answers). */
export async function assertMigrated(db: Database): Promise<void> {
  const result = await db.pool.query<{ present: boolean }>("SELECT to_regclass('public.incidents') IS NOT NULL AS present");
  if (result.rows[0]?.present !== true) {
    throw new Error(`the ${db.kind} database at ${db.location} has no Suture tables yet; run \`suture migrate\` (or \`npm run demo\`) first`);
  }
}
