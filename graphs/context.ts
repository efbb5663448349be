import type { Alert } from "../domain/alerts/alert.js";
import { z } from "zod";
import type { IncidentStore } from "../store/incident-store.js";
import type { IncidentMemory } from "../memory/incident-memory.js";
import type { Notifier } from "../domain/notification.js";
import type { PolicyEngine } from "../policy/policy.js";
import type { Reasoner } from "../reasoners/reasoner.js";
import type { ResourceLocks } from "../store/locks.js";
import type { Clock } from "../domain/clock.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";
import type { ToolRegistry } from "../tools/registry.js";

/**
 * The services every node receives through the graph's runtime context. Declared as a zod
 * object so the graph is typed with it; the fields are live objects, checked by TypeScript
 * rather than parsed.
 */
/** What a silence call did: `done` when Alertmanager took it; `detail` is the audit line either way. */
export interface SilenceOutcome {
  done: boolean;
  silenceId?: string;
  detail: string;
}

/** Silences an incident's alert at its source while an action settles, and lifts the silence after verify. */
export interface SettleSilencer {
  /** Silences the alert until `until` (epoch ms); never throws. */
  silence(input: { incidentId: string; alert: Alert; until: number; now: number }): Promise<SilenceOutcome>;
  /** Expires a silence this incident created; never throws. */
  expire(silenceId: string): Promise<SilenceOutcome>;
}

export const SutureContextSchema = z.object({
  env: z.custom<EnvironmentAdapter>(),
  tools: z.custom<ToolRegistry>(),
  reasoners: z.custom<Reasoner[]>(),
  policy: z.custom<PolicyEngine>(),
  clock: z.custom<Clock>(),
  store: z.custom<IncidentStore>(),
  notifier: z.custom<Notifier>(),
  memory: z.custom<IncidentMemory>(),
  locks: z.custom<ResourceLocks>(),
  /** Whether past incidents adjust the reasoners' candidates (off when memory is evaluated as a reasoner, or not at all). */
  memoryAdjusts: z.boolean(),
  /** Alertmanager write-back while actions settle (absent: no alert source to silence). */
  silencer: z.custom<SettleSilencer | null>(),
});

/** The services every node receives through the graph's runtime context. */
export type SutureContext = z.infer<typeof SutureContextSchema>;

/** Reads the runtime context, failing with a clear message when a caller forgot to pass it. */
export function requireContext(runtime: { context?: SutureContext | undefined }): SutureContext {
  if (runtime.context === undefined) {
    throw new Error("graph invoked without runtime context; pass { context: SutureContext } to invoke/stream");
  }
  return runtime.context;
}
