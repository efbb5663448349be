import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scenarioFiles, withTags } from "../../app/evaluate.js";
import { loadScenario } from "../../app/scenario.js";
import { runScenario } from "../../app/scenario-run.js";
import { ROOT } from "../helpers/cli.js";
import { testBackends } from "../helpers/backends.js";
import { relapsesAfter } from "../helpers/relapse-watch.js";
import { shardOf, SHARDS } from "../helpers/shards.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

/**
 * Shard `index` of {@link SHARDS} of the relapse check on the scenarios no test evaluates (the
 * held-out set and the unseen test sets): every one expected resolved that Suture resolves stays
 * recovered for 30 simulated minutes. The shipped scenarios and the development set get the same
 * watch in the tests that evaluate them (test/eval), on the run they score.
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

    it("never declares recovery when the fault is back within 30 simulated minutes, on any held-out or unseen test-set scenario it resolves", async () => {
      // Given every held-out and unseen test-set scenario expected resolved (this shard of them)
      const unseen = await scenarioFiles([path.join(ROOT, "data", "scenarios-unseen")]);
      const dev = await withTags(unseen, ["dev"]);
      const files = [...unseen.filter((f) => !dev.includes(f)), ...(await scenarioFiles([path.join(ROOT, "data", "scenarios-heldout")]))];
      for (let k = 1; k <= SHARDS; k++) expect(existsSync(path.join(ROOT, "test", "graph", `relapse-${k}.test.ts`)), `test/graph/relapse-${k}.test.ts`).toBe(true);
      const scenarios = shardOf(
        (await Promise.all(files.map((file) => loadScenario(file)))).filter((s) => s.expect.outcome === "resolved"),
        index,
        SHARDS,
      );
      const relapsed: string[] = [];
      let resolved = 0;
      for (const scenario of scenarios) {
        // When it runs and verify declares recovery
        const run = await runScenario(t.suture, scenario, { via: "in-process" });
        if (run.state.outcome?.status === "resolved") resolved += 1;
        // Then over the next 30 simulated minutes, looked at every 5, no harm signal is abnormal again and no pod fails
        relapsed.push(...(await relapsesAfter(scenario.name, run)));
      }
      // The watch is not vacuous: Suture resolves most of them (blind test sets' misses are the rest)
      expect(resolved).toBeGreaterThanOrEqual(Math.floor(0.6 * scenarios.length));
      expect([...new Set(relapsed.map((r) => r.split(":")[0]))], relapsed.join("\n")).toEqual([]);
    }, 600_000);
  });
}
