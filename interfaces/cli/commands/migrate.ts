import type { Config } from "../../../app/config.js";
import { openDatabase } from "../../../store/database.js";
import { migrate } from "../../../store/migrate.js";
import { IncidentQueue } from "../../../store/queue.js";

/** `suture migrate`: applies pending SQL migrations and sets up the checkpoint tables. */
export async function migrateCommand(config: Config): Promise<number> {
  const db = await openDatabase({ ...(config.databaseUrl !== undefined ? { url: config.databaseUrl } : {}), dataDir: config.dataDir });
  try {
    const report = await migrate(db);
    // pg-boss installs (or upgrades) its own schema when it starts.
    const queue = await IncidentQueue.open(db);
    await queue.stop({ graceful: false });
    console.log(
      `migrated ${db.kind} database at ${db.location}: ${report.applied.length} applied` +
        `${report.applied.length > 0 ? ` (${report.applied.join(", ")})` : ""}, ${report.alreadyApplied} already applied`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
