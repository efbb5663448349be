import { describeSelfRecovery } from "../../../domain/self-health.js";
import type { Config } from "../../../app/config.js";
import { DEFAULT_HEALTH_WINDOWS, selfHealth } from "../../../app/health.js";
import { InvalidInputError, NotFoundError } from "../../../domain/errors.js";
import type { CommandArgs } from "../args.js";
import { color } from "../format.js";
import { withSuture } from "./inspect.js";

function positiveNumber(args: CommandArgs, name: string, fallback: number): number {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === "string" ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new InvalidInputError(`--${name} ${JSON.stringify(raw)}: expected a positive number`);
  return n;
}

const RESTORE_USAGE = "usage: suture health restore <recovery id> --as <name> --reason <why>";

/** `suture health restore <id> --as <name> --reason …`: a human ends a self-recovery in force (audited). */
async function restoreCommand(config: Config, args: CommandArgs, rawId: string | undefined): Promise<number> {
  const id = Number(rawId);
  const by = args.values["as"];
  const reason = args.values["reason"];
  if (rawId === undefined || !Number.isInteger(id) || id <= 0) throw new InvalidInputError(`expected a self-recovery id (a positive integer), got ${JSON.stringify(rawId ?? "")}\n${RESTORE_USAGE}`);
  if (typeof by !== "string" || by.trim() === "") throw new InvalidInputError(`--as: expected who restores it\n${RESTORE_USAGE}`);
  if (typeof reason !== "string" || reason.trim() === "") throw new InvalidInputError(`--reason: expected why it is safe to restore\n${RESTORE_USAGE}`);
  return withSuture(config, async (suture) => {
    const row = await suture.store.restoreSelfRecovery(id, by, reason);
    if (row === undefined) {
      const active = (await suture.store.activeSelfRecoveries()).map((r) => `#${r.id}`);
      throw new NotFoundError(`no self-recovery #${id} is in force; in force: ${active.length > 0 ? active.join(", ") : "none"}`);
    }
    console.log(`self-recovery #${row.id} (${row.kind} on ${row.metric}) restored by ${by}: autonomy is the policy file's again`);
    return 0;
  });
}

/**
 * `suture health [--window-hours 6] [--baseline-days 7] [--json]`: each self-metric's rate in the
 * last window against its baseline, with the anomaly test's verdict. Exit 1 when one is anomalous.
 */
export async function healthCommand(config: Config, args: CommandArgs): Promise<number> {
  const [sub, id] = args.positionals;
  if (sub !== undefined && sub !== "restore") throw new InvalidInputError(`unknown health command ${JSON.stringify(sub)}; known: restore\n${RESTORE_USAGE}`);
  if (sub === "restore") return restoreCommand(config, args, id);
  const windows = { windowHours: positiveNumber(args, "window-hours", DEFAULT_HEALTH_WINDOWS.windowHours), baselineDays: positiveNumber(args, "baseline-days", DEFAULT_HEALTH_WINDOWS.baselineDays) };
  return withSuture(config, async (suture) => {
    const health = await selfHealth(suture.store, new Date(), windows);
    const anomalous = health.rates.filter((r) => r.status === "anomalous");
    if (args.values["json"] !== undefined) {
      console.log(JSON.stringify(health, null, 2));
      return anomalous.length > 0 ? 1 : 0;
    }
    console.log(`Suture's own health: the last ${windows.windowHours} h (since ${health.window.from}) against the ${windows.baselineDays} days before`);
    console.log(
      `anomaly test: one-sided binomial against the baseline rate ((events+1)/(trials+2)), p < ${health.test.alpha}, at least ${health.test.minTrials} trials in the window and ${health.test.minBaselineTrials} in the baseline; replays excluded`,
    );
    console.log("call failures are also judged on the most recent calls, like a circuit breaker (column `recent`: failed/calls, anomalous at or above its limit)");
    console.log("");
    console.log(`${"metric".padEnd(26)} ${"window".padStart(12)} ${"baseline".padStart(12)} ${"recent".padStart(8)} ${"p".padStart(8)}  status`);
    for (const r of health.rates) {
      const frac = (c: { events: number; trials: number }): string => `${c.events}/${c.trials}`;
      const status = r.status === "anomalous" ? color("red", "ANOMALOUS") : r.status === "ok" ? color("green", "ok") : color("dim", "not judged");
      console.log(
        `${r.metric.padEnd(26)} ${frac(r.current).padStart(12)} ${frac(r.baseline).padStart(12)} ${(r.recent !== undefined ? frac(r.recent) : "-").padStart(8)} ${(r.pValue === null ? "-" : r.pValue.toPrecision(2)).padStart(8)}  ${status}: ${r.reason}`,
      );
    }
    const recoveries = await suture.store.activeSelfRecoveries();
    console.log("");
    console.log(color("bold", "Self-recoveries in force") + color("dim", "  (only a human ends one: suture health restore <id> --as <name> --reason …)"));
    for (const r of recoveries) console.log(`  #${r.id} since ${r.started_at.toISOString()}: ${describeSelfRecovery(r)} (${r.kind} on ${r.metric}): ${r.reason}`);
    if (recoveries.length === 0) console.log("  none");
    const skews = await suture.store.recentAuditOfKind("clock_skew", new Date(health.window.from));
    console.log("");
    console.log(color("bold", "Worker clocks") + color("dim", `  (skew beyond 2 s against the database's clock, reported since ${health.window.from}; deadlines are timed by the database's clock)`));
    for (const s of skews) console.log(`  ${s.at.toISOString()}: ${s.summary}`);
    if (skews.length === 0) console.log("  none reported");
    console.log("");
    console.log(
      anomalous.length === 0
        ? "no self-metric is anomalous"
        : `${anomalous.length} self-metric(s) anomalous: ${anomalous.map((r) => `${r.metric} (${r.meaning})`).join("; ")}. A worker's self-health pass lowers autonomy to recommend for the rollback, not-recovered and failed-action rates, opens the adapter breaker for failing adapter calls, and turns the model reasoner off for unusable model answers.`,
    );
    return anomalous.length > 0 ? 1 : 0;
  });
}
