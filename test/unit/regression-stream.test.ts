import { describe, expect, it } from "vitest";
import { DEFAULT_OPTIONS, runStreamBenchmark, score } from "../../bench/regression-stream.js";

// The labelled sets are in ../shared/data/loghub-2k (the CI clone has them there too); a missing
// set fails the test rather than skipping it.
describe("the regression watch on a synthetic Loghub stream (small)", () => {
  it("Given two weeks of HDFS, OpenSSH and Zookeeper lines with 8 deploys each (half regressing), When watched minute by minute, Then ≥ 90 % of regressions are caught within 15 minutes and no clean deploy is flagged", () => {
    // Given the benchmark's generator on a fixed seed, three systems, 8 deploys each
    const outcomes = runStreamBenchmark({ ...DEFAULT_OPTIONS, seed: 18, deploysPerSystem: 8, systems: ["HDFS", "OpenSSH", "Zookeeper"] });
    // When the watch's outcomes are scored
    const watch = score(outcomes.filter((o) => o.detector === "suture"));
    // Then it catches the regressions in time and leaves the clean deploys alone
    expect(watch.regressions).toBe(12);
    expect(watch.clean).toBe(12);
    expect(watch.detection).toBeGreaterThanOrEqual(0.9);
    expect(watch.falsePer100).toBe(0);
    expect(watch.medianMinutes).toBeLessThanOrEqual(15);
  });
});
