import { describe, expect, it } from "vitest";
import { longestClimb } from "../../evidence/metrics.js";
import type { MetricPoint } from "../../environments/adapter.js";

const T0 = Date.parse("2026-11-23T09:00:00Z");
/** A series sampled every 30 s from values. */
const series = (values: number[]): MetricPoint[] => values.map((v, i) => ({ t: T0 + i * 30_000, v }));
/** One container's memory: `flat` samples at `base`, then climbing `perSample` until `limit`, killed (0), restarted at `restart`. */
function sawtooth(base: number, perSample: number, limit: number, restart: number, samples: number): number[] {
  const out: number[] = [];
  let v = base;
  while (out.length < samples) {
    out.push(Math.round(v));
    v = v >= limit ? 0 : v === 0 ? restart : Math.min(limit, v + perSample);
  }
  return out;
}

describe("the longest steady climb of a memory series", () => {
  it("Given a leaking container killed at its limit and restarted, When read, Then one tooth is a climb of many minutes at the leak's rate", () => {
    // Given 60 MiB/min (30 per sample) from 370 MiB to a 1536 MiB limit, over and over
    const climb = longestClimb(series(sawtooth(370, 30, 1536, 370, 120)), 150);
    // Then the climb lasts ~19 minutes at ~60 MiB/min and peaks at the limit
    expect(climb?.minutes).toBeGreaterThanOrEqual(15);
    expect(climb?.ratePerMin).toBeGreaterThan(50);
    expect(climb?.ratePerMin).toBeLessThan(70);
    expect(climb?.peak).toBe(1536);
  });

  it("Given a working set too big for its limit (killed within a warm-up), When read, Then no climb lasts more than two minutes", () => {
    // Given 30 minutes steady at 300 MiB, then kill/restart cycles reaching 480 within 1.5 minutes
    const values = [...Array.from({ length: 60 }, (_, i) => 300 + ((i * 7) % 5) - 2), 0, 358, 423, 475, 0, 0, 364, 418, 477, 0, 0, 0, 359, 425, 479, 0];
    const climb = longestClimb(series(values), 51);
    expect(climb?.minutes).toBeLessThanOrEqual(2);
  });

  it("Given noise around a flat line, When read with a minimum rise, Then there is no climb", () => {
    expect(longestClimb(series(Array.from({ length: 60 }, (_, i) => 300 + ((i * 7) % 9) - 4)), 51)).toBeUndefined();
  });
});
