import type { Clock } from "../../domain/clock.js";
import {
  EnvironmentNotFoundError,
  type AppliedChange,
  type ConsumerGroupState,
  type DeploymentRevision,
  type EnvironmentAdapter,
  type LogLine,
  type MetricName,
  type MetricSeries,
  type NetworkPolicyState,
  type PodStatus,
  type WorkloadDescription,
} from "../adapter.js";
import { EnvironmentSpecSchema, type EnvironmentSpecInput } from "./spec.js";
import { tick } from "./tick.js";
import { initialState, MINUTE, World, type SimService, type SimState } from "./world.js";
import { revealSecrets } from "./sim-secrets.js";

/** A snapshot of the whole simulated world (plain JSON). */
export type SimSnapshot = SimState;

/** The simulator's clock: `sleep` advances the world instantly, tick by tick. */
export class SimClock implements Clock {
  constructor(private readonly env: SimEnvironment) {}

  now(): number {
    return this.env.now();
  }

  async sleep(ms: number): Promise<void> {
    await this.env.advanceBy(ms);
  }
}

function podStatus(world: World, s: SimService): PodStatus[] {
  const t = world.state.t;
  const flip = Math.floor(t / 60_000) % 2 === 0;
  return s.pods.map((p) => {
    const reason = p.state === "crashloop" ? "CrashLoopBackOff" : p.state === "imagepull" ? (flip ? "ImagePullBackOff" : "ErrImagePull") : undefined;
    return {
      name: p.name,
      phase: p.state === "imagepull" ? "Pending" : "Running",
      ready: p.state === "running",
      ...(reason !== undefined ? { reason } : {}),
      restarts: p.restarts,
      ...(p.lastTermination !== undefined ? { lastTerminationReason: p.lastTermination } : {}),
      revision: p.revision,
      startedAt: p.startedAt,
    };
  });
}

/**
 * The simulated production environment behind the {@link EnvironmentAdapter} interface: a
 * deterministic, seeded world model. Tools change its state; its signals are derived from that
 * state on every tick. Its whole state serializes to JSON, so a killed process can resume it.
 */
export class SimEnvironment implements EnvironmentAdapter {
  readonly kind = "sim";
  readonly clock: SimClock;
  /** Called after every mutation and every advance, e.g. to persist the snapshot. */
  onChange?: (snapshot: SimSnapshot) => Promise<void>;
  private readonly world: World;

  private constructor(state: SimState) {
    this.world = new World(state);
    this.clock = new SimClock(this);
  }

  /** Builds a world from a spec (validated here) and runs its warm-up history up to t0. */
  static create(spec: EnvironmentSpecInput): SimEnvironment {
    const parsed = EnvironmentSpecSchema.parse(spec);
    const env = new SimEnvironment(initialState(parsed));
    while (env.world.state.t + env.world.state.tickMs <= env.world.state.t0) tick(env.world);
    return env;
  }

  /** Restores a world saved with {@link toJSON}; it continues exactly as the original would. */
  static fromJSON(snapshot: unknown): SimEnvironment {
    return new SimEnvironment(structuredClone(snapshot) as SimState);
  }

  /** The world's full state. */
  toJSON(): SimSnapshot {
    this.world.state.rng = this.world.rng.state;
    return structuredClone(this.world.state);
  }

  /** t0 of the scenario (epoch ms): alert and fault times are relative to it. */
  get startTime(): number {
    return this.world.state.t0;
  }

  now(): number {
    return this.world.state.t;
  }

  /** Advances the world to `t` (epoch ms), tick by tick. */
  async advanceTo(t: number): Promise<void> {
    while (this.world.state.t + this.world.state.tickMs <= t) tick(this.world);
    await this.changed();
  }

