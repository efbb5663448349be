import type { CircuitBreakerState, ConsumerGroupState, DiskState, MetricName, MetricSeries } from "../adapter.js";
import type { WorkloadSignals } from "../kubernetes/signals.js";
import type { WorkloadRef } from "../kubernetes/workload-ref.js";
import type { SimEnvironment } from "./sim-environment.js";

/**
 * What Kubernetes does not model, read from the simulator in-process: metric series, consumer
 * groups, disks, breakers and dependencies. It stands where Prometheus and a Kafka admin client
 * stand for a real cluster, so the Kubernetes adapter over a simulated cluster sees what the
 * in-process simulator sees.
 */
export class SimSignals implements WorkloadSignals {
  constructor(private readonly env: SimEnvironment) {}

  async queryMetric(ref: WorkloadRef, metric: MetricName, windowMinutes: number): Promise<MetricSeries> {
    return this.env.queryMetric(ref.name, metric, windowMinutes);
  }

  async consumerLag(ref: WorkloadRef): Promise<ConsumerGroupState[]> {
    return this.env.consumerLag(ref.name);
  }

  async disks(ref: WorkloadRef): Promise<DiskState[]> {
    return this.env.disks(ref.name);
  }

  async circuitBreakers(ref: WorkloadRef): Promise<CircuitBreakerState[]> {
    return this.env.circuitBreakers(ref.name);
  }

  async dependencies(ref: WorkloadRef): Promise<string[]> {
    return this.env.dependencies(ref.name);
  }
}
