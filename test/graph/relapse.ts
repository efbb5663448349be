import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scenarioFiles } from "../../app/evaluate.js";
import { loadScenario } from "../../app/scenario.js";
import { runScenario } from "../../app/scenario-run.js";
import { isAnomalous } from "../../evidence/anomaly.js";
import { summarizeSeries } from "../../evidence/metrics.js";
import type { MetricName } from "../../environments/adapter.js";
import { ROOT } from "../helpers/cli.js";
import { testBackends } from "../helpers/backends.js";
import { shardOf, SHARDS } from "../helpers/shards.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

const MINUTE = 60_000;
/** Metrics that measure user harm (the ones verify judges recovery on). */
const HARM = new Set(["error_rate", "latency_p99_ms", "request_rate", "ready_replicas", "consumer_lag", "disk_usage_pct"]);
const FAILING = new Set(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "Error"]);

/**
 * Shard `index` of {@link SHARDS} of the relapse check: every scenario (shipped, unseen, held out)
 * expected resolved that Suture resolves stays recovered for 30 simulated minutes.
 */
export function describeRelapseShard(index: number): void {
  describe(`adaptive verification: sampled settle windows that close early only on durable repairs (embedded), shard ${index + 1} of ${SHARDS}`, () => {
    let t: TestSuture;

    beforeAll(async () => {
      t = await openTestSuture(testBackends()[0]!);
    });
    afterAll(async () => {
      await t.suture.close();
    });

    it("never declares recovery when the fault is back within 30 simulated minutes, on any shipped or unseen scenario it resolves", async () => {
      // Given every shipped and unseen scenario Suture resolves
      const all = await scenarioFiles([path.join(ROOT, "data", "scenarios"), path.join(ROOT, "data", "scenarios-unseen"), path.join(ROOT, "data", "scenarios-heldout")]);
      for (let k = 1; k <= SHARDS; k++) expect(existsSync(path.join(ROOT, "test", "graph", `relapse-${k}.test.ts`)), `test/graph/relapse-${k}.test.ts`).toBe(true);
      const scenarios = shardOf(
        (await Promise.all(all.map((file) => loadScenario(file)))).filter((s) => s.expect.outcome === "resolved"),
        index,
        SHARDS,
      );
      const relapsed: string[] = [];
      let resolved = 0;
      for (const scenario of scenarios) {
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
      // Suture resolves nearly all of them (the test sets' misses are the rest)
      expect(resolved).toBeGreaterThanOrEqual(Math.floor(0.8 * scenarios.length));
      expect([...new Set(relapsed.map((r) => r.split(":")[0]))], relapsed.join("\n")).toEqual([]);
    }, 600_000);
  });
}
