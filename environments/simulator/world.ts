import type { AppliedChange, ConfigMapState, DeploymentRevision, KubeEvent, LogLine, MetricName, MetricPoint, NetworkPolicyState } from "../adapter.js";
import { METRIC_NAMES } from "../adapter.js";
import { Rng } from "./rng.js";
import type { EnvironmentSpec, FaultSpec, ObservationSpec } from "./spec.js";

const MINUTE = 60_000;
/** Metric points kept per series (at 30 s ticks: 4 hours). */
const METRIC_RETENTION = 480;
/** Log lines kept per service. */
const LOG_RETENTION = 800;
/** Events kept per service; describe shows the last hour, like Kubernetes' default TTL. */
const EVENT_RETENTION = 60;
/** p99 above which a caller's circuit breaker opens. */
const BREAKER_LATENCY_MS = 1000;
/** Client timeout callers apply to a dependency that never answers. */
const CLIENT_TIMEOUT_MS = 5000;
/** Share of a caller's requests that need a given dependency. */
const DEPENDENCY_WEIGHT = 0.6;

/** What is wrong with a revision's pod template, if anything. */
export interface RevisionDefect {
  imageMissing?: boolean;
  arch?: string;
  /** Name of an env var the revision cannot start with. */
  envError?: string;
  /** Errors the revision's code produces on a share of requests. */
  bug?: { errorRate: number; message: string };
  /** Latency the revision's code adds to every request. */
  slowMs?: number;
  /** Memory the revision leaks per minute once the leak is active. */
  leakMibPerMin?: number;
  leakFrom?: number;
}

/** A revision of a workload's pod template, with what the simulator knows about its code. */
export interface SimRevision extends DeploymentRevision {
  /** Database schema version the revision's code was written for. */
  schemaVersion: number;
  defect: RevisionDefect;
}

/** One pod and its lifecycle. */
export interface SimPod {
  name: string;
  revision: number;
  startedAt: number;
  restarts: number;
  state: "running" | "crashloop" | "imagepull";
  backoffUntil: number;
  lastTermination?: string;
  memoryMib: number;
}

/** A bad config value and what it does while it is set. */
export interface FlagEffect {
  configMap: string;
  key: string;
  value: string;
  errorRate: number;
  message: string;
}

/** Kafka consumer state of a service. */
export interface SimKafka {
  topic: string;
  group: string;
  partitions: Array<{ committed: number; end: number }>;
  producerRate: number;
  capacity: number;
  dlqTopic?: string;
  dlqDepth: number;
  poison?: { partition: number; offset: number };
}

/** A volume and how fast logs fill it. */
export interface SimDisk {
  mount: string;
  sizeGib: number;
  usedPct: number;
  baselinePct: number;
  logGrowthGibPerHour: number;
}

/** A client-side circuit breaker. */
export interface SimBreaker {
  state: "closed" | "open" | "half-open";
  openedAt?: number;
  badTicks: number;
}

/** Everything the simulator knows about one workload. */
export interface SimService {
  name: string;
  namespace: string;
  desiredReplicas: number;
  containerPort: number;
  servicePort: number;
  targetPort: number;
  cpuLimitCores: number;
  cpuPerRequest: number;
  baseline: { requestRate: number; errorRate: number; latencyP99Ms: number };
  baselineMemoryMib: number;
  /** Working set the service needs under current load (memory-limit-too-tight raises it). */
  workingSetMib: number;
  nodeArchitecture: string;
  dependencies: string[];
  revisions: SimRevision[];
  currentRevision: number;
  pods: SimPod[];
  configMaps: ConfigMapState[];
  flags: FlagEffect[];
  disk?: SimDisk;
  kafka?: SimKafka;
  breakers: Record<string, SimBreaker>;
  loadFactor: number;
  certExpired: boolean;
  corrupted: boolean;
  credentialLeak: boolean;
  flap?: { metric: MetricName; amplitude: number; periodMinutes: number };
  events: KubeEvent[];
  series: Record<MetricName, MetricPoint[]>;
  logs: LogLine[];
  /** Signals computed on the last tick, read by callers on the next. */
  last: { errorRate: number; latencyP99Ms: number; ready: number; requestRate: number };
}

/** The whole simulated world; plain JSON so it can be saved and restored exactly. */
export interface SimState {
  t: number;
  t0: number;
  tickMs: number;
  rng: number;
  schemaVersion: Record<string, number>;
  services: Record<string, SimService>;
  networkPolicies: NetworkPolicyState[];
  pendingFaults: FaultSpec[];
  observations: Record<string, ObservationSpec>;
  applied: AppliedChange[];
  operations: Array<{ op: string; key: string; at: number; args: Record<string, unknown> }>;
}

function emptySeries(): Record<MetricName, MetricPoint[]> {
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, [] as MetricPoint[]])) as Record<MetricName, MetricPoint[]>;
}

