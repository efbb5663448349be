import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Suites that ran 30 s or more in CI (a clean clone, 2 cores, 3 workers), longest first, with the
 * seconds they took there. A fresh clone has no timing cache, so vitest would order files by size
 * and start these small data-driven files last, where they stretch the run's tail; started first,
 * they share the machine with the suites that mostly wait on the wall clock.
 */
const LONG_RUNNING = [
  "test/server/settle-timers.test.ts", // 260 s
  "test/cli/inspect-export.test.ts", // 181 s
  "test/policy/never-unless-allowed.test.ts", // 120 s
  "test/kubernetes/parity.test.ts", // 118 s
  "test/server/workers-crash.test.ts", // 95 s
  "test/cli/llm-cli.test.ts", // 95 s
  "test/graph/dry-run-replay.test.ts", // 91 s
  "test/server/intake.test.ts", // 79 s
  "test/policy/policy-cli.test.ts", // 77 s
  "test/graph/relapse-2.test.ts", // 77 s
  "test/graph/crash-resume.test.ts", // 74 s
  "test/cli/bin.test.ts", // 73 s
  "test/eval/evaluate.test.ts", // 73 s
  "test/graph/relapse-1.test.ts", // 71 s
  "test/reasoners/injection-corpus.test.ts", // 68 s
  "test/graph/approval-restart.test.ts", // 63 s
  "test/memory/memory.test.ts", // 59 s
  "test/regression/regression-watch.test.ts", // 55 s
  "test/cli/invalid-input.test.ts", // 59 s
  "test/eval/dev-set-1.test.ts", // 58 s
  "test/e2e/prometheus-alertmanager.test.ts", // 52 s
  "test/server/workload-lock.test.ts", // 51 s
  "test/reasoners/llm-reasoner.test.ts", // 48 s
  "test/eval/dev-set-2.test.ts", // 44 s
  "test/graph/replay.test.ts", // 44 s
  "test/server/storm.test.ts", // 40 s
  "test/server/unstorable-input.test.ts", // 38 s
  "test/server/webhook-liveness.test.ts", // 36 s
  "test/kubernetes/cluster-service.test.ts", // 36 s
  "test/sim/exposition.test.ts", // 36 s
  "test/graph/incident-graph.test.ts", // 36 s
];

/** Runs the known long suites first (in the order above), then the rest as vitest would. */
export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = LONG_RUNNING.findIndex((suffix) => spec.moduleId.replaceAll("\\", "/").endsWith(suffix));
      return i < 0 ? LONG_RUNNING.length : i;
    };
    return sorted
      .map((spec, i) => ({ spec, i, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((x) => x.spec);
  }
}
