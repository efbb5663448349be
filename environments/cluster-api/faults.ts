import { KubeApiError } from "./backend.js";

/**
 * Faults the simulated API server injects, as a real one fails under load or in an outage: 503s,
 * requests that hang until the server gives up (504), and writes refused with 409 Conflict (a
 * storm of optimistic-concurrency failures while something else keeps writing). For chaos tests
 * of Suture itself; a server started without faults never fails this way.
 */
export type ApiFaultKind = "server_error" | "timeout" | "conflict";

/** One injected fault: which requests it hits, and how many more times. */
export interface ApiFault {
  kind: ApiFaultKind;
  /** Reads (GET/HEAD), writes (everything else) or both; a conflict only ever hits writes. */
  requests: "read" | "write" | "any";
  /** Requests it still fails; Infinity until cleared. */
  remaining: number;
  /** How long a `timeout` holds the request before answering 504 (default 60 s: longer than any client waits). */
  hangMs?: number;
}

/** The fault switchboard of one simulated API server; tests inject and clear faults while it runs. */
export class ApiFaults {
  private faults: ApiFault[] = [];
  /** Requests failed so far, by kind. */
  readonly served: Record<ApiFaultKind, number> = { server_error: 0, timeout: 0, conflict: 0 };

  /** Adds a fault; `count` requests (default: every request until {@link clear}). */
  inject(kind: ApiFaultKind, options: { requests?: ApiFault["requests"]; count?: number; hangMs?: number } = {}): void {
    const requests = kind === "conflict" ? "write" : (options.requests ?? "any");
    this.faults.push({ kind, requests, remaining: options.count ?? Infinity, ...(options.hangMs !== undefined ? { hangMs: options.hangMs } : {}) });
  }

  /** Removes every fault: the server answers normally again. */
  clear(): void {
    this.faults = [];
  }

  /** The fault this request meets, if any (consuming one of its count). */
  take(method: string): ApiFault | undefined {
    const write = method !== "GET" && method !== "HEAD";
    const fault = this.faults.find((f) => f.remaining > 0 && (f.requests === "any" || (f.requests === "write") === write));
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    this.served[fault.kind] += 1;
    return fault;
  }
}

/** Fails a request with the fault, as the API server would word it (a `timeout` first holds it). */
export async function failWith(fault: ApiFault, path: string): Promise<never> {
  if (fault.kind === "server_error") throw new KubeApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request");
  if (fault.kind === "conflict") {
    throw new KubeApiError(409, "Conflict", `Operation cannot be fulfilled on ${path}: the object has been modified; please apply your changes to the latest version and try again`);
  }
  await new Promise((resolve) => setTimeout(resolve, fault.hangMs ?? 60_000).unref());
  throw new KubeApiError(504, "Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request");
}
