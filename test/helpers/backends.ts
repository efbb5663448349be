import { randomUUID } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../db/database.js";

/** A database back end the same suites run against. */
export interface TestBackend {
  name: "embedded" | "postgres";
  /** Opens a fresh, empty database; closing it drops it. */
  open(): Promise<Database>;
}

const embedded: TestBackend = {
  name: "embedded",
  open: () => openDatabase({ dataDir: "memory://" }),
};

function postgres(url: string): TestBackend {
  return {
    name: "postgres",
    async open() {
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
      const db = await openDatabase({ url: target.toString() });
      return {
        ...db,
        async close() {
          await db.close();
          const cleanup = new pg.Client({ connectionString: url });
          await cleanup.connect();
          try {
            await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          } finally {
            await cleanup.end();
          }
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
