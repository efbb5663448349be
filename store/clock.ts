import type { Clock } from "../domain/clock.js";
import type { Queryable } from "./database.js";

/** What one measurement of this process's clock against the database's found. */
export interface ClockSync {
  /** This process's clock minus the database's, in ms (positive: this process runs ahead). */
  skewMs: number;
  /** How long the measuring query took; the skew is known to within half of it. */
  roundTripMs: number;
}

/**
 * Wall-clock time as the database tells it, read through this process's clock corrected by the
 * last measured offset. Every worker times deadlines (settle windows, approval expiry, continuations)
 * by it, so workers whose own clocks disagree still agree on when a deadline comes; the queue's
 * leases already run on the database's clock. Until the first {@link DatabaseClock.sync} it is the
 * process's own clock.
 */
export class DatabaseClock implements Clock {
  readonly realTime = true;
  private offsetMs = 0;

  constructor(
    private readonly q: Queryable,
    /** This process's own clock (epoch ms); chaos tests skew it. */
    private readonly local: () => number = Date.now,
  ) {}

  now(): number {
    return Math.round(this.local() + this.offsetMs);
  }

  async sleep(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Measures this process's clock against the database's (the midpoint of one query) and corrects by it from now on. */
  async sync(): Promise<ClockSync> {
    const before = this.local();
    const result = await this.q.query<{ ms: number }>("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms");
    const after = this.local();
    const database = Number(result.rows[0]?.ms);
    this.offsetMs = database - (before + after) / 2;
    return { skewMs: -this.offsetMs, roundTripMs: after - before };
  }
}
