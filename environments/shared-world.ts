import { withTransaction, type Database, type Queryable } from "../store/database.js";
import { saveWorldState, worldClock, worldState, worldVersion, type WorldClockKind } from "../store/environments.js";
import type { Clock } from "../domain/clock.js";
import type { AlertTarget } from "../domain/alerts/target.js";
import type {
  AppliedChange,
  ConsumerGroupState,
  DeploymentRevision,
  EnvironmentAdapter,
  LogLine,
  MetricName,
  MetricSeries,
  NetworkPolicyState,
  NodeState,
  ClusterState,
  WorkloadDescription,
} from "./adapter.js";
import { SimEnvironment } from "./simulator/index.js";

/** The clock of a shared world: its time is the world's, and waiting advances the world for everyone. */
class SharedWorldClock implements Clock {
  readonly realTime = false;

  constructor(private readonly world: SharedWorld) {}

  now(): number {
    return this.world.cachedNow();
  }

  async sleep(ms: number): Promise<void> {
    await this.world.write((env) => env.advanceBy(ms));
  }
}

/**
 * The clock of a shared world that follows the wall clock (a fleet world with `clock: wall`):
 * its time is real time, and the world catches up with it before each read.
 */
class WallWorldClock implements Clock {
  readonly realTime = true;

  now(): number {
    return Date.now();
  }

