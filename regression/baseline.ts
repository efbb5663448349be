import { z } from "zod";
import { InvalidInputError } from "../domain/errors.js";
import { formatZodError } from "../domain/problems.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Time-of-day cells: 24 hours of a weekday, then 24 hours of a weekend day. */
const CELLS = 48;

/** How a baseline is kept and how it turns counts into expected counts. */
export const BaselineOptionsSchema = z
  .object({
    /** Width of a count bucket; divides an hour so a bucket never straddles two hours. */
    bucketMinutes: z
      .number("expected a whole number of minutes")
      .int("expected a whole number of minutes")
      .min(1, "expected at least 1 minute")
      .max(60, "expected at most 60 minutes")
      .refine((m) => 60 % m === 0, "expected a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
      .default(5),
    /** Length of the rolling window the counts are kept for. */
    windowDays: z.number("expected a whole number of days").int("expected a whole number of days").min(1, "expected at least 1 day").max(28, "expected at most 28 days").default(7),
    /** The workload's local time as an offset from UTC: the hours and weekends its traffic follows. */
    utcOffsetMinutes: z.number("expected minutes east of UTC").int("expected whole minutes").min(-720, "expected ≥ -720").max(840, "expected ≤ 840").default(0),
    /** `daily` models hour of day × weekday/weekend; `flat` one constant rate (a comparison). */
    profile: z.enum(["daily", "flat"], "expected daily or flat").default("daily"),
    /** Pseudo-counts pulling a signature's hourly factor toward the workload's (κ in the formula). */
    priorStrength: z.number("expected a number of pseudo-counts").positive("expected > 0").default(10),
    /** Pseudo-count over the whole window for a signature never or rarely seen (the floor). */
    floorCount: z.number("expected a number of pseudo-counts").positive("expected > 0").default(0.5),
  })
  .strict();

/** Baseline options as given (every field optional). */
export type BaselineOptionsInput = z.input<typeof BaselineOptionsSchema>;
/** Baseline options with defaults filled in. */
export type BaselineOptions = z.output<typeof BaselineOptionsSchema>;

/** One bucket of counts as stored: its start (epoch ms, aligned) and the count per signature. */
const BucketSchema = z
  .object({
    start: z.number("expected epoch milliseconds").int("expected whole epoch milliseconds"),
    counts: z.record(z.string().min(1, "expected a non-empty signature"), z.number("expected a count").int("expected a whole count").nonnegative("expected a count ≥ 0")),
  })
  .strict();

/** The serialized baseline: what a store keeps and reloads. */
export const BaselineSnapshotSchema = z
  .object({
    workload: z.string("expected the workload's name").min(1, "expected the workload's name"),
    options: BaselineOptionsSchema,
    buckets: z.array(BucketSchema),
  })
  .strict();

/** A baseline as JSON. */
export type BaselineSnapshot = z.output<typeof BaselineSnapshotSchema>;

/** A signature's modelled rate, per minute, in each of the 48 time-of-day cells. */
export interface RateModel {
  signature: string;
  /** Occurrences in the window. */
  total: number;
  /** Its mean rate over the window (per minute). */
  overallRate: number;
  /** Rate per minute for weekday hours 0–23 then weekend hours 0–23, floor applied. */
  cellRates: Float64Array;
}

function parseOptions(input: unknown): BaselineOptions {
  const parsed = BaselineOptionsSchema.safeParse(input ?? {});
  if (!parsed.success) throw new InvalidInputError(`baseline options: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

interface StoredBucket {
  start: number;
  counts: Map<string, number>;
}

/**
 * A workload's error-signature baseline: counts per signature in fixed buckets over a rolling
 * window, and the expected count of any signature over any interval.
 *
 * **Formula.** Let T be the minutes the window covers, E(c) the minutes of it falling in cell c
 * (hour of day 0–23 × weekday or weekend, in the workload's local time), n_s(c) the occurrences of
 * signature s in c and N_s = Σ n_s(c); the same without s (all signatures) is the workload's.
 * - overall rate r_s = N_s / T;
 * - workload factor F_w(c) = (n_w(c) + κ) / (r_w·E(c) + κ): its traffic shape, shrunk toward 1;
 * - signature factor F_s(c) = (n_s(c) + κ·F_w(c)) / (r_s·E(c) + κ): its own shape where it has the
 *   counts, the workload's where it does not (a gamma–Poisson posterior mean, κ = priorStrength);
 * - cell rate λ_s(c) = max(r_s·F_s(c), floorCount / T), so a never-seen signature is expected at
 *   floorCount occurrences per window rather than zero;
 * - the rate at a time is interpolated linearly between the centres of its hour and the next, and
 *   expectedCount integrates it exactly over [from, to).
 * With `profile: "flat"` the factors are 1: λ_s = max(r_s, floorCount / T).
 */
export class Baseline {
  /** The options in force, defaults filled in. */
  readonly options: BaselineOptions;
  private readonly buckets: StoredBucket[] = [];
  private head = 0;
  private readonly exposure = new Float64Array(CELLS);
  private readonly workloadCells = new Float64Array(CELLS);
  private workloadTotal = 0;
  private readonly cells = new Map<string, Float64Array>();
  private readonly totals = new Map<string, number>();
  private readonly models = new Map<string, RateModel>();
  private workloadFactors: Float64Array | undefined;

  /** An empty baseline for one workload. Throws InvalidInputError naming a bad option. */
  constructor(
    readonly workload: string,
    options: BaselineOptionsInput = {},
  ) {
    if (workload === "") throw new InvalidInputError("baseline: workload: expected the workload's name");
    this.options = parseOptions(options);
  }

  /** Rebuilds a baseline from its snapshot; refuses a malformed one naming the field. */
  static fromJSON(input: unknown): Baseline {
    const parsed = BaselineSnapshotSchema.safeParse(input);
    if (!parsed.success) throw new InvalidInputError(`baseline snapshot: ${formatZodError(parsed.error)}`);
    const baseline = new Baseline(parsed.data.workload, parsed.data.options);
    for (const bucket of parsed.data.buckets) baseline.observe(bucket.start, bucket.counts);
    return baseline;
  }

  /** The baseline as plain JSON (buckets oldest first, zero counts left out). */
  toJSON(): BaselineSnapshot {
    return {
      workload: this.workload,
      options: { ...this.options },
      buckets: this.buckets.slice(this.head).map((b) => ({ start: b.start, counts: Object.fromEntries(b.counts) })),
    };
  }

  private get bucketMs(): number {
    return this.options.bucketMinutes * MINUTE;
  }

  /** The time-of-day cell of an instant: hour of the local day, weekday or weekend. */
  cellOf(t: number): number {
    const local = t + this.options.utcOffsetMinutes * MINUTE;
    const day = Math.floor(local / DAY);
    // 1970-01-01 was a Thursday: (day + 4) mod 7 gives 0 = Sunday … 6 = Saturday.
    const weekday = (((day + 4) % 7) + 7) % 7;
    const hour = Math.floor((local - day * DAY) / HOUR);
    return (weekday === 0 || weekday === 6 ? 24 : 0) + hour;
  }

  /**
   * Adds one bucket of counts (signature → count; absent signatures counted 0) starting at
   * `start`, which must be aligned to the bucket width and later than the last bucket. Buckets
   * older than the window (relative to this one's end) are dropped.
   */
  observe(start: number, counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>): void {
    if (!Number.isInteger(start) || start % this.bucketMs !== 0) {
      throw new InvalidInputError(`baseline ${this.workload}: bucket start ${start} is not aligned to ${this.options.bucketMinutes}-minute buckets`);
    }
    const last = this.buckets[this.buckets.length - 1];
    if (last !== undefined && start <= last.start) {
      throw new InvalidInputError(
        `baseline ${this.workload}: bucket ${new Date(start).toISOString()} is not after the last one (${new Date(last.start).toISOString()}); buckets are added in time order`,
      );
    }
    const entries: Array<[string, number]> = counts instanceof Map ? [...(counts as ReadonlyMap<string, number>).entries()] : Object.entries(counts as Readonly<Record<string, number>>);
    const stored: StoredBucket = { start, counts: new Map() };
    const cell = this.cellOf(start);
    this.exposure[cell] = (this.exposure[cell] ?? 0) + this.options.bucketMinutes;
    for (const [signature, count] of entries) {
      if (!Number.isInteger(count) || count < 0) throw new InvalidInputError(`baseline ${this.workload}: count of ${JSON.stringify(signature)}: expected a whole number ≥ 0, got ${count}`);
      if (count === 0) continue;
      stored.counts.set(signature, (stored.counts.get(signature) ?? 0) + count);
      this.add(signature, cell, count);
    }
    this.buckets.push(stored);
    this.prune(start + this.bucketMs);
    this.invalidate();
  }

  /** Drops the buckets that started before `now` minus the window. */
  prune(now: number): void {
    const oldest = now - this.options.windowDays * DAY;
    let dropped = false;
    for (let bucket = this.buckets[this.head]; bucket !== undefined && bucket.start < oldest; bucket = this.buckets[this.head]) {
      const cell = this.cellOf(bucket.start);
      this.exposure[cell] = (this.exposure[cell] ?? 0) - this.options.bucketMinutes;
      for (const [signature, count] of bucket.counts) this.add(signature, cell, -count);
      this.head += 1;
      dropped = true;
    }
    // Compact now and then so a long-running baseline does not keep every bucket it ever saw.
    if (this.head > 4096 && this.head * 2 > this.buckets.length) {
      this.buckets.splice(0, this.head);
      this.head = 0;
    }
    if (dropped) this.invalidate();
  }

  private add(signature: string, cell: number, count: number): void {
    let cells = this.cells.get(signature);
    if (cells === undefined) {
      cells = new Float64Array(CELLS);
      this.cells.set(signature, cells);
    }
    cells[cell] = (cells[cell] ?? 0) + count;
    const total = (this.totals.get(signature) ?? 0) + count;
    if (total === 0) {
      this.totals.delete(signature);
      this.cells.delete(signature);
    } else this.totals.set(signature, total);
    this.workloadCells[cell] = (this.workloadCells[cell] ?? 0) + count;
    this.workloadTotal += count;
  }

  private invalidate(): void {
    this.models.clear();
    this.workloadFactors = undefined;
  }

  /** Minutes of time the window's buckets cover. */
  coverageMinutes(): number {
    return this.exposure.reduce((sum, e) => sum + e, 0);
  }

  /** The first covered instant and the end of the last bucket, or undefined when empty. */
  coverage(): { from: number; to: number } | undefined {
    const first = this.buckets[this.head];
    const last = this.buckets[this.buckets.length - 1];
    if (first === undefined || last === undefined || this.head >= this.buckets.length) return undefined;
    return { from: first.start, to: last.start + this.bucketMs };
  }

  /** The signatures seen in the window, most frequent first. */
  signatures(): string[] {
    return [...this.totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s]) => s);
  }

  /** Occurrences of a signature in the window (0 if never seen). */
  totalOf(signature: string): number {
    return this.totals.get(signature) ?? 0;
  }

  private factorsOfWorkload(): Float64Array {
    if (this.workloadFactors !== undefined) return this.workloadFactors;
    const kappa = this.options.priorStrength;
    const minutes = this.coverageMinutes();
    const rate = minutes > 0 ? this.workloadTotal / minutes : 0;
    const factors = new Float64Array(CELLS);
    for (let c = 0; c < CELLS; c += 1) factors[c] = ((this.workloadCells[c] ?? 0) + kappa) / (rate * (this.exposure[c] ?? 0) + kappa);
    this.workloadFactors = factors;
    return factors;
  }

  /** The rate model of one signature (see the class's formula); cached until the next change. */
  rateModel(signature: string): RateModel {
    const cached = this.models.get(signature);
    if (cached !== undefined) return cached;
    const minutes = this.coverageMinutes();
    const total = this.totals.get(signature) ?? 0;
    const overallRate = minutes > 0 ? total / minutes : 0;
    // No coverage at all: the floor is a pseudo-count over the nominal window.
    const floor = this.options.floorCount / (minutes > 0 ? minutes : this.options.windowDays * 1440);
    const cellRates = new Float64Array(CELLS);
    const own = this.cells.get(signature);
    const workload = this.options.profile === "daily" ? this.factorsOfWorkload() : undefined;
    const kappa = this.options.priorStrength;
    for (let c = 0; c < CELLS; c += 1) {
      let factor = 1;
      if (workload !== undefined) {
        const prior = workload[c] ?? 1;
        factor = ((own?.[c] ?? 0) + kappa * prior) / (overallRate * (this.exposure[c] ?? 0) + kappa);
      }
      cellRates[c] = Math.max(overallRate * factor, floor);
    }
    const model = { signature, total, overallRate, cellRates };
    this.models.set(signature, model);
    return model;
  }

  /**
   * The count of `signature` the baseline expects over [from, to) (epoch ms): its cell rates
   * interpolated linearly between hour centres and integrated exactly. Never below the floor.
   */
  expectedCount(signature: string, from: number, to: number): number {
    if (!(to >= from)) throw new InvalidInputError(`expectedCount: the interval must not end (${to}) before it starts (${from})`);
    const rates = this.rateModel(signature).cellRates;
    const offset = this.options.utcOffsetMinutes * MINUTE;
    const rateAt = (centre: number): number => rates[this.cellOf(centre)] ?? 0;
    let expected = 0;
    let t = from;
    while (t < to) {
      // The hour centre at or before t (local :30), and the next one.
      const local = t + offset;
      const centre = Math.floor((local - HOUR / 2) / HOUR) * HOUR + HOUR / 2 - offset;
      const next = centre + HOUR;
      const end = Math.min(to, next);
      const r0 = rateAt(centre);
      const r1 = rateAt(next);
      const at = (x: number): number => r0 + ((r1 - r0) * (x - centre)) / HOUR;
      expected += (((at(t) + at(end)) / 2) * (end - t)) / MINUTE;
      t = end;
    }
    return expected;
  }
}
