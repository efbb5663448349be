/** A source of time. The simulator's clock advances instantly; the wall clock really waits. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Wait `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The real wall clock. */
export class WallClock implements Clock {
  now(): number {
    return Date.now();
  }

  async sleep(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
