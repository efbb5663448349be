import { describe, expect, it } from "vitest";
import { badness } from "../../evidence/anomaly.js";
import type { Attempt } from "../../domain/model.js";
import { lookAgain } from "../../nodes/verify.js";
import { makeAttempt } from "../helpers/factories.js";

// The relapse check over every resolved scenario is sharded in relapse-<n>.test.ts.

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
