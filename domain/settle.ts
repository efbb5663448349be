import { z } from "zod";

/**
 * A durable wait (the `interrupt()` payload of verify on a real-time clock): the graph is
 * checkpointed and a queue job continues it at `until`, so no worker holds a job slot meanwhile.
 * Distinct from an approval request (`kind: "approval"`): nobody is asked anything.
 */
export const SettleWaitSchema = z.object({
  kind: z.literal("settle"),
  incidentId: z.string().min(1),
  /** The attempt whose action settles. */
  attempt: z.number().int().positive(),
  /** When the settle interval ends (ISO 8601, wall clock). */
  until: z.iso.datetime(),
  /** The tool that acted, for people (`suture history`). */
  tool: z.string(),
});
/** A settle wait. */
export type SettleWait = z.infer<typeof SettleWaitSchema>;

/** What resumes a settle wait (`new Command({ resume })`): when it was continued. */
export const SettleResumeSchema = z.object({
  kind: z.literal("settled"),
  at: z.iso.datetime(),
});
/** A settle resume value. */
export type SettleResume = z.infer<typeof SettleResumeSchema>;

/** The settle wait a paused graph is in, from its pending tasks' interrupts (undefined when it waits for nothing of the kind). */
export function awaitedSettle(snapshot: { tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }> }): SettleWait | undefined {
  for (const task of snapshot.tasks) {
    for (const i of task.interrupts) {
      const parsed = SettleWaitSchema.safeParse(i.value);
      if (parsed.success) return parsed.data;
    }
  }
  return undefined;
}

/** Whether a settle wait is due at `now` (epoch ms). */
export function settleDue(wait: SettleWait, now: number): boolean {
  return Date.parse(wait.until) <= now;
}

/**
 * A queue job that continues an incident later: `key` is deterministic for what it waits for,
 * so scheduling it twice (a retried job) schedules it once.
 */
export interface Continuation {
  incidentId: string;
  /** When to continue (wall clock). */
  until: Date;
  key: string;
}

/** The continuation job of an incident paused on a settle wait. */
export function settleContinuation(wait: SettleWait): Continuation {
  return { incidentId: wait.incidentId, until: new Date(wait.until), key: `settle:${wait.attempt}` };
}
