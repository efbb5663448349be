import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import pg from "pg";
import { lockDataDir } from "./embedded-lock.js";
import { PGlitePool } from "./pglite-pool.js";

/** Anything that runs a query: the pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Which PostgreSQL Suture talks to. */
export type DatabaseKind = "embedded" | "postgres";

/** An open database: one `pg.Pool` API over either back end. */
export interface Database {
  kind: DatabaseKind;
  pool: pg.Pool;
  /** Human-readable location (data directory or URL without password). */
  location: string;
  /** The PostgreSQL URL (server back end only), for components that open their own pool. */
  connectionString?: string;
  /** The embedded session (embedded back end only). */
  embedded?: PGlitePool;
  close(): Promise<void>;
}

/** Where to find the database. */
export interface DatabaseOptions {
  /** A PostgreSQL URL; when absent the embedded PGlite is used. */
  url?: string;
  /** Data directory for the embedded back end; `memory://` keeps it in memory. */
  dataDir?: string;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/**
 * Opens the embedded PGlite (with pgvector) in `dataDir`. PGlite is a single backend session,
 * so the pool is one connection: callers must never hold a client while awaiting another query.
 */
async function openEmbedded(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith("memory://");
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const unlock = inMemory ? () => undefined : lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({ dataDir, extensions: { vector } });
  } catch (error) {
    unlock();
    throw error;
  }
  // The checkpointer and the store are typed against pg.Pool; PGlitePool implements the part
  // of it they use (query, connect/release, end), see db/pglite-pool.ts.
  const embedded = new PGlitePool(pglite);
  const pool = embedded as unknown as pg.Pool;
  return {
    kind: "embedded",
    pool,
    embedded,
    location: dataDir,
    async close() {
      await pool.end();
      await pglite.close();
      unlock();
    },
  };
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  // An idle client can lose its connection (server restart, admin termination); node-postgres
  // reports that on the pool, and an unhandled 'error' event would crash the process.
  pool.on("error", (error) => {
    process.stderr.write(`suture: idle PostgreSQL connection closed: ${error.message}\n`);
  });
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end();
    throw new Error(`cannot connect to PostgreSQL at ${redact(url)}: ${(error as Error).message}; check DATABASE_URL`, { cause: error });
  }
  return {
    kind: "postgres",
    pool,
    location: redact(url),
    connectionString: url,
    async close() {
      await pool.end();
    },
  };
}

/** Opens PostgreSQL when a URL is given, otherwise the embedded database. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url !== undefined && options.url !== "") return openPostgres(options.url);
  return openEmbedded(options.dataDir ?? path.resolve(".suture", "pgdata"));
}

/** Runs `work` inside one transaction on one client, rolling back on error. */
export async function withTransaction<T>(db: Database, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}
