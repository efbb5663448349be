import type { RunbookActions } from "../kubernetes/signals.js";
import type { WorkloadRef } from "../kubernetes/workload-ref.js";
import type { SimEnvironment } from "./sim-environment.js";

/**
 * The runbook steps that are not Kubernetes API calls (a Kafka admin skip, a log cleanup on the
 * volume, a breaker reset on the admin port), carried out by the simulator: each is keyed there,
 * so a retry never applies twice.
 */
export class SimRunbookActions implements Required<RunbookActions> {
  constructor(private readonly env: SimEnvironment) {}

  async skipMessageToDlq(topic: string, group: string, partition: number, offset: number, key: string): Promise<void> {
    await this.env.skipMessageToDlq(topic, group, partition, offset, key);
  }

  async cleanLogs(ref: WorkloadRef, mount: string, key: string): Promise<void> {
    await this.env.cleanLogs(ref.name, mount, key);
  }

  async resetCircuitBreaker(from: WorkloadRef, to: string, key: string): Promise<void> {
    await this.env.resetCircuitBreaker(from.name, to, key);
  }
}