  /** Advances the world by `ms`. */
  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.world.state.t + ms);
  }

  /** Every mutating operation applied, in order (for tests and evaluation). */
  operationsApplied(): SimState["operations"] {
    return structuredClone(this.world.state.operations);
  }

  private async changed(): Promise<void> {
    this.world.state.rng = this.world.rng.state;
    await this.onChange?.(this.toJSON());
  }

  private service(name: string): SimService {
    const s = this.world.state.services[name];
    if (s === undefined) throw new EnvironmentNotFoundError("service", name, Object.keys(this.world.state.services));
    return s;
  }

  /** Runs an operation once per idempotency key, records it, and persists the world. */
  private async mutate(op: string, key: string, args: Record<string, unknown>, apply: () => void): Promise<void> {
    if (this.world.state.applied.some((a) => a.idempotencyKey === key)) return;
    apply();
    this.world.state.applied.push({ idempotencyKey: key, operation: op, at: this.world.state.t });
    this.world.state.operations.push({ op, key, at: this.world.state.t, args });
    await this.changed();
  }

  // ---- queries ----

  async listServices(): Promise<string[]> {
    return Object.keys(this.world.state.services).sort();
  }

  async queryMetric(service: string, metric: MetricName, windowMinutes: number): Promise<MetricSeries> {
    const s = this.service(service);
    const from = this.world.state.t - windowMinutes * MINUTE;
    return { service, metric, points: s.series[metric].filter((p) => p.t > from).map((p) => ({ ...p })) };
  }

  async tailLogs(service: string, lines: number): Promise<LogLine[]> {
    const s = this.service(service);
    return [...s.logs]
      .sort((a, b) => a.t - b.t)
      .slice(-lines)
      .map((l) => ({ ...l, message: revealSecrets(l.message) }));
  }

  async describeWorkload(service: string): Promise<WorkloadDescription> {
    const s = this.service(service);
    const w = this.world;
    const current = w.revision(s, s.currentRevision);
    const override = w.state.observations[service]?.pods;
    const pods: PodStatus[] =
      override !== undefined
        ? override.map((p, i) => ({
            name: p.name ?? `${s.name}-obs-${i}`,
            phase: p.phase,
            ready: p.ready,
            ...(p.reason !== undefined ? { reason: p.reason } : {}),
            restarts: p.restarts,
            ...(p.lastTerminationReason !== undefined ? { lastTerminationReason: p.lastTerminationReason } : {}),
            revision: s.currentRevision,
            startedAt: w.state.t0,
          }))
        : podStatus(w, s);
    const hourAgo = w.state.t - 60 * MINUTE;
    return {
      service,
      deployment: {
        name: s.name,
        namespace: s.namespace,
        desiredReplicas: s.desiredReplicas,
        readyReplicas: pods.filter((p) => p.ready).length,
        currentRevision: s.currentRevision,
        image: current.image,
        env: { ...current.env },
        memoryLimitMib: current.memoryLimitMib,
        cpuLimitCores: s.cpuLimitCores,
        containerPort: s.containerPort,
        nodeArchitecture: s.nodeArchitecture,
      },
      pods,
      events: s.events.filter((e) => e.t >= hourAgo).map((e) => ({ ...e })),
      kubeService: { name: s.name, port: s.servicePort, targetPort: s.targetPort },
      networkPolicies: w.state.networkPolicies.filter((p) => p.podSelector === service).map((p) => structuredClone(p)),
      configMaps: structuredClone(s.configMaps),
      circuitBreakers: Object.entries(s.breakers).map(([to, b]) => ({
        from: s.name,
        to,
        state: b.state,
        ...(b.openedAt !== undefined ? { openedAt: b.openedAt } : {}),
      })),
      disks:
        s.disk !== undefined
          ? [
              {
                mount: s.disk.mount,
                sizeGib: s.disk.sizeGib,
                usedPct: s.disk.usedPct,
                topPaths: [
                  { path: `${s.disk.mount}/app`, gib: (s.disk.sizeGib * Math.max(0, s.disk.usedPct - 8)) / 100 },
                  { path: `${s.disk.mount}/tmp`, gib: (s.disk.sizeGib * 5) / 100 },
                  { path: `${s.disk.mount}/cache`, gib: (s.disk.sizeGib * 3) / 100 },
                ],
              },
            ]
          : [],
      consumerGroups: await this.consumerLag(service),
      dependencies: [...s.dependencies],
    };
  }

  async deployHistory(service: string): Promise<DeploymentRevision[]> {
    const s = this.service(service);
    return s.revisions.map((r) => ({
      revision: r.revision,
      image: r.image,
      env: { ...r.env },
      memoryLimitMib: r.memoryLimitMib,
      deployedAt: r.deployedAt,
      ...(r.changeCause !== undefined ? { changeCause: r.changeCause } : {}),
    }));
  }

  async consumerLag(service: string): Promise<ConsumerGroupState[]> {
    const k = this.service(service).kafka;
    if (k === undefined) return [];
    const partitions = k.partitions.map((p, i) => ({ partition: i, committedOffset: p.committed, endOffset: p.end, lag: p.end - p.committed }));
    return [
      {
        topic: k.topic,
        group: k.group,
        partitions,
        totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
        ...(k.dlqTopic !== undefined ? { dlqTopic: k.dlqTopic } : {}),
        dlqDepth: k.dlqDepth,
      },
    ];
  }

  async appliedChange(key: string): Promise<AppliedChange | undefined> {
    return this.world.state.applied.find((a) => a.idempotencyKey === key);
  }

  // ---- operations ----

  async rolloutUndo(service: string, toRevision: number, key: string): Promise<void> {
    const s = this.service(service);
    const target = s.revisions.find((r) => r.revision === toRevision);
    if (target === undefined) {
      throw new EnvironmentNotFoundError(
        `revision of ${service}`,
        String(toRevision),
        s.revisions.map((r) => String(r.revision)),
      );
    }
    await this.mutate("rolloutUndo", key, { service, toRevision }, () => {
      this.world.addRevision(s, { ...structuredClone(target), changeCause: `rollout undo to revision ${toRevision}` });
    });
  }

  async scale(service: string, replicas: number, key: string): Promise<void> {
    const s = this.service(service);
    await this.mutate("scale", key, { service, replicas }, () => {
      const from = s.desiredReplicas;
      s.desiredReplicas = replicas;
      this.world.event(s, "Normal", "ScalingReplicaSet", `deployment/${s.name}`, `Scaled ${replicas > from ? "up" : "down"} replica set ${s.name}-${s.currentRevision} to ${replicas} from ${from}`);
    });
  }

  async restartPods(service: string, key: string): Promise<void> {
    const s = this.service(service);
    await this.mutate("restartPods", key, { service }, () => {
      s.pods = s.pods.map((p) => this.world.newPod(s, p.revision));
      this.world.event(s, "Normal", "Killing", `deployment/${s.name}`, "Stopping container app (rollout restart)");
    });
  }

  async setMemoryLimit(service: string, limitMib: number, key: string): Promise<void> {
    const s = this.service(service);
    const current = this.world.revision(s, s.currentRevision);
    await this.mutate("setMemoryLimit", key, { service, limitMib }, () => {
      this.world.addRevision(s, { ...structuredClone(current), memoryLimitMib: limitMib, changeCause: `set resources limits.memory=${limitMib}Mi` });
    });
  }

  async patchServiceTargetPort(service: string, targetPort: number, key: string): Promise<void> {
    const s = this.service(service);
    await this.mutate("patchServiceTargetPort", key, { service, targetPort }, () => {
      s.targetPort = targetPort;
    });
  }

  async deleteNetworkPolicy(name: string, key: string): Promise<void> {
    const policies = this.world.state.networkPolicies;
    if (!policies.some((p) => p.name === name) && !this.world.state.applied.some((a) => a.idempotencyKey === key)) {
      throw new EnvironmentNotFoundError(
        "network policy",
        name,
        policies.map((p) => p.name),
      );
    }
    await this.mutate("deleteNetworkPolicy", key, { name }, () => {
      this.world.state.networkPolicies = policies.filter((p) => p.name !== name);
    });
  }

  async restoreNetworkPolicy(policy: NetworkPolicyState, key: string): Promise<void> {
    await this.mutate("restoreNetworkPolicy", key, { name: policy.name }, () => {
      this.world.state.networkPolicies = [...this.world.state.networkPolicies.filter((p) => p.name !== policy.name), structuredClone(policy)];
    });
  }

  async revertConfigMap(name: string, toVersion: number, key: string): Promise<void> {
    const owner = Object.values(this.world.state.services).find((s) => s.configMaps.some((c) => c.name === name));
    const cm = owner?.configMaps.find((c) => c.name === name);
    if (owner === undefined || cm === undefined) {
      throw new EnvironmentNotFoundError(
        "config map",
        name,
        Object.values(this.world.state.services).flatMap((s) => s.configMaps.map((c) => c.name)),
      );
    }
    const target = cm.history.find((h) => h.version === toVersion);
    if (target === undefined)
      throw new EnvironmentNotFoundError(
        `version of config map ${name}`,
        String(toVersion),
        cm.history.map((h) => String(h.version)),
      );
    await this.mutate("revertConfigMap", key, { name, toVersion }, () => {
      cm.version += 1;
      cm.data = { ...target.data };
      cm.updatedAt = this.world.state.t;
      cm.history.push({ version: cm.version, data: { ...target.data }, updatedAt: this.world.state.t, changedBy: "suture" });
    });
  }

  async skipMessageToDlq(topic: string, group: string, partition: number, offset: number, key: string): Promise<void> {
    const owner = Object.values(this.world.state.services).find((s) => s.kafka?.topic === topic && s.kafka.group === group);
    const k = owner?.kafka;
    if (k === undefined)
      throw new EnvironmentNotFoundError(
        "consumer group",
        `${group}@${topic}`,
        Object.values(this.world.state.services).flatMap((s) => (s.kafka ? [`${s.kafka.group}@${s.kafka.topic}`] : [])),
      );
    const part = k.partitions[partition];
    if (part === undefined)
      throw new EnvironmentNotFoundError(
        `partition of ${topic}`,
        String(partition),
        k.partitions.map((_, i) => String(i)),
      );
    if (part.committed !== offset && !this.world.state.applied.some((a) => a.idempotencyKey === key)) {
      throw new Error(`offset ${offset} is not the committed offset ${part.committed} of ${topic}[${partition}]; refusing to skip a record the consumer has not reached`);
    }
    await this.mutate("skipMessageToDlq", key, { topic, group, partition, offset }, () => {
      part.committed += 1;
      k.dlqDepth += 1;
      if (k.poison?.partition === partition && k.poison.offset === offset) delete k.poison;
    });
  }

  async cleanLogs(service: string, mount: string, key: string): Promise<void> {
    const s = this.service(service);
    const disk = s.disk;
    if (disk === undefined || disk.mount !== mount) throw new EnvironmentNotFoundError(`volume of ${service}`, mount, disk ? [disk.mount] : []);
    await this.mutate("cleanLogs", key, { service, mount }, () => {
      // Cleaning deletes rotated files and re-enables rotation, so the volume stays down.
      disk.usedPct = disk.baselinePct;
      disk.logGrowthGibPerHour = 0;
    });
  }

  async resetCircuitBreaker(from: string, to: string, key: string): Promise<void> {
    const s = this.service(from);
    const breaker = s.breakers[to];
    if (breaker === undefined) throw new EnvironmentNotFoundError(`circuit breaker of ${from}`, to, Object.keys(s.breakers));
    await this.mutate("resetCircuitBreaker", key, { from, to }, () => {
      breaker.state = "closed";
      breaker.badTicks = 0;
      delete breaker.openedAt;
    });
  }
}
