import { ConflictError, DependencyTimeoutError, ForbiddenError, InvalidInputError, NotFoundError, SutureError, UnavailableError } from "./errors.js";

/**
 * Calls Suture makes to what it depends on (its environment adapter, its model), counted by
 * outcome so its own health can tell an adapter that keeps failing or a model that drifts.
 */

/** What one adapter call came to. `not_found` and `forbidden` are answers, not failures of the adapter. */
export const ADAPTER_OUTCOMES = ["ok", "not_found", "forbidden", "client_error", "conflict", "server_error", "timeout", "error"] as const;
/** One of {@link ADAPTER_OUTCOMES}. */
export type AdapterOutcome = (typeof ADAPTER_OUTCOMES)[number];
/** Adapter outcomes that mean the adapter (or the system behind it) is failing, not that the request was wrong. */
export const ADAPTER_FAILURES: readonly AdapterOutcome[] = ["conflict", "server_error", "timeout", "error"];

/**
 * What one model call came to: `ok` (a usable, grounded answer), `discarded` (valid but every
 * proposal failed grounding), `invalid` (no valid answer after the corrections), `timeout`,
 * `error` (the server failed), `skipped` (not asked: budget, or the model reasoner is off).
 */
export const MODEL_OUTCOMES = ["ok", "discarded", "invalid", "timeout", "error", "skipped"] as const;
/** One of {@link MODEL_OUTCOMES}. */
export type ModelOutcome = (typeof MODEL_OUTCOMES)[number];
/** Model outcomes that mean the model gave nothing Suture could use. */
export const MODEL_FAILURES: readonly ModelOutcome[] = ["discarded", "invalid", "timeout", "error"];

/** What was called: an adapter read, an adapter mutation, or the model. */
export type CallComponent = "adapter_read" | "adapter_write" | "model";

/** Calls of one operation with one outcome, and their latency. */
export interface CallCount {
  component: CallComponent;
  operation: string;
  outcome: string;
  calls: number;
  totalMs: number;
  maxMs: number;
}

/** The outcome of an adapter call that threw: by the error's kind, or the HTTP status it carries. */
export function adapterOutcomeOf(error: unknown): AdapterOutcome {
  if (error instanceof DependencyTimeoutError) return "timeout";
  if (error instanceof UnavailableError) return "server_error";
  if (error instanceof ConflictError) return "conflict";
  if (error instanceof NotFoundError) return "not_found";
  if (error instanceof ForbiddenError) return "forbidden";
  if (error instanceof InvalidInputError) return "client_error";
  const status = error instanceof SutureError ? error.httpStatus : statusCodeOf(error);
  if (status === undefined) return "error";
  if (status === 404) return "not_found";
  if (status === 403) return "forbidden";
  if (status === 409) return "conflict";
  if (status >= 500 || status === 429) return "server_error";
  if (status >= 400) return "client_error";
  return "error";
}

/** An HTTP status an error from a client library carries as `code` or `status`, if any. */
function statusCodeOf(error: unknown): number | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const record = error as { code?: unknown; status?: unknown };
  const value = typeof record.code === "number" ? record.code : record.status;
  return typeof value === "number" && value >= 100 && value < 600 ? value : undefined;
}

/** Counts calls in memory until they are written (once per incident run, not once per call). */
export class CallTally {
  private readonly counts = new Map<string, CallCount>();

  /** Counts one call. */
  add(component: CallCount["component"], operation: string, outcome: string, ms: number): void {
    const key = `${component}\u0000${operation}\u0000${outcome}`;
    const existing = this.counts.get(key);
    if (existing === undefined) {
      this.counts.set(key, { component, operation, outcome, calls: 1, totalMs: ms, maxMs: ms });
      return;
    }
    existing.calls += 1;
    existing.totalMs += ms;
    existing.maxMs = Math.max(existing.maxMs, ms);
  }

  /** Everything counted since the last drain, emptied. */
  drain(): CallCount[] {
    const all = [...this.counts.values()];
    this.counts.clear();
    return all;
  }
}
