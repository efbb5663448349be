import { afterEach, describe, expect, it } from "vitest";
import { selfRecoveryPass } from "../../app/self-recovery.js";
import { IncidentStore } from "../../store/incident-store.js";
import { migrate } from "../../store/migrate.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { incidentHistory } from "../helpers/self-history.js";
import { spawnWorker } from "../helpers/workers.js";

/** Reads the self-recoveries and their audit entries, opening the database only for the read (embedded PGlite is one process at a time). */
async function recoveriesIn(pd: ProcessDatabase): Promise<{ recoveries: Array<{ kind: string; metric: string; restored_at: Date | null }>; audits: number }> {
  const db = await pd.open();
  try {
    const recoveries = (await db.pool.query<{ kind: string; metric: string; restored_at: Date | null }>("SELECT kind, metric, restored_at FROM self_recoveries ORDER BY id")).rows;
    const audits = (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE kind = 'self_recovery'")).rows[0]!.n;
    return { recoveries, audits };
  } finally {
    await db.close();
  }
}

describe.each(testBackends())("chaos: a worker killed during self-recovery, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;
  afterEach(async () => {
    await pd?.cleanup();
    pd = undefined;
  });

  it("Given a doubled rollback rate, When the worker opening the recovery is SIGKILLed inside its transaction, Then nothing is half-written, the next worker's first pass opens each recovery exactly once, audited, and later passes open nothing more", async () => {
    pd = await backend.forProcesses();
    // Given a week with 10 rollbacks in 100 remediations and, in the last hours, 15 in 60
    const db = await pd.open();
    await migrate(db);
    const now = new Date();
    await incidentHistory(db, now, { tag: "base", hoursAgo: 48, n: 100, rollbacks: 10, escalations: 10 });
    await incidentHistory(db, now, { tag: "now", hoursAgo: 2, n: 60, rollbacks: 15, escalations: 6 });
    await db.close();

    // When a worker runs its self-health pass and is killed after writing the recovery's row, before its audit entry and commit
    const doomed = await spawnWorker({ ...pd.env, SUTURE_CRASH_IN_SELF_RECOVERY: "1" }, 1, ["--self-health-every", "1"]);
    const end = await doomed.exited;
    expect(end.signal, doomed.output()).toBe("SIGKILL");
    // Then neither the recovery nor its audit entry exists: the transaction never committed
    expect(await recoveriesIn(pd)).toEqual({ recoveries: [], audits: 0 });

    // When the next worker starts
    const next = await spawnWorker(pd.env, 1, ["--self-health-every", "1"]);
    try {
      // (the worsened remediations also raise the not-recovered rate: two metrics, two recoveries)
      await expect.poll(() => next.output(), { timeout: 20_000, interval: 200 }).toMatch(/self-recovery #\d+: autonomy lowered to recommend: not_recovered_rate/);
      expect(next.output()).toMatch(/self-recovery #\d+: autonomy lowered to recommend: rollback_rate/);
    } finally {
      next.child.kill("SIGTERM");
      await next.exited;
    }
    // Then exactly one recovery per metric is in force, each with one audit entry
    const after = await recoveriesIn(pd);
    expect(after.recoveries.map((r) => [r.kind, r.metric, r.restored_at])).toEqual([
      ["lower_autonomy", "rollback_rate", null],
      ["lower_autonomy", "not_recovered_rate", null],
    ]);
    expect(after.audits).toBe(2);

    // And another pass (any worker, any number of them) opens nothing more
    const again = await pd.open();
    try {
      expect(await selfRecoveryPass(new IncidentStore(again))).toEqual([]);
      expect((await again.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM self_recoveries")).rows[0]!.n).toBe(2);
    } finally {
      await again.close();
    }
  }, 90_000);
});
