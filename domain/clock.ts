/** A source of time. The simulator's clock advances instantly; the wall clock really waits. */
export interface Clock {
  /**
   * Whether this clock is real time (its `sleep` really waits). A node that would wait minutes on
   * a real-time clock schedules a durable continuation instead of holding its worker's job slot.
   */
  readonly realTime: boolean;
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Wait `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The real wall clock. */
export class WallClock implements Clock {
  readonly realTime = true;

  now(): number {
    return Date.now();
  }

  async sleep(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
