import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scenarioFiles } from "../../app/evaluate.js";
import { loadScenario } from "../../app/scenario.js";
import { runScenario } from "../../app/scenario-run.js";
import { badness, isAnomalous } from "../../evidence/anomaly.js";
import type { Attempt } from "../../domain/model.js";
import { lookAgain } from "../../nodes/verify.js";
import { makeAttempt } from "../helpers/factories.js";
import { summarizeSeries } from "../../evidence/metrics.js";
import type { MetricName } from "../../environments/adapter.js";
import { ROOT } from "../helpers/cli.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

const MINUTE = 60_000;
/** Metrics that measure user harm (the ones verify judges recovery on). */
const HARM = new Set(["error_rate", "latency_p99_ms", "request_rate", "ready_replicas", "consumer_lag", "disk_usage_pct"]);
const FAILING = new Set(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "Error"]);

describe("adaptive verification: sampled settle windows that close early only on durable repairs (embedded)", () => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(testBackends()[0]!);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("never declares recovery when the fault is back within 30 simulated minutes, on any shipped or unseen scenario it resolves", async () => {
    // Given every shipped and unseen scenario Suture resolves
    const files = await scenarioFiles([path.join(ROOT, "data", "scenarios"), path.join(ROOT, "data", "scenarios-unseen"), path.join(ROOT, "data", "scenarios-heldout")]);
    const relapsed: string[] = [];
    let resolved = 0;
    for (const file of files) {
      const scenario = await loadScenario(file);
      if (scenario.expect.outcome !== "resolved") continue;
      // When it runs and verify declares recovery
      const run = await runScenario(t.suture, scenario, { via: "in-process" });
      if (run.state.outcome?.status !== "resolved") continue;
      resolved += 1;
      const recoveredAt = run.env.now();
      const attempt = run.state.attempts.at(-1)!;
      const watched = (run.state.context?.snapshot.signals ?? []).filter((s) => HARM.has(s.metric));
      const service = run.state.alert.service;
      const memoryAt = async (): Promise<number | undefined> => summarizeSeries(await run.env.queryMetric(service, "memory_mib", 5))?.current;
      // Pods a fix restarted fill their caches for a few minutes; a leak keeps climbing after that.
      let warm: { minute: number; mib: number } | undefined;
      // Then over the next 30 simulated minutes, looked at every 5, no harm signal is abnormal again and no pod fails
      for (let minute = 5; minute <= 30; minute += 5) {
        await run.env.advanceTo(recoveredAt + minute * MINUTE);
        for (const s of watched) {
          const series = await run.env.queryMetric(s.service, s.metric as MetricName, 5);
          const current = summarizeSeries(series)?.current;
          if (current !== undefined && isAnomalous(s.metric, current, s.baseline))
            relapsed.push(`${scenario.name}: ${s.service} ${s.metric} ${current.toFixed(3)} vs ${s.baseline.toFixed(3)} ${minute} min after recovery`);
        }
        // A leak that came back: the working set climbing toward the limit again (a restart bought minutes, not a fix).
        const limit = (await run.env.describeWorkload(service)).deployment.memoryLimitMib;
        const memory = await memoryAt();
        if (memory !== undefined && warm === undefined) warm = { minute, mib: memory };
        if (memory !== undefined && warm !== undefined && minute > warm.minute && limit > 0) {
          const perMinute = (memory - warm.mib) / (minute - warm.minute);
          if (memory - warm.mib > 0.1 * limit && perMinute > 0 && (limit - memory) / perMinute < 60) {
            relapsed.push(`${scenario.name}: ${service} memory ${warm.mib.toFixed(0)} → ${memory.toFixed(0)} MiB of ${limit} ${minute} min after recovery`);
          }
        }
        const pods = (await run.env.describeWorkload(service)).pods.filter((p) => (p.reason !== undefined && FAILING.has(p.reason)) || (p.restarts > 0 && p.startedAt > recoveredAt));
        if (pods.length > 0)
          relapsed.push(`${scenario.name}: ${pods.length} ${service} pod(s) failing or restarted ${minute} min after recovery (${pods[0]?.reason ?? pods[0]?.lastTerminationReason ?? ""})`);
      }
      expect(attempt.samples?.length ?? 0, `${scenario.name}: verify sampled its settle window`).toBeGreaterThan(0);
    }
    expect(resolved).toBeGreaterThanOrEqual(45);
    expect([...new Set(relapsed.map((r) => r.split(":")[0]))], relapsed.join("\n")).toEqual([]);
  }, 600_000);
});