/** Builds the initial world from a validated spec, at the start of its warm-up history. */
export function initialState(spec: EnvironmentSpec): SimState {
  const t0 = Date.parse(spec.startTime);
  const start = t0 - spec.historyMinutes * MINUTE;
  const rng = new Rng(spec.seed * 7919 + 17);
  const services: Record<string, SimService> = {};
  for (const s of spec.services) {
    const image = s.image ?? `registry.internal/${s.name}:1.${rng.int(10, 40)}.${rng.int(0, 9)}`;
    const revisions: SimRevision[] = s.revisions.map((r, i) => ({
      revision: i + 1,
      image: r.image,
      env: { ...s.env, ...(r.env ?? {}) },
      memoryLimitMib: r.memoryLimitMib ?? s.memoryLimitMib,
      deployedAt: t0 + r.deployedAtMinutes * MINUTE,
      ...(r.changeCause !== undefined ? { changeCause: r.changeCause } : {}),
      schemaVersion: 1,
      defect: {},
    }));
    revisions.push({
      revision: revisions.length + 1,
      image,
      env: { ...s.env },
      memoryLimitMib: s.memoryLimitMib,
      deployedAt: t0 + s.deployedAtMinutes * MINUTE,
      changeCause: revisions.length > 0 ? `deploy ${image}` : "initial deploy",
      schemaVersion: 1,
      defect: {},
    });
    const current = revisions.length;
    const pods: SimPod[] = [];
    for (let i = 0; i < s.replicas; i++) {
      pods.push({
        name: `${s.name}-${rng.suffix(9)}-${rng.suffix(5)}`,
        revision: current,
        startedAt: start - rng.int(60, 600) * MINUTE,
        restarts: 0,
        state: "running",
        backoffUntil: 0,
        memoryMib: s.baselineMemoryMib,
      });
    }
    services[s.name] = {
      name: s.name,
      namespace: s.namespace,
      desiredReplicas: s.replicas,
      containerPort: s.containerPort,
      servicePort: s.servicePort,
      targetPort: s.containerPort,
      cpuLimitCores: s.cpuLimitCores,
      cpuPerRequest: s.cpuPerRequest,
      baseline: s.baseline,
      baselineMemoryMib: s.baselineMemoryMib,
      workingSetMib: s.baselineMemoryMib,
      nodeArchitecture: s.nodeArchitecture,
      dependencies: s.dependencies,
      revisions,
      currentRevision: current,
      pods,
      configMaps: s.configMaps.map((c) => ({
        name: c.name,
        data: { ...c.data },
        version: 1,
        updatedAt: start - 7 * 24 * 60 * MINUTE,
        history: [{ version: 1, data: { ...c.data }, updatedAt: start - 7 * 24 * 60 * MINUTE, changedBy: "gitops" }],
      })),
      flags: [],
      ...(s.disk !== undefined ? { disk: { mount: s.disk.mount, sizeGib: s.disk.sizeGib, usedPct: s.disk.usedPct, baselinePct: s.disk.usedPct, logGrowthGibPerHour: 0 } } : {}),
      ...(s.kafka !== undefined
        ? {
            kafka: {
              topic: s.kafka.topic,
              group: s.kafka.group,
              partitions: Array.from({ length: s.kafka.partitions }, () => {
                const end = rng.int(100_000, 900_000);
                return { committed: end - rng.int(0, 40), end };
              }),
              producerRate: s.kafka.producerRatePerPartition,
              capacity: s.kafka.consumerCapacityPerPartition,
              ...(s.kafka.dlqTopic !== undefined ? { dlqTopic: s.kafka.dlqTopic } : {}),
              dlqDepth: 0,
            },
          }
        : {}),
      breakers: Object.fromEntries(s.dependencies.map((d) => [d, { state: "closed" as const, badTicks: 0 }])),
      loadFactor: 1,
      certExpired: false,
      corrupted: false,
      credentialLeak: false,
      events: [],
      series: emptySeries(),
      logs: [],
      last: { errorRate: s.baseline.errorRate, latencyP99Ms: s.baseline.latencyP99Ms, ready: s.replicas, requestRate: s.baseline.requestRate },
    };
  }
  return {
    t: start,
    t0,
    tickMs: spec.tickSeconds * 1000,
    rng: rng.state,
    schemaVersion: Object.fromEntries(spec.services.map((s) => [s.name, 1])),
    services,
    networkPolicies: spec.networkPolicies.map((p) => ({
      name: p.name,
      podSelector: p.podSelector,
      allowIngressFrom: p.allowIngressFrom,
      createdAt: t0 + p.createdAtMinutes * MINUTE,
    })),
    pendingFaults: [...spec.faults].sort((a, b) => a.atMinutes - b.atMinutes),
    observations: spec.observations,
    applied: [],
    operations: [],
  };
}

/** Helpers shared by the tick model, the faults and the operations. */
export class World {
  readonly rng: Rng;