  async sleep(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/**
 * A simulated world shared by every incident and every worker process: its state lives in one
 * `environments` row. Reads use a cached copy, refreshed when the row's version moved; writes
 * lock the row (`SELECT … FOR UPDATE`), apply the operation to the current state and bump the
 * version, so two workers acting on the same world serialize and neither loses the other's change.
 * Operations are keyed, so one retried after a crash finds its key in the world and does nothing.
 */
export class SharedWorld implements EnvironmentAdapter {
  readonly kind = "sim";
  private cache: { version: string; env: SimEnvironment } | undefined;
  private clockKind: WorldClockKind = "simulated";
  /** The world's tick (a wall-clock world catches up in whole ticks). */
  private tickMs = 60_000;
  private readonly simulatedClock: Clock = new SharedWorldClock(this);
  private readonly wallClock: Clock = new WallWorldClock();

  constructor(
    private readonly db: Database,
    readonly id: string,
  ) {}

  /** The world's clock: simulated (waiting advances the world), or the wall clock the world follows. */
  get clock(): Clock {
    return this.clockKind === "wall" ? this.wallClock : this.simulatedClock;
  }

  /** Loads the world (call once before using the clock). */
  async open(): Promise<this> {
    this.clockKind = (await worldClock(this.db.pool, this.id)) ?? "simulated";
    await this.current();
    return this;
  }

  /** The world's time as last read. */
  cachedNow(): number {
    if (this.cache === undefined) throw new Error(`shared world "${this.id}" used before open()`);
    return this.cache.env.now();
  }

  private async load(q: Queryable, lock: boolean): Promise<{ version: string; env: SimEnvironment }> {
    const version = await worldVersion(q, this.id, lock);
    if (version === undefined) throw new Error(`shared world "${this.id}" is not in the database; load the fleet with \`suture serve --fleet <file>\``);
    if (this.cache?.version === version) return this.cache;
    const state = await worldState(q, this.id);
    this.tickMs = (state as { tickMs?: number } | undefined)?.tickMs ?? this.tickMs;
    this.cache = { version, env: SimEnvironment.fromJSON(state) };
    return this.cache;
  }

  private async current(): Promise<SimEnvironment> {
    const env = (await this.load(this.db.pool, false)).env;
    // A world on the wall clock catches up (whole ticks) with real time before it is read.
    if (this.clockKind === "wall" && Date.now() - env.now() >= this.tickMs) {
      return this.write(async (latest) => {
        await latest.advanceTo(Date.now());
        return latest;
      });
    }
    return env;
  }

  /** Runs a mutation against the latest state under the row lock and saves the result. */
  async write<T>(operation: (env: SimEnvironment) => Promise<T>): Promise<T> {
    try {
      return await withTransaction(this.db, async (client) => {
        const { env } = await this.load(client, true);
        const result = await operation(env);
        const version = await saveWorldState(client, this.id, env.toJSON());
        this.cache = { version, env };
        return result;
      });
    } catch (error) {
      // The cached copy may hold half of the failed operation; read it afresh next time.
      this.cache = undefined;
      throw error;
    }
  }

  // ---- queries ----

  async listServices(): Promise<string[]> {
    return (await this.current()).listServices();
  }

  async queryMetric(service: string, metric: MetricName, windowMinutes: number): Promise<MetricSeries> {
    return (await this.current()).queryMetric(service, metric, windowMinutes);
  }

  async tailLogs(service: string, lines: number): Promise<LogLine[]> {
    return (await this.current()).tailLogs(service, lines);
  }

  async describeWorkload(service: string): Promise<WorkloadDescription> {
    return (await this.current()).describeWorkload(service);
  }

  async deployHistory(service: string): Promise<DeploymentRevision[]> {
    return (await this.current()).deployHistory(service);
  }

  async consumerLag(service: string): Promise<ConsumerGroupState[]> {
    return (await this.current()).consumerLag(service);
  }

  async describeNode(name: string): Promise<NodeState> {
    return (await this.current()).describeNode(name);
  }

  async describeCluster(): Promise<ClusterState> {
    return (await this.current()).describeCluster();
  }

  /** An alert's target in the world (workload names only; see SimEnvironment.resolveAlertTarget). */
  async resolveAlertTarget(target: AlertTarget): Promise<AlertTarget> {
    return (await this.current()).resolveAlertTarget(target);
  }

  async appliedChange(key: string): Promise<AppliedChange | undefined> {
    // Read under no lock but from the latest version: a change applied by another process counts.
    return (await this.current()).appliedChange(key);
  }

  // ---- operations ----

  async rolloutUndo(service: string, toRevision: number, key: string): Promise<void> {
    await this.write((env) => env.rolloutUndo(service, toRevision, key));
  }

  async scale(service: string, replicas: number, key: string): Promise<void> {
    await this.write((env) => env.scale(service, replicas, key));
  }

  async setAutoscalerMin(service: string, minReplicas: number, key: string): Promise<void> {
    await this.write((env) => env.setAutoscalerMin(service, minReplicas, key));
  }

  async restartPods(service: string, key: string): Promise<void> {
    await this.write((env) => env.restartPods(service, key));
  }

  async setMemoryLimit(service: string, limitMib: number, key: string): Promise<void> {
    await this.write((env) => env.setMemoryLimit(service, limitMib, key));
  }

  async patchServiceTargetPort(service: string, targetPort: number, key: string): Promise<void> {
    await this.write((env) => env.patchServiceTargetPort(service, targetPort, key));
  }

  async setServiceSelector(service: string, kubeService: string, selector: Record<string, string>, key: string): Promise<void> {
    await this.write((env) => env.setServiceSelector(service, kubeService, selector, key));
  }

  async deleteNetworkPolicy(name: string, key: string): Promise<void> {
    await this.write((env) => env.deleteNetworkPolicy(name, key));
  }

  async restoreNetworkPolicy(policy: NetworkPolicyState, key: string): Promise<void> {
    await this.write((env) => env.restoreNetworkPolicy(policy, key));
  }

  async revertConfigMap(name: string, toVersion: number, key: string): Promise<void> {
    await this.write((env) => env.revertConfigMap(name, toVersion, key));
  }

  async skipMessageToDlq(topic: string, group: string, partition: number, offset: number, key: string): Promise<void> {
    await this.write((env) => env.skipMessageToDlq(topic, group, partition, offset, key));
  }

  async cleanLogs(service: string, mount: string, key: string): Promise<void> {
    await this.write((env) => env.cleanLogs(service, mount, key));
  }

  async resetCircuitBreaker(from: string, to: string, key: string): Promise<void> {
    await this.write((env) => env.resetCircuitBreaker(from, to, key));
  }
}
