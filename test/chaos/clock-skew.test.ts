import { afterEach, describe, expect, it } from "vitest";
import { CLOCK_SKEW_LIMIT_MS } from "../../app/self-recovery.js";
import { settleDue, type SettleWait } from "../../domain/settle.js";
import { DatabaseClock } from "../../store/clock.js";
import { migrate } from "../../store/migrate.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { spawnWorker } from "../helpers/workers.js";

const AHEAD_MS = 120_000;
const BEHIND_MS = -90_000;

/**
 * Chaos of time: workers whose hosts' clocks disagree with each other and with the database.
 * Detection bound stated here: a skew beyond the limit is reported by the worker's first check,
 * as it starts. Recovery: every worker times deadlines by the database's clock, so a settle
 * deadline one worker set is due at the same moment for another.
 */
describe.each(testBackends())("chaos: clock skew between workers, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;
  afterEach(async () => {
    await pd?.cleanup();
    pd = undefined;
  });

  it("Given two workers whose clocks run 2 min ahead and 1.5 min behind, When each starts, Then each reports its skew at once (audited, measured to within a second), and a worker whose clock is right reports nothing", async () => {
    pd = await backend.forProcesses();
    const db = await pd.open();
    await migrate(db);
    await db.close();

    // When each worker starts (one at a time: an embedded database serves one process)
    for (const skew of [AHEAD_MS, BEHIND_MS, 0]) {
      const worker = await spawnWorker({ ...pd.env, SUTURE_CLOCK_SKEW_MS: String(skew) }, 1, ["--self-health-every", "0"]);
      worker.child.kill("SIGTERM");
      await worker.exited;
      // Then a skewed one said so before it took any job (the check runs as it starts)
      if (skew === 0) expect(worker.output()).not.toContain("clock skew");
      else expect(worker.output()).toMatch(new RegExp(`clock skew ${(skew / 1000).toFixed(0)}\\.\\d s against the database`));
    }

    // Then the audit log holds one report per skewed worker, each naming the worker and the skew it measured
    const check = await pd.open();
    try {
      const reports = await check.pool.query<{ summary: string; detail: { worker: string; skewMs: number; limitMs: number } }>(
        "SELECT summary, detail FROM audit_log WHERE kind = 'clock_skew' ORDER BY id",
      );
      expect(reports.rows).toHaveLength(2);
      expect(reports.rows[0]!.detail.skewMs).toBeGreaterThan(AHEAD_MS - 1_000);
      expect(reports.rows[0]!.detail.skewMs).toBeLessThan(AHEAD_MS + 1_000);
      expect(reports.rows[0]!.summary).toMatch(/clock is 120\.\d s ahead of the database's/);
      expect(reports.rows[1]!.detail.skewMs).toBeGreaterThan(BEHIND_MS - 1_000);
      expect(reports.rows[1]!.detail.skewMs).toBeLessThan(BEHIND_MS + 1_000);
      expect(reports.rows[1]!.summary).toMatch(/clock is 90\.\d s behind the database's/);
      expect(reports.rows.every((r) => r.detail.limitMs === CLOCK_SKEW_LIMIT_MS && r.detail.worker !== "")).toBe(true);
      // And the skew changed nothing Suture may do: no recovery opened, no action ran
      expect((await check.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM self_recoveries")).rows[0]!.n).toBe(0);
      expect((await check.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM actions")).rows[0]!.n).toBe(0);
    } finally {
      await check.close();
    }
  }, 120_000);

  it("Given the same two skewed clocks over one database, When a settle deadline set by the one ahead is judged by the one behind, Then it is due at the same moment for both (not 3.5 minutes apart)", async () => {
    const db = await backend.open();
    try {
      const ahead = new DatabaseClock(db.pool, () => Date.now() + AHEAD_MS);
      const behind = new DatabaseClock(db.pool, () => Date.now() + BEHIND_MS);
      // Given clocks that, uncorrected, disagree by 3.5 minutes
      expect(Math.abs(ahead.now() - behind.now() - (AHEAD_MS - BEHIND_MS))).toBeLessThan(50);
      // When each measures itself against the database
      expect((await ahead.sync()).skewMs).toBeGreaterThan(AHEAD_MS - 1_000);
      expect((await behind.sync()).skewMs).toBeLessThan(BEHIND_MS + 1_000);
      // Then they agree to within the measurement
      expect(Math.abs(ahead.now() - behind.now())).toBeLessThan(1_000);
      // And a 1.5 s settle window set by one ends for the other 1.5 s later, not minutes early or late
      const wait: SettleWait = { kind: "settle", incidentId: "inc-skew", attempt: 1, tool: "rollout_undo", until: new Date(ahead.now() + 1_500).toISOString() };
      expect(settleDue(wait, behind.now())).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      expect(settleDue(wait, behind.now())).toBe(true);
    } finally {
      await db.close();
    }
  });
});