  constructor(readonly state: SimState) {
    this.rng = new Rng(state.rng);
  }

  /** The service, or an error listing the known ones. */
  service(name: string): SimService {
    const s = this.state.services[name];
    if (s === undefined) throw new Error(`unknown service "${name}"; known: ${Object.keys(this.state.services).join(", ")}`);
    return s;
  }

  revision(s: SimService, number: number): SimRevision {
    const r = s.revisions.find((x) => x.revision === number);
    if (r === undefined) throw new Error(`${s.name} has no revision ${number}`);
    return r;
  }

  /** Records a Kubernetes event, folding repeats into a count like the API server does. */
  event(s: SimService, type: KubeEvent["type"], reason: string, object: string, message: string): void {
    const existing = s.events.find((e) => e.reason === reason && e.object === object && e.message === message);
    if (existing !== undefined) {
      existing.count += 1;
      existing.t = this.state.t;
      return;
    }
    s.events.push({ t: this.state.t, type, reason, object, message, count: 1 });
    if (s.events.length > EVENT_RETENTION) s.events.splice(0, s.events.length - EVENT_RETENTION);
  }

  log(s: SimService, level: LogLine["level"], message: string, pod?: string): void {
    const podName = pod ?? s.pods[this.rng.int(0, Math.max(0, s.pods.length - 1))]?.name ?? `${s.name}-0`;
    s.logs.push({ t: this.state.t + this.rng.int(0, this.state.tickMs - 1), service: s.name, pod: podName, level, message });
  }

  newPod(s: SimService, revision: number): SimPod {
    return {
      name: `${s.name}-${this.rng.suffix(9)}-${this.rng.suffix(5)}`,
      revision,
      startedAt: this.state.t,
      restarts: 0,
      state: "running",
      backoffUntil: 0,
      memoryMib: s.baselineMemoryMib * 0.5,
    };
  }

  /** Adds a revision (a rollout) and returns its number. */
  addRevision(s: SimService, template: Omit<SimRevision, "revision" | "deployedAt">): number {
    const revision = Math.max(...s.revisions.map((r) => r.revision)) + 1;
    s.revisions.push({ ...template, revision, deployedAt: this.state.t });
    s.currentRevision = revision;
    this.event(s, "Normal", "ScalingReplicaSet", `deployment/${s.name}`, `Scaled up replica set ${s.name}-${revision}${this.rng.suffix(7)} to ${s.desiredReplicas}`);
    return revision;
  }

  /** Why a revision's containers cannot start, or undefined if they can. */
  startFailure(s: SimService, r: SimRevision): { state: SimPod["state"]; log?: string } | undefined {
    if (r.defect.imageMissing === true) return { state: "imagepull" };
    if (r.defect.arch !== undefined && r.defect.arch !== s.nodeArchitecture) {
      return { state: "crashloop", log: "exec /app/server: exec format error" };
    }
    if (r.defect.envError !== undefined) {
      const v = r.env[r.defect.envError] ?? "";
      return { state: "crashloop", log: `FATAL config: invalid value for ${r.defect.envError}="${v}": cannot parse as URL` };
    }
    return undefined;
  }

  /** Whether a caller's traffic reaches a service at all, and why not. */
  reachability(caller: string, target: SimService): { ok: true } | { ok: false; cause: "no-endpoints" | "port" | "netpol" | "tls"; message: string } {
    const selecting = this.state.networkPolicies.filter((p) => p.podSelector === target.name);
    if (selecting.length > 0 && !selecting.some((p) => p.allowIngressFrom.includes(caller))) {
      return { ok: false, cause: "netpol", message: `upstream request timeout calling ${target.name}: context deadline exceeded after 5000ms` };
    }
    if (target.certExpired) {
      return { ok: false, cause: "tls", message: `Post "https://${target.name}.${target.namespace}.svc:${target.servicePort}/v1": x509: certificate has expired or is not yet valid` };
    }
    if (target.targetPort !== target.containerPort) {
      return { ok: false, cause: "port", message: `connect ECONNREFUSED 10.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}:${target.targetPort}` };
    }
    if (target.last.ready === 0) {
      return { ok: false, cause: "no-endpoints", message: `upstream connect error or disconnect/reset before headers: no healthy upstream (${target.name})` };
    }
    return { ok: true };
  }

  /** Appends a metric point, trimming retention. */
  record(s: SimService, metric: MetricName, value: number): void {
    const series = s.series[metric];
    series.push({ t: this.state.t, v: value });
    if (series.length > METRIC_RETENTION) series.splice(0, series.length - METRIC_RETENTION);
  }

  trimLogs(s: SimService): void {
    if (s.logs.length > LOG_RETENTION) s.logs.splice(0, s.logs.length - LOG_RETENTION);
  }
}

export { BREAKER_LATENCY_MS, CLIENT_TIMEOUT_MS, DEPENDENCY_WEIGHT, MINUTE };
