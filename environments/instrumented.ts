import { DependencyTimeoutError } from "../domain/errors.js";
import { adapterOutcomeOf, type AdapterOutcome, type CallTally } from "../domain/self-calls.js";
import type { EnvironmentAdapter, EnvironmentOperations, EnvironmentQueries } from "./adapter.js";

/** Every mutating operation of an adapter: timed and counted, never retried (a retry could apply twice). */
const OPERATIONS: Record<keyof EnvironmentOperations, true> = {
  rolloutUndo: true,
  scale: true,
  restartPods: true,
  setMemoryLimit: true,
  setAutoscalerMin: true,
  patchServiceTargetPort: true,
  setServiceSelector: true,
  deleteNetworkPolicy: true,
  restoreNetworkPolicy: true,
  revertConfigMap: true,
  skipMessageToDlq: true,
  cleanLogs: true,
  resetCircuitBreaker: true,
};

/** Every read of an adapter: timed, counted, and retried with back-off when the failure is transient. */
const READS: Record<keyof EnvironmentQueries | "appliedChange" | "resolveAlertTarget" | "placementHeadroom" | "describeNode" | "describeCluster", true> = {
  listServices: true,
  queryMetric: true,
  tailLogs: true,
  describeWorkload: true,
  deployHistory: true,
  consumerLag: true,
  appliedChange: true,
  resolveAlertTarget: true,
  placementHeadroom: true,
  describeNode: true,
  describeCluster: true,
};

/** Read failures worth another try: the system behind the adapter may answer the next time. */
const TRANSIENT: readonly AdapterOutcome[] = ["server_error", "timeout"];

/** How adapter calls are bounded and retried. */
export interface AdapterCallLimits {
  /** A call that has not answered after this long fails as a timeout (it may still complete). */
  timeoutMs: number;
  /** Further tries of a read that failed transiently (a mutation is never retried here). */
  readRetries: number;
  /** The first back-off before a read is tried again; doubled each time. */
  backoffMs: number;
}

/** 20 s per call; a read tried up to 3 times, 250 ms then 500 ms apart. */
export const DEFAULT_ADAPTER_CALL_LIMITS: AdapterCallLimits = { timeoutMs: 20_000, readRetries: 2, backoffMs: 250 };

/** A promise for `run()` that rejects with {@link DependencyTimeoutError} after `ms` (the call itself is not cancelled). */
async function withTimeout<T>(operation: string, ms: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyTimeoutError(operation, ms)), ms);
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The adapter with every read and mutation timed, bounded by a timeout and counted by outcome
 * in `tally` (Suture's own health reads those counts). Reads that fail transiently (5xx, timeout)
 * are tried again with back-off; mutations never are — the executor's idempotency check decides
 * what to do about a mutation whose answer was lost. Everything else the adapter has passes
 * through untouched.
 */
export function instrumentAdapter<E extends EnvironmentAdapter>(env: E, tally: CallTally, limits: AdapterCallLimits = DEFAULT_ADAPTER_CALL_LIMITS): E {
  const timed = async (component: "adapter_read" | "adapter_write", name: string, run: () => Promise<unknown>): Promise<unknown> => {
    const started = performance.now();
    try {
      const result = await withTimeout(`${env.kind} ${name}`, limits.timeoutMs, run);
      tally.add(component, name, "ok", performance.now() - started);
      return result;
    } catch (error) {
      tally.add(component, name, adapterOutcomeOf(error), performance.now() - started);
      throw error;
    }
  };
  const read = async (name: string, run: () => Promise<unknown>): Promise<unknown> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await timed("adapter_read", name, run);
      } catch (error) {
        if (attempt >= limits.readRetries || !TRANSIENT.includes(adapterOutcomeOf(error))) throw error;
        await sleep(limits.backoffMs * 2 ** attempt);
      }
    }
  };
  return new Proxy(env, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== "string" || typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (Object.hasOwn(OPERATIONS, property)) return (...args: unknown[]) => timed("adapter_write", property, () => method.apply(target, args));
      if (Object.hasOwn(READS, property)) return (...args: unknown[]) => read(property, () => method.apply(target, args));
      return value;
    },
  });
}
