import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./test/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores, three workers: each boots its own embedded PostgreSQL (PGlite); several suites
    // spend most of their time waiting on the wall clock (settle timers, the Prometheus and
    // Alertmanager end to end, --realtime), and a third worker runs CPU-bound files meanwhile.
    maxWorkers: 3,
    reporters: ["default", "./test/summary-reporter.ts"],
    // The long suites first: a clean clone has no timing cache to order by.
    sequence: { sequencer: LongestFirstSequencer },
  },
});
