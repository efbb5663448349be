import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { openDatabase, type Database } from "../../store/database.js";

/** A database back end the same suites run against. */
export interface TestBackend {
  name: "embedded" | "postgres";
  /** Opens a fresh, empty database; closing it drops it. */
  open(): Promise<Database>;
  /**
   * Prepares a fresh database for separate processes: the environment variables that point
   * `suture` at it, a way to open it from the test, and a cleanup.
   */
  forProcesses(): Promise<ProcessDatabase>;
}

/** A database shared between the test and the `suture` processes it starts. */
export interface ProcessDatabase {
  env: Record<string, string>;
  open(): Promise<Database>;
  cleanup(): Promise<void>;
}

const embedded: TestBackend = {
  name: "embedded",
  open: () => openDatabase({ dataDir: "memory://" }),
  async forProcesses() {
    const home = await mkdtemp(path.join(os.tmpdir(), "suture-home-"));
    return {
      env: { SUTURE_HOME: home, DATABASE_URL: "" },
      open: () => openDatabase({ dataDir: path.join(home, "pgdata") }),
      cleanup: () => rm(home, { recursive: true, force: true }),
    };
  },
};

async function createDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const name = `suture_t_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

function postgres(url: string): TestBackend {
  return {
    name: "postgres",
    async open() {
      const created = await createDatabase(url);
      const db = await openDatabase({ url: created.url });
      return {
        ...db,
        async close() {
          await db.close();
          await created.drop();
        },
      };
    },
    async forProcesses() {
      const created = await createDatabase(url);
      const home = await mkdtemp(path.join(os.tmpdir(), "suture-home-"));
      return {
        env: { DATABASE_URL: created.url, SUTURE_HOME: home },
        open: () => openDatabase({ url: created.url }),
        async cleanup() {
          await created.drop();
          await rm(home, { recursive: true, force: true });
        },
      };
    },
  };
}

/**
 * The back ends to run database suites on: embedded PGlite always, and real PostgreSQL when
 * TEST_DATABASE_URL is set (CI always sets it).
 */
export function testBackends(): TestBackend[] {
  const url = process.env["TEST_DATABASE_URL"];
  return url !== undefined && url !== "" ? [embedded, postgres(url)] : [embedded];
}