describe("adaptive verification: when verify looks again", () => {
  const t0 = Date.parse("2026-11-23T10:00:00Z");
  /** An executed attempt with 180 s to settle whose action met harm 10 (noise-floor units) on error rate. */
  function attempt(faultClass = "bad-rollout"): Attempt {
    return {
      ...makeAttempt({ settleSeconds: 180, executedAt: t0, faultClass }),
      before: { at: t0, signals: [{ service: "api", metric: "error_rate", current: 0.2, baseline: 0.01 }] },
    };
  }
  const look = (seconds: number, healthy: boolean, harm = healthy ? 0 : 5, lag?: number): NonNullable<Attempt["samples"]>[number] => ({
    at: t0 + seconds * 1000,
    harm,
    healthy,
    ...(lag !== undefined ? { lag } : {}),
  });
  const harmBefore = (a: Attempt): number => a.before.signals.reduce((sum, s) => sum + badness(s.metric, s.current, s.baseline), 0);

  it("judges at once when harm rose in two looks, after the stable looks (not for a leak), and at the deadline", () => {
    const a = attempt();
    // Given harm above what the action met, three healthy looks, or the settle interval over
    const risen = harmBefore(a) * 1.2 + 2;
    expect(lookAgain(a, [look(15, false, risen), look(30, false, risen)], t0 + 30_000, 3)).toEqual({ again: false, why: "harm rose" });
    // but one look (a rolling restart the action started dips ready replicas) is looked at again
    expect(lookAgain(a, [look(15, false, risen)], t0 + 15_000, 3).again).toBe(true);
    expect(lookAgain(a, [look(15, true), look(30, true), look(45, true)], t0 + 45_000, 3)).toEqual({ again: false, why: "healthy in 3 looks in a row" });
    expect(lookAgain(a, [look(15, true), look(30, false), look(45, true)], t0 + 45_000, 3).again).toBe(true);
    // Then a leak's repair waits its interval out however healthy it looks
    expect(lookAgain(attempt("memory-leak"), [look(15, true), look(30, true), look(45, true)], t0 + 45_000, 3).again).toBe(true);
    expect(lookAgain(a, [look(180, false)], t0 + 180_000, 3)).toEqual({ again: false, why: "settle interval over" });
  });

  it("watches a backlog that is still draining at the deadline while it empties in time, and no longer", () => {
    const a = attempt("kafka-poison-pill");
    // Given consumer lag falling 1,000 a look (15 s) with 4,000 left at the deadline: empty in a minute
    const draining = [look(150, false, 3, 6000), look(165, false, 3, 5000), look(180, false, 3, 4000)];
    expect(lookAgain(a, draining, t0 + 180_000, 3)).toEqual({ again: true, why: "backlog draining (4000 left, empty in ~60 s)" });
    // But one draining too slowly to empty within three settle intervals is judged now
    const slow = [look(150, false, 3, 400_000), look(165, false, 3, 399_000), look(180, false, 3, 398_000)];
    expect(lookAgain(a, slow, t0 + 180_000, 3)).toEqual({ again: false, why: "settle interval over" });
    // And a growing backlog is judged at the deadline
    const growing = [look(150, false, 3, 4000), look(165, false, 3, 5000), look(180, false, 3, 6000)];
    expect(lookAgain(a, growing, t0 + 180_000, 3).again).toBe(false);
  });
});
