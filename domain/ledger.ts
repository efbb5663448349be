import type { ToolCall } from "./model.js";

/** Which actions of one environment a count looks at. */
export interface ActionCountQuery {
  environmentId: string;
  namespace: string;
  /** Only this workload; omitted = the whole namespace. */
  service?: string;
  /** A tool name or an action class. */
  action: string;
  /** Environment time, epoch ms: only actions registered after it count. */
  since: number;
  /** The incident's own attempt being decided (it must not count against itself on a re-run). */
  except: { incidentId: string; attempt: number };
}

/**
 * What the policy reads from the shared record of actions, so its limits hold across every
 * worker: counts, the last identical call, workloads under remediation, failures since a reset.
 */
export interface PolicyLedger {
  countActions(query: ActionCountQuery): Promise<number>;
  lastSameCall(query: { environmentId: string; namespace: string; call: ToolCall; since: number; excludeIncident: string }): Promise<{ incidentId: string; at: number } | undefined>;
  /** Workloads with a remediation registered or executed but not yet verified, in other open incidents. */
  workloadsInFlight(query: { environmentId: string; excludeIncident: string }): Promise<string[]>;
  /** Failed remediations (tool error, not recovered, worse) on a workload since `since` and its last breaker reset. */
  failures(query: { environmentId: string; namespace: string; service: string; since: number }): Promise<number>;
}

/** A circuit breaker's state for one workload. */
export interface BreakerRow {
  namespace: string;
  service: string;
  failures: number;
  lastFailureAt: Date | null;
}
