import { ForbiddenError, NotFoundError } from "../../domain/errors.js";
import type { CircuitBreakerState, ConsumerGroupState, DiskState, MetricName, MetricSeries } from "../adapter.js";
import type { WorkloadRef } from "./workload-ref.js";

/**
 * What Kubernetes does not model about a workload: time series, Kafka consumer groups, disk
 * usage, circuit breakers and dependencies. Prometheus (and the like) implement it for a real
 * cluster; without one the adapter answers what the API server knows and says what is missing.
 */
export interface WorkloadSignals {
  /** A time series over the last `windowMinutes`. */
  queryMetric(ref: WorkloadRef, metric: MetricName, windowMinutes: number): Promise<MetricSeries>;
  /** Consumer groups the workload reads. */
  consumerLag(ref: WorkloadRef): Promise<ConsumerGroupState[]>;
  /**
   * Volumes the workload writes; `claims` are the PersistentVolumeClaims its pods mount when the
   * caller has read them (an implementation that cannot use them may ignore them).
   */
  disks(ref: WorkloadRef, claims?: string[]): Promise<DiskState[]>;
  /** Client-side circuit breakers of the workload. */
  circuitBreakers(ref: WorkloadRef): Promise<CircuitBreakerState[]>;
  /** Services the workload calls. */
  dependencies(ref: WorkloadRef): Promise<string[]>;
}

/**
 * Operations that are not Kubernetes API calls (a Kafka admin command, a shell step, an HTTP call
 * to the service's admin port): a runbook declares how each is done for this cluster.
 */
export interface RunbookActions {
  skipMessageToDlq?(topic: string, group: string, partition: number, offset: number, key: string): Promise<void>;
  cleanLogs?(ref: WorkloadRef, mount: string, key: string): Promise<void>;
  resetCircuitBreaker?(from: WorkloadRef, to: string, key: string): Promise<void>;
}

/**
 * A metric asked of a cluster with no metrics source: the series does not exist here. Perception
 * records the failed read (tools/observer.ts) and goes on with what it has.
 */
export class MetricsSourceMissingError extends NotFoundError {
  constructor(metric: string) {
    super(`no metrics source configured for ${metric}; set PROMETHEUS_URL (or give the Kubernetes adapter a WorkloadSignals) to read it — only ready_replicas comes from the API server`);
    this.name = "MetricsSourceMissingError";
  }
}

/**
 * An operation the Kubernetes API cannot do and no runbook action declares: this setup may not do
 * it, so the action fails and Suture escalates instead of pretending.
 */
export class RunbookActionMissingError extends ForbiddenError {
  constructor(action: keyof RunbookActions) {
    super(
      `${action} is not a Kubernetes API operation and no runbook action declares it for this cluster; declare it as a runbook action (RunbookActions.${action}) or do it by hand — nothing was changed`,
    );
    this.name = "RunbookActionMissingError";
  }
}
