import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../domain/errors.js";
import { Baseline } from "../../regression/baseline.js";
import { detectRegression, parseDetectionConfig, type DetectionResult } from "../../regression/detect.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Monday 16 November 2026, 00:00 UTC: the baseline week starts here. */
const WEEK_START = Date.UTC(2026, 10, 16);
/** The next Monday, 08:00 UTC: the deploy lands at the start of the morning rise. */
const MONDAY_8AM = WEEK_START + 7 * DAY + 8 * HOUR;

const TIMEOUT = "GET /checkout timed out after <num>ms";
const CACHE = "cache miss for key <*>";
const PAYMENT = "payment provider returned <num>";
const NEW_ERROR = "TypeError: Cannot read properties of undefined (reading 'total') at CartService.total";

/** Business hours on weekdays: 08:00–18:00 UTC, Monday to Friday. */
function busy(t: number): boolean {
  const day = Math.floor((t - WEEK_START) / DAY) % 7; // 0 = Monday
  const hour = Math.floor((t % DAY) / HOUR);
  return day < 5 && hour >= 8 && hour < 18;
}

/** Counts of one 5-minute bucket: timeouts and payment errors follow traffic, cache misses do not. */
function bucketCounts(t: number, bucketIndex: number): Record<string, number> {
  return busy(t) ? { [TIMEOUT]: 6, [CACHE]: 2, [PAYMENT]: 3 } : { [TIMEOUT]: 1, [CACHE]: 2, [PAYMENT]: bucketIndex % 2 };
}

/** A baseline fed one week of 5-minute buckets from Monday 00:00. */
function weekOfBaseline(profile: "daily" | "flat" = "daily", days = 7): Baseline {
  const baseline = new Baseline("shop/checkout", { profile });
  for (let i = 0; i < (days * DAY) / (5 * MINUTE); i += 1) {
    const t = WEEK_START + i * 5 * MINUTE;
    baseline.observe(t, bucketCounts(t, i));
  }
  return baseline;
}

const deploy = { workload: "shop/checkout", version: "v2.14.0", at: MONDAY_8AM };
/** What a normal Monday 08:00–09:00 looks like: 12 busy buckets. */
const NORMAL_HOUR = { [TIMEOUT]: 72, [CACHE]: 24, [PAYMENT]: 36 };

function watch(baseline: Baseline, counts: Record<string, number>, minutes = 60, config = {}): DetectionResult {
  return detectRegression(deploy, baseline, { from: MONDAY_8AM, to: MONDAY_8AM + minutes * MINUTE, counts }, config);
}

function testOf(result: DetectionResult, signature: string): NonNullable<DetectionResult["tests"][number]> {
  const test = result.tests.find((t) => t.signature === signature);
  if (test === undefined) throw new Error(`no test for ${signature}`);
  return test;
}

