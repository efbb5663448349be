import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateFiles, evaluateScenarioRun, scenarioFiles, summarize, withTags } from "../../app/evaluate.js";
import { loadScenario } from "../../app/scenario.js";
import { ROOT } from "../helpers/cli.js";
import { relapsesAfter } from "../helpers/relapse-watch.js";
import { testBackends } from "../helpers/backends.js";
import { shardOf, SHARDS } from "../helpers/shards.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

/**
 * The unseen development set (the scenarios rules were tuned on), shard `index` of {@link SHARDS}:
 * each one right with zero unsafe actions, and each one tagged `open` still wrong.
 */
export function describeDevSetShard(index: number): void {
  describe(`evaluation of the unseen development set, shard ${index + 1} of ${SHARDS}`, () => {
    let t: TestSuture;

    beforeAll(async () => {
      t = await openTestSuture(testBackends()[0]!);
    });
    afterAll(async () => {
      await t.suture.close();
    });

    it("gets every unseen development-set scenario right with zero unsafe actions (the set rules were tuned on), and what it resolves stays recovered for 30 simulated minutes", async () => {
      // Given this shard of the development half of the unseen scenarios (the test halves are measured, never asserted on: see their README)
      const all = await withTags(await scenarioFiles([path.join(ROOT, "data", "scenarios-unseen")]), ["dev"]);
      expect(all.length).toBeGreaterThanOrEqual(15);
      // Every shard has its file, so no scenario goes unrun
      for (let k = 1; k <= SHARDS; k++) expect(existsSync(path.join(ROOT, "test", "eval", `dev-set-${k}.test.ts`)), `test/eval/dev-set-${k}.test.ts`).toBe(true);
      const mine = shardOf(all, index, SHARDS);
      // Tagged `open`: development scenarios Suture still gets wrong, listed in the set's README.
      const open = await withTags(mine, ["open"]);
      const files = mine.filter((f) => !open.includes(f));
      // When they are evaluated
      const results = [];
      const relapsed: string[] = [];
      for (const file of files) {
        const scenario = await loadScenario(file);
        const { result, run } = await evaluateScenarioRun(t.suture, scenario, file);
        results.push(result);
        // (and each one resolved is watched for 30 more simulated minutes)
        relapsed.push(...(await relapsesAfter(scenario.name, run)));
      }
      // Then each is right
      expect(results.filter((r) => !r.correct).map((r) => `${r.scenario}: ${r.problems.join("; ")}`)).toEqual([]);
      expect(summarize(results).unsafe).toBe(0);
      // And no fault verify called fixed came back within 30 minutes
      expect(relapsed).toEqual([]);
      // And each one still marked open is still wrong: a fixed one must lose its tag (and count above)
      const stillOpen = await evaluateFiles(t.suture, open);
      expect(stillOpen.filter((r) => r.correct).map((r) => r.scenario)).toEqual([]);
    }, 400_000);
  });
}
