/**
 * The `index`-th of `count` interleaved shards of a list (items index, index + count, …): long
 * data-driven suites split over several test files so vitest's workers run them side by side.
 */
export function shardOf<T>(items: readonly T[], index: number, count: number): T[] {
  return items.filter((_, i) => i % count === index);
}

/** How many files each sharded suite is split into. */
export const SHARDS = 2;