describe("regression detection against the time-of-day baseline", () => {
  it("Given a week with quiet nights and weekends, When a deploy lands as Monday's morning rise starts, Then the rise is not a regression", () => {
    // Given a baseline that saw the same rise on each weekday morning
    const baseline = weekOfBaseline();
    // When the hour after a Monday 08:00 deploy looks like any weekday's 08:00–09:00
    const result = watch(baseline, NORMAL_HOUR);
    // Then nothing is flagged, and the timeouts' expected count follows the morning, not the week's mean
    expect(result.status).toBe("judged");
    expect(result.candidate).toBeUndefined();
    const timeouts = testOf(result, TIMEOUT);
    expect(timeouts.expected).toBeGreaterThan(55);
    expect(timeouts.flagged).toBe(false);
  });

  it("Given the same week and a flat-rate baseline, When the same Monday morning is judged, Then the flat model calls the rise a regression (what the profile prevents)", () => {
    const result = watch(weekOfBaseline("flat"), NORMAL_HOUR, 60, { maxTrafficScale: 1 });
    expect(result.candidate?.signatures.map((s) => s.signature)).toContain(TIMEOUT);
  });

  it("Given the week's baseline, When timeouts run at three times their Monday-morning rate, Then they are the candidate regression, with expected vs observed and p and q", () => {
    // When the deploy triples the timeouts and leaves the rest alone
    const result = watch(baseline(), { ...NORMAL_HOUR, [TIMEOUT]: 216 });
    // Then the candidate names the timeouts (only them) and the deploy
    expect(result.candidate?.deploy).toEqual(deploy);
    expect(result.candidate?.signatures.map((s) => s.signature)).toEqual([TIMEOUT]);
    const timeouts = testOf(result, TIMEOUT);
    expect(timeouts.observed).toBe(216);
    expect(timeouts.rateRatio).toBeGreaterThan(2.5);
    expect(timeouts.p).toBeLessThan(1e-20);
    expect(timeouts.q).toBeLessThanOrEqual(result.threshold);
    expect(timeouts.seenBefore).toBe(true);
  });

  it("Given the week's baseline, When an error never seen before appears 6 times in the first 20 minutes, Then it is flagged as new", () => {
    const result = watch(baseline(), { [TIMEOUT]: 20, [CACHE]: 8, [PAYMENT]: 12, [NEW_ERROR]: 6 }, 20);
    const fresh = testOf(result, NEW_ERROR);
    expect(fresh.seenBefore).toBe(false);
    expect(fresh.expected).toBeLessThan(0.01);
    expect(fresh.flagged).toBe(true);
    expect(result.candidate?.signatures.map((s) => s.signature)).toEqual([NEW_ERROR]);
  });

  it("Given the minimum count of 5, When a never-seen error appears 4 times, Then it is not flagged although its p-value is tiny", () => {
    const result = watch(baseline(), { [TIMEOUT]: 20, [CACHE]: 8, [PAYMENT]: 12, [NEW_ERROR]: 4 }, 20);
    const fresh = testOf(result, NEW_ERROR);
    // The guard, not the statistics, holds it back.
    expect(fresh.q).toBeLessThanOrEqual(result.threshold);
    expect(fresh.flagged).toBe(false);
    expect(result.candidate).toBeUndefined();
    // And with the guard lowered to 4 the same counts are flagged.
    expect(watch(baseline(), { [TIMEOUT]: 20, [CACHE]: 8, [PAYMENT]: 12, [NEW_ERROR]: 4 }, 20, { minCount: 4 }).candidate?.signatures[0]?.signature).toBe(NEW_ERROR);
  });

  it("Given a busy day with every signature up by 30 %, When judged, Then the traffic correction absorbs it and nothing is flagged", () => {
    const result = watch(baseline(), { [TIMEOUT]: 94, [CACHE]: 31, [PAYMENT]: 47 });
    expect(result.trafficScale).toBeGreaterThan(1.2);
    expect(result.candidate).toBeUndefined();
  });

  it("Given a baseline of only 12 hours, When a deploy is judged, Then it is skipped with the reason", () => {
    const short = new Baseline("shop/checkout");
    for (let i = 0; i < 144; i += 1) short.observe(MONDAY_8AM - 12 * HOUR + i * 5 * MINUTE, { [TIMEOUT]: 1 });
    const result = watch(short, { [TIMEOUT]: 500 });
    expect(result.status).toBe("skipped");
    expect(result.reason).toMatch(/covers 12\.0 h, fewer than the 24 h needed/);
    expect(result.candidate).toBeUndefined();
  });
});

/** The shared week (rebuilt per test so none can leak state into another). */
function baseline(): Baseline {
  return weekOfBaseline();
}

