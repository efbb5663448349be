/**
 * When a signal is abnormal relative to its own baseline. One definition shared by perceive
 * (which signals explain the alert) and verify (which signals recovered or got worse), so the
 * two can never disagree about what "healthy" means.
 */

/** Direction in which each watched metric hurts. */
export const BAD_DIRECTION: Record<string, "up" | "down"> = {
  error_rate: "up",
  latency_p99_ms: "up",
  memory_mib: "up",
  cpu_cores: "up",
  disk_usage_pct: "up",
  consumer_lag: "up",
  request_rate: "down",
  ready_replicas: "down",
};

/** Absolute slack below which a change is noise, per metric. */
const NOISE_FLOOR: Record<string, number> = {
  error_rate: 0.02,
  latency_p99_ms: 100,
  memory_mib: 64,
  cpu_cores: 0.2,
  disk_usage_pct: 5,
  consumer_lag: 500,
  request_rate: 5,
  ready_replicas: 0.5,
};

/** Whether `current` is abnormal against `baseline`: beyond 1.5× (or ⅔×) and beyond the noise floor. */
export function isAnomalous(metric: string, current: number, baseline: number): boolean {
  const direction = BAD_DIRECTION[metric];
  if (direction === undefined) return false;
  const floor = NOISE_FLOOR[metric] ?? 0;
  if (direction === "up") return current > baseline * 1.5 + floor;
  return current < baseline * (2 / 3) - floor;
}

/**
 * How far a reading is from healthy, in units of the metric's noise floor (0 = healthy), so
 * readings of different metrics can be compared and summed.
 */
export function badness(metric: string, current: number, baseline: number): number {
  const direction = BAD_DIRECTION[metric];
  if (direction === undefined) return 0;
  const floor = NOISE_FLOOR[metric] ?? 1;
  const excess = direction === "up" ? current - baseline * 1.5 : baseline * (2 / 3) - current;
  return Math.max(0, excess) / floor;
}