describe("the baseline model", () => {
  it("Given a baseline saved as JSON, When it is loaded again, Then it expects exactly the same counts", () => {
    const original = weekOfBaseline();
    const reloaded = Baseline.fromJSON(JSON.parse(JSON.stringify(original.toJSON())) as unknown);
    for (const signature of [TIMEOUT, CACHE, PAYMENT, NEW_ERROR]) {
      expect(reloaded.expectedCount(signature, MONDAY_8AM, MONDAY_8AM + HOUR)).toBeCloseTo(original.expectedCount(signature, MONDAY_8AM, MONDAY_8AM + HOUR), 9);
    }
  });

  it("Given nine days of buckets, When the window is 7 days, Then only the last 7 days are kept", () => {
    const nine = weekOfBaseline("daily", 9);
    expect(nine.coverageMinutes()).toBe(7 * 1440);
    expect(nine.coverage()?.from).toBe(WEEK_START + 2 * DAY);
  });

  it("Given a weekday-only error, When weekend hours are expected, Then they are far below the weekday's", () => {
    const b = weekOfBaseline();
    const saturdayNoon = WEEK_START + 5 * DAY + 12 * HOUR;
    const mondayNoon = WEEK_START + 7 * DAY + 12 * HOUR;
    expect(b.expectedCount(PAYMENT, mondayNoon, mondayNoon + HOUR)).toBeGreaterThan(5 * b.expectedCount(PAYMENT, saturdayNoon, saturdayNoon + HOUR));
  });

  it("Given buckets out of order or misaligned, When observed, Then the error says which and why", () => {
    const b = new Baseline("shop/checkout");
    b.observe(WEEK_START, { [TIMEOUT]: 1 });
    expect(() => b.observe(WEEK_START, { [TIMEOUT]: 1 })).toThrow(/is not after the last one/);
    expect(() => b.observe(WEEK_START + 7 * MINUTE, { [TIMEOUT]: 1 })).toThrow(/not aligned to 5-minute buckets/);
    expect(() => b.observe(WEEK_START + 5 * MINUTE, { [TIMEOUT]: -1 })).toThrow(/expected a whole number ≥ 0, got -1/);
  });
});

describe("configuration is refused field by field", () => {
  it("Given a config with a bad q, a zero minimum count and a text watch length, When parsed, Then one InvalidInputError names all three fields", () => {
    let error: unknown;
    try {
      parseDetectionConfig({ q: 1.5, minCount: 0, watchMinutes: "60" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const message = (error as Error).message;
    expect(message).toMatch(/^regression watch config: /);
    expect(message).toContain("q: expected a rate < 1");
    expect(message).toContain("minCount: expected at least 1");
    expect(message).toContain("watchMinutes: expected a number of minutes");
  });

  it("Given a misspelt field, When parsed, Then it is refused by name rather than ignored", () => {
    expect(() => parseDetectionConfig({ minCnt: 3 })).toThrow(/minCnt/);
  });

  it("Given the defaults, When parsed, Then the watch is 60 minutes at q = 0.01 with at least 5 occurrences at twice the rate", () => {
    expect(parseDetectionConfig({})).toMatchObject({ watchMinutes: 60, q: 0.01, minCount: 5, minRateRatio: 2, lookEveryMinutes: 1 });
  });

  it("Given a bucket width that does not divide an hour, When a baseline is made, Then the option is named", () => {
    expect(() => new Baseline("shop/checkout", { bucketMinutes: 7 })).toThrow(/baseline options: bucketMinutes: expected a divisor of 60/);
  });

  it("Given a deploy marker without a version, or counts past the watch, When detection runs, Then the field is named", () => {
    const b = baseline();
    expect(() => detectRegression({ workload: "shop/checkout", at: MONDAY_8AM }, b, { from: MONDAY_8AM, to: MONDAY_8AM + MINUTE, counts: {} })).toThrow(
      /deploy marker: version: expected the version deployed/,
    );
    expect(() => detectRegression(deploy, b, { from: MONDAY_8AM, to: MONDAY_8AM + 61 * MINUTE, counts: {} })).toThrow(/observed counts: to: expected within the 60-minute watch/);
    expect(() => detectRegression({ ...deploy, workload: "shop/cart" }, b, { from: MONDAY_8AM, to: MONDAY_8AM + MINUTE, counts: {} })).toThrow(/workload: shop\/cart has no baseline here/);
    expect(() => detectRegression(deploy, b, { from: MONDAY_8AM, to: MONDAY_8AM + MINUTE, counts: { [TIMEOUT]: 2.5 } })).toThrow(
      /observed counts: counts\.GET \/checkout timed out after <num>ms: expected a whole count/,
    );
  });
});
