import type { AlertTarget } from "../../domain/alerts/target.js";
import { resolveInCluster } from "./target-names.js";
import type { Clock } from "../../domain/clock.js";
import {
  EnvironmentNotFoundError,
  type AppliedChange,
  type CircuitBreakerState,
  type ConsumerGroupState,
  type DeploymentRevision,
  type DiskState,
  type EnvironmentAdapter,
  type LogLine,
  type MetricName,
  type MetricSeries,
  type NetworkPolicyState,
  type NodeState,
  type ClusterState,
  type PodStatus,
  type PlacementHeadroom,
  type WorkloadDescription,
} from "../adapter.js";
import { KubeApiError, type ClusterBackend, type KubeObject, type ObjectChange, type PodLogOptions, type ResourceType, type WriteOptions } from "../cluster-api/backend.js";
import { networkPolicy } from "./cluster/build.js";
import { podState } from "./cluster/controllers.js";
import {
  APP_CONTAINER,
  APP_LABEL,
  CHANGE_CAUSE_ANNOTATION,
  CONTROLLER_REVISION_LABEL,
  REVISION_ANNOTATION,
  ROLLED_OUT_AT_ANNOTATION,
  appContainer,
  envMap,
  matchesLabels,
  objectKey,
  parseCpuCores,
  parseMemoryMib,
  revisionOf,
  templateWithoutHash,
  type ConfigMap,
  type NetworkPolicy,
  type ReplicaSet,
} from "./cluster/objects.js";
import { applyChange, kindOf, served, writeObject } from "./cluster/writes.js";
import { ACTIONS_ANNOTATION } from "../kubernetes/action-records.js";
import { keptPolicies } from "../kubernetes/network-policies.js";
import { structuredMessage } from "../kubernetes/log-lines.js";
import { mapSelectorMatches } from "../kubernetes/selectors.js";
import { mountedConfigMaps } from "./faults.js";
import { SIM_RESOURCE_TYPES } from "./kinds.js";
import { EnvironmentSpecSchema, type EnvironmentSpecInput } from "./spec.js";
import { tick } from "./tick.js";
import { renderExposition } from "./exposition.js";
import { initialState, MINUTE, World, type SimService, type SimState } from "./world.js";
import { revealSecrets } from "./sim-secrets.js";
import type { CoreV1Event, V1Endpoints, V2HorizontalPodAutoscaler, V1Node, V1Pod, V1PodTemplateSpec, V1ResourceQuota, V1Service } from "@kubernetes/client-node";
import { containmentOf, managedByOf, scheduleOf } from "../kubernetes/managed-by.js";
import { kubeEvent } from "../kubernetes/translate.js";
import { placementHeadroom } from "../kubernetes/placement.js";
import {
  autoscalerOf,
  dependencyService,
  dependencyServiceName,
  clusterState,
  isUnschedulable,
  nodeState,
  nodeSummary,
  quotaStates,
  secretRefsOf,
  secretWarnings,
  serviceSelections,
  templateChanges,
} from "../kubernetes/perception.js";

/** How long the API server keeps an event after it last happened (kube-apiserver's default --event-ttl). */
const EVENT_TTL_MS = 60 * MINUTE;

/** A snapshot of the whole simulated world (plain JSON). */
export type SimSnapshot = SimState;

/** The simulator's clock: `sleep` advances the world instantly, tick by tick. */
export class SimClock implements Clock {
  readonly realTime = false;

  constructor(private readonly env: SimEnvironment) {}

  now(): number {
    return this.env.now();
  }

  async sleep(ms: number): Promise<void> {
    await this.env.advanceBy(ms);
  }
}

/** The workload's pods as the adapter reads them; `revision` for all (a StatefulSet's generation), else each pod's ReplicaSet's. */
/**
 * Pods as the adapter reads them; `statefulSet` set: the revision is its generation, one before it
 * for a pod not on its update revision (environments/kubernetes/describe.ts `podRevision`).
 */
function podStatus(world: World, s: SimService, statefulSet?: { generation: number; updateRevision: string | undefined }): PodStatus[] {
  // By name, as the API server lists them.
  const pods = [...world.pods(s)].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return pods.map((p) => {
    const cs = p.status.containerStatuses?.[0];
    // As the adapter reads a pod (environments/kubernetes/translate.ts): a pod no node takes is Unschedulable.
    const reason = cs?.state?.waiting?.reason ?? cs?.state?.terminated?.reason ?? (isUnschedulable(p as unknown as V1Pod) ? "Unschedulable" : undefined);
    const last = cs?.lastState?.terminated?.reason;
    const exitCode = cs?.lastState?.terminated?.exitCode;
    return {
      name: p.metadata.name,
      phase: podState(p) === "imagepull" || p.spec.nodeName === undefined ? "Pending" : "Running",
      ready: cs?.ready === true,
      ...(reason !== undefined ? { reason } : {}),
      restarts: cs?.restartCount ?? 0,
      ...(last !== undefined ? { lastTerminationReason: last } : {}),
      ...(exitCode !== undefined ? { lastExitCode: exitCode } : {}),
      revision: statefulSet === undefined ? world.podRevision(p) : statefulPodRevision(statefulSet, p.metadata.labels?.[CONTROLLER_REVISION_LABEL]),
      startedAt: world.kubelet(p).startedAt,
    };
  });
}

function statefulPodRevision(sts: { generation: number; updateRevision: string | undefined }, hash: string | undefined): number {
  return sts.updateRevision !== undefined && hash !== undefined && hash !== sts.updateRevision ? Math.max(0, sts.generation - 1) : sts.generation;
}

/** A NetworkPolicy as the adapter shows it: the workload it selects and the workloads it admits. */
function policyState(p: NetworkPolicy): NetworkPolicyState {
  return {
    name: p.metadata.name,
    podSelector: p.spec.podSelector?.matchLabels?.[APP_LABEL] ?? "",
    allowIngressFrom: (p.spec.ingress ?? []).flatMap((rule) =>
      (rule.from ?? []).flatMap((peer) => (peer.podSelector?.matchLabels?.[APP_LABEL] !== undefined ? [peer.podSelector.matchLabels[APP_LABEL]] : [])),
    ),
    createdAt: Date.parse(p.metadata.creationTimestamp),
    managedBy: managedByOf(p.metadata),
    containment: containmentOf(p.metadata.name, p.metadata),
  };
}

/** A ReplicaSet as one revision of the rollout history. */
function revisionState(rs: ReplicaSet): DeploymentRevision {
  const c = appContainer(rs.spec.template.spec);
  const cause = rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return {
    revision: revisionOf(rs),
    image: c?.image ?? "",
    env: envMap(c),
    memoryLimitMib: parseMemoryMib(c?.resources?.limits?.memory) ?? 0,
    cpuLimitCores: parseCpuCores(c?.resources?.limits?.cpu) ?? 0,
    deployedAt: Date.parse(rs.metadata.annotations?.[ROLLED_OUT_AT_ANNOTATION] ?? rs.metadata.creationTimestamp),
    ...(cause !== undefined ? { changeCause: cause } : {}),
  };
}

/** The action records an adapter keeps on an object; none when the annotation is absent or unreadable. */
function actionRecordsOf(object: KubeObject): Array<{ key: string; op: string; at: number }> {
  const text = object.metadata.annotations?.[ACTIONS_ANNOTATION];
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (r): r is { key: string; op: string; at: number } =>
        typeof r === "object" &&
        r !== null &&
        typeof (r as Record<string, unknown>)["key"] === "string" &&
        typeof (r as Record<string, unknown>)["op"] === "string" &&
        typeof (r as Record<string, unknown>)["at"] === "number",
    );
  } catch {
    return [];
  }
}

/**
 * The simulated production environment behind the {@link EnvironmentAdapter} interface: a
 * deterministic, seeded world model. Tools change its state; its signals are derived from that
 * state on every tick. Its whole state serializes to JSON, so a killed process can resume it.
 */
export class SimEnvironment implements EnvironmentAdapter, ClusterBackend {
  readonly kind = "sim";
  readonly clock: SimClock;
  /** Called after every mutation and every advance, e.g. to persist the snapshot. */
  onChange?: (snapshot: SimSnapshot) => Promise<void>;
  private readonly world: World;

  private constructor(state: SimState) {
    this.world = new World(state);
    this.clock = new SimClock(this);
  }

  /**
   * Builds a world from a spec (validated here) and runs its warm-up history up to t0. With
   * `metrics`, the world keeps Prometheus counters from its first tick (see {@link metrics}).
   */
  static create(spec: EnvironmentSpecInput, options: { metrics?: boolean } = {}): SimEnvironment {
    const parsed = EnvironmentSpecSchema.parse(spec);
    const env = new SimEnvironment(initialState(parsed));
    if (options.metrics === true) env.world.state.metricTotals = {};
    while (env.world.state.t + env.world.state.tickMs <= env.world.state.t0) tick(env.world);
    return env;
  }

  /** Whether a saved world is in the current format (its Kubernetes objects included) and can be restored. */
  static restorable(snapshot: unknown): boolean {
    return typeof snapshot === "object" && snapshot !== null && typeof (snapshot as Partial<SimState>).cluster === "object";
  }

  /** Restores a world saved with {@link toJSON}; it continues exactly as the original would. */
  static fromJSON(snapshot: unknown): SimEnvironment {
    const state = structuredClone(snapshot) as SimState;
    if (!SimEnvironment.restorable(state)) {
      throw new Error("this saved world predates the simulator's Kubernetes objects (no `cluster` in its state); create the world again from its scenario");
    }
    return new SimEnvironment(state);
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

  /**
   * The world's metrics in the Prometheus text format 0.0.4, as kube-state-metrics, the kubelet,
   * node-exporter, kafka-exporter and the workloads would expose them (docs/simulated-metrics.md).
   * Counters count from the world's creation when it was created with `metrics`, else from the
   * first call.
   */
  metrics(): string {
    this.world.state.metricTotals ??= {};
    return renderExposition(this.world);
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

  /** An alert's target looked up in this world's objects, as the Kubernetes adapter looks it up in a cluster. */
  async resolveAlertTarget(target: AlertTarget): Promise<AlertTarget> {
    return resolveInCluster(this, target);
  }

  /** The namespace a service's workload lives in (undefined for an unknown service). */
  namespaceOf(service: string): string | undefined {
    return this.world.state.services[service]?.namespace;
  }

  async listServices(): Promise<string[]> {
    return Object.keys(this.world.state.services).sort();
  }

  async queryMetric(service: string, metric: MetricName, windowMinutes: number): Promise<MetricSeries> {
    const s = this.service(service);
    const from = this.world.state.t - windowMinutes * MINUTE;
    return { service, metric, points: s.series[metric].filter((p) => p.t > from).map((p) => ({ ...p })) };
  }

  /**
   * The last `lines` lines across the workload's pods, oldest first: what a cluster can give (the
   * last lines of each pod that still exists, by pod name), not the lines of pods already gone.
   */
  async tailLogs(service: string, lines: number): Promise<LogLine[]> {
    const s = this.service(service);
    const pods = this.world
      .pods(s)
      .map((p) => p.metadata.name)
      .sort((a, b) => a.localeCompare(b));
    return (
      pods
        .flatMap((pod) =>
          s.logs
            .filter((l) => l.pod === pod)
            .sort((a, b) => a.t - b.t)
            .slice(-lines),
        )
        .sort((a, b) => a.t - b.t)
        .slice(-lines)
        // A structured line reads as the adapter reads it from the pod's log (log-lines.ts): its message and error fields.
        .map((l) => {
          const message = revealSecrets(l.message);
          return { ...l, message: structuredMessage(message) ?? message };
        })
    );
  }

  /** A node as the Kubernetes adapter reads it (environments/kubernetes/reads.ts `describeNode`), from the objects this cluster serves. */
  async describeNode(name: string): Promise<NodeState> {
    const node = this.objectsOf<V1Node>("Node", undefined).find((n) => n.metadata?.name === name);
    if (node === undefined) throw new KubeApiError(404, "NotFound", `nodes "${name}" not found`, { name, kind: "nodes" });
    const events = this.objectsOf<CoreV1Event>("Event", undefined).filter((e) => e.involvedObject.kind === "Node" && e.involvedObject.name === name);
    return nodeState(node, this.objectsOf<V1Pod>("Pod", undefined), events.map(kubeEvent), this.now());
  }

  /** The cluster as the Kubernetes adapter reads it (environments/kubernetes/reads.ts `describeCluster`). */
  async describeCluster(): Promise<ClusterState> {
    return clusterState(this.objectsOf<V1Node>("Node", undefined), this.objectsOf<V1Pod>("Pod", undefined), this.objectsOf<CoreV1Event>("Event", undefined), this.now());
  }

  async placementHeadroom(service: string): Promise<PlacementHeadroom> {
    const s = this.service(service);
    const d = this.world.statefulSet(s) ?? this.world.deployment(s);
    return placementHeadroom(this.world.cluster.list("Node"), this.world.cluster.list("Pod"), d.spec.template);
  }

  async describeWorkload(service: string): Promise<WorkloadDescription> {
    const s = this.service(service);
    const w = this.world;
    // As the adapter reads it: a StatefulSet's pods and state are at its generation (it has no ReplicaSets).
    const sts = w.statefulSet(s);
    const d = sts ?? w.deployment(s);
    const container = appContainer(d.spec.template.spec);
    const currentRevision = sts !== undefined ? (sts.metadata.generation ?? 0) : Number(d.metadata.annotations?.[REVISION_ANNOTATION] ?? "0");
    // Pods a scenario scripts (observations.<service>.pods) are laid over the pod objects by the kubelet, so these read them too.
    const pods: PodStatus[] = podStatus(w, s, sts !== undefined ? { generation: currentRevision, updateRevision: sts.status?.updateRevision } : undefined);
    const hourAgo = w.state.t - EVENT_TTL_MS;
    const dependencies = await this.dependencies(service);
    // The workload's Service as the adapter finds it: one whose selector picks the pod template.
    const named = w.kubeService(s);
    const svc = named !== undefined && mapSelectorMatches(named.spec.selector, d.spec.template.metadata?.labels) ? named : undefined;
    const port = w.servicePort(s);
    return {
      service,
      deployment: {
        name: s.name,
        namespace: s.namespace,
        desiredReplicas: d.spec.replicas ?? 1,
        readyReplicas: sts !== undefined ? (sts.status?.readyReplicas ?? 0) : pods.filter((p) => p.ready).length,
        currentRevision,
        image: container?.image ?? "",
        env: envMap(container),
        memoryLimitMib: parseMemoryMib(container?.resources?.limits?.memory) ?? 0,
        cpuLimitCores: parseCpuCores(container?.resources?.limits?.cpu) ?? 0,
        containerPort: container?.ports?.[0]?.containerPort ?? 0,
        nodeArchitecture: w.nodeArch(d.spec.template.spec),
        ...(d.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] !== undefined ? { changeCause: d.metadata.annotations[CHANGE_CAUSE_ANNOTATION] } : {}),
        ...(scheduleOf(d.metadata) !== "" ? { schedule: scheduleOf(d.metadata) } : {}),
        ...(sts !== undefined
          ? {
              updateStrategy: {
                type: sts.spec.updateStrategy?.type === "OnDelete" ? ("OnDelete" as const) : ("RollingUpdate" as const),
                partition: sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0,
              },
            }
          : {}),
      },
      pods,
      // Oldest first, as the adapter orders them (events at the same instant keep the list order).
      events: w
        .events(s)
        .filter((e) => e.t >= hourAgo)
        .sort((a, b) => a.t - b.t),
      ...(svc !== undefined ? { kubeService: { name: svc.metadata.name, port: port.port, targetPort: port.targetPort } } : {}),
      networkPolicies: w.policiesSelecting(s).map(policyState),
      configMaps: this.configMapsOf(s).map((cm) => {
        const history = w.state.configHistory[objectKey(cm.metadata.namespace, cm.metadata.name)] ?? [];
        const last = history[history.length - 1];
        return {
          name: cm.metadata.name,
          data: { ...(cm.data ?? {}) },
          ...(cm.metadata.annotations !== undefined ? { annotations: { ...cm.metadata.annotations } } : {}),
          version: last?.version ?? 1,
          updatedAt: last?.updatedAt ?? Date.parse(cm.metadata.creationTimestamp),
          history: structuredClone(history),
        };
      }),
      circuitBreakers: await this.circuitBreakers(service),
      disks: await this.disks(service),
      consumerGroups: await this.consumerLag(service),
      dependencies,
      ...this.neighbourhood(s, d.spec.template as V1PodTemplateSpec, pods, dependencies),
    };
  }

  /** Objects of a kind the simulated cluster serves, in a namespace (none when it does not serve the kind). */
  private objectsOf<T>(kind: string, namespace: string | undefined): T[] {
    const type = SIM_RESOURCE_TYPES.find((t) => t.kind === kind);
    return type === undefined ? [] : (this.list(type, namespace) as unknown as T[]);
  }

  /** One object of a kind the simulated cluster serves, or undefined. */
  private objectOf<T>(kind: string, namespace: string, name: string): T | undefined {
    const type = SIM_RESOURCE_TYPES.find((t) => t.kind === kind);
    return type === undefined ? undefined : (this.get(type, namespace, name) as unknown as T | undefined);
  }

  /**
   * What the Kubernetes adapter reads around a workload (environments/kubernetes/describe.ts),
   * from the objects this cluster serves through the same translations: both paths agree.
   */
  private neighbourhood(
    s: SimService,
    template: V1PodTemplateSpec,
    pods: PodStatus[],
    dependencies: string[],
  ): Pick<WorkloadDescription, "kind" | "selector" | "secretRefs" | "secretWarnings" | "services" | "dependencyServices" | "autoscaler" | "quotas" | "nodes"> {
    const ns = s.namespace;
    const kind = s.kind === "StatefulSet" ? "StatefulSet" : "Deployment";
    const autoscaler = autoscalerOf(this.objectsOf<V2HorizontalPodAutoscaler>("HorizontalPodAutoscaler", ns), kind, s.name);
    const nodes = pods.some((p) => p.reason === "Unschedulable") ? nodeSummary(this.objectsOf<V1Node>("Node", undefined)) : undefined;
    const matchLabels = (this.world.statefulSet(s) ?? this.world.deployment(s)).spec.selector?.matchLabels;
    const secretRefs = secretRefsOf(template);
    return {
      kind,
      ...(matchLabels !== undefined ? { selector: { ...matchLabels } } : {}),
      secretRefs,
      secretWarnings: secretRefs.length > 0 ? secretWarnings(this.objectsOf<CoreV1Event>("Event", undefined), ns, secretRefs, this.now()) : [],
      services: serviceSelections(s.name, template, this.objectsOf<V1Service>("Service", ns), this.objectsOf<V1Endpoints>("Endpoints", ns), this.objectsOf<V1Pod>("Pod", ns)),
      dependencyServices: dependencies.map((dep) => {
        const where = dependencyServiceName(dep, ns);
        return dependencyService(dep, ns, this.objectOf<V1Service>("Service", where.namespace, where.service), this.objectOf<V1Endpoints>("Endpoints", where.namespace, where.service));
      }),
      ...(autoscaler !== undefined ? { autoscaler } : {}),
      quotas: quotaStates(this.objectsOf<V1ResourceQuota>("ResourceQuota", ns)),
      ...(nodes !== undefined ? { nodes } : {}),
    };
  }

  /** ConfigMaps the workload mounts (or that are labelled as its own). */
  private configMapsOf(s: SimService): ConfigMap[] {
    const mounted = mountedConfigMaps(this.world.statefulSet(s) ?? this.world.deployment(s));
    const byName = mounted.flatMap((name) => {
      const cm = this.world.configMap(s.namespace, name);
      return cm === undefined ? [] : [cm];
    });
    const labelled = this.world.cluster.list("ConfigMap", s.namespace).filter((cm) => cm.metadata.labels?.[APP_LABEL] === s.name && !mounted.includes(cm.metadata.name));
    return [...byName, ...labelled];
  }

  async deployHistory(service: string): Promise<DeploymentRevision[]> {
    const s = this.service(service);
    // Like the adapter: a StatefulSet has no ReplicaSets, so no revision history Suture can read.
    if (s.kind === "StatefulSet") return [];
    const replicaSets = this.world.cluster.replicaSetsOf(this.world.deployment(s));
    // Each revision's changes against the one before it, as the adapter computes them (perception.ts).
    return replicaSets.map((rs) => {
      const previous = replicaSets.filter((r) => revisionOf(r) < revisionOf(rs)).sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      return { ...revisionState(rs), changedFields: previous === undefined ? [] : templateChanges(rs.spec.template as V1PodTemplateSpec, previous.spec.template as V1PodTemplateSpec) };
    });
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

  /** The workload's client-side circuit breakers (the simulator models them; Kubernetes does not). */
  async circuitBreakers(service: string): Promise<CircuitBreakerState[]> {
    const s = this.service(service);
    return Object.entries(s.breakers).map(([to, b]) => ({
      from: s.name,
      to,
      state: b.state,
      ...(b.openedAt !== undefined ? { openedAt: b.openedAt } : {}),
    }));
  }

  /** The workload's volume, as `df` and `du` would show it. */
  async disks(service: string): Promise<DiskState[]> {
    const disk = this.service(service).disk;
    if (disk === undefined) return [];
    return [
      {
        mount: disk.mount,
        sizeGib: disk.sizeGib,
        usedPct: disk.usedPct,
        // What the volume held at the start is the app's data; whatever it gained since is log files
        // nobody rotated (the only way a simulated volume grows), on top of the 1 % rotation keeps.
        topPaths: [
          { path: `${disk.mount}/app`, gib: (disk.sizeGib * Math.max(0, Math.min(disk.usedPct, disk.baselinePct) - 9)) / 100 },
          { path: `${disk.mount}/logs`, gib: (disk.sizeGib * (1 + Math.max(0, disk.usedPct - disk.baselinePct))) / 100 },
          { path: `${disk.mount}/tmp`, gib: (disk.sizeGib * 5) / 100 },
          { path: `${disk.mount}/cache`, gib: (disk.sizeGib * 3) / 100 },
        ],
      },
    ];
  }

  /** Services the workload calls. */
  async dependencies(service: string): Promise<string[]> {
    return [...this.service(service).dependencies];
  }

  /** Every version of a ConfigMap's data the world has written, oldest first (Kubernetes keeps none). */
  configMapHistory(namespace: string, name: string): SimState["configHistory"][string] {
    return structuredClone(this.world.state.configHistory[objectKey(namespace, name)] ?? []);
  }

  async appliedChange(key: string): Promise<AppliedChange | undefined> {
    return this.world.state.applied.find((a) => a.idempotencyKey === key);
  }

  // ---- operations ----

  async rolloutUndo(service: string, toRevision: number, key: string): Promise<void> {
    const s = this.service(service);
    const d = this.world.deployment(s);
    const history = this.world.cluster.replicaSetsOf(d);
    const target = history.find((rs) => revisionOf(rs) === toRevision);
    if (target === undefined) {
      throw new EnvironmentNotFoundError(
        `revision of ${service}`,
        String(toRevision),
        history.map((rs) => String(revisionOf(rs))),
      );
    }
    await this.mutate("rolloutUndo", key, { service, toRevision }, () => {
      // What `kubectl rollout undo` sends: the Deployment with the old ReplicaSet's template (without its hash label).
      const changed = structuredClone(d);
      changed.spec.template = structuredClone(templateWithoutHash(target.spec.template));
      (changed.metadata.annotations ??= {})[CHANGE_CAUSE_ANNOTATION] = `rollout undo to revision ${toRevision}`;
      writeObject(this.world, "Deployment", { verb: "update", object: changed }, false, "suture");
    });
  }

  async scale(service: string, replicas: number, key: string): Promise<void> {
    const s = this.service(service);
    await this.mutate("scale", key, { service, replicas }, () => {
      const changed = structuredClone(this.world.deployment(s));
      changed.spec.replicas = replicas;
      writeObject(this.world, "Deployment", { verb: "update", object: changed }, false, "suture");
    });
  }

  async setAutoscalerMin(service: string, minReplicas: number, key: string): Promise<void> {
    const s = this.service(service);
    const hpa = this.world.cluster
      .list("HorizontalPodAutoscaler")
      .find(
        (h) => (h.metadata.namespace ?? "default") === s.namespace && h.spec.scaleTargetRef.name === s.name && h.spec.scaleTargetRef.kind === (s.kind === "StatefulSet" ? "StatefulSet" : "Deployment"),
      );
    if (hpa === undefined) throw new EnvironmentNotFoundError(`HorizontalPodAutoscaler of ${s.namespace}/${s.name}`, service, []);
    await this.mutate("setAutoscalerMin", key, { service, minReplicas }, () => {
      const changed = structuredClone(hpa);
      changed.spec.minReplicas = minReplicas;
      writeObject(this.world, "HorizontalPodAutoscaler", { verb: "update", object: changed }, false, "suture");
    });
  }

  async restartPods(service: string, key: string): Promise<void> {
    const s = this.service(service);
    await this.mutate("restartPods", key, { service }, () => {
      // Deleting the pods: their ReplicaSets start new ones on the next tick.
      for (const pod of [...this.world.pods(s)]) writeObject(this.world, "Pod", { verb: "delete", namespace: s.namespace, name: pod.metadata.name }, false, "suture");
      this.world.event(s, "Normal", "Killing", `deployment/${s.name}`, "Stopping container app (rollout restart)");
    });
  }

  async setMemoryLimit(service: string, limitMib: number, key: string): Promise<void> {
    const s = this.service(service);
    await this.mutate("setMemoryLimit", key, { service, limitMib }, () => {
      const changed = structuredClone(this.world.deployment(s));
      const container = appContainer(changed.spec.template.spec);
      if (container !== undefined) {
        const resources = (container.resources ??= {});
        resources.limits = { ...(resources.limits ?? {}), memory: `${limitMib}Mi` };
      }
      (changed.metadata.annotations ??= {})[CHANGE_CAUSE_ANNOTATION] = `set resources limits.memory=${limitMib}Mi`;
      writeObject(this.world, "Deployment", { verb: "update", object: changed }, false, "suture");
    });
  }

  async patchServiceTargetPort(service: string, targetPort: number, key: string): Promise<void> {
    const s = this.service(service);
    const svc = this.world.kubeService(s);
    if (svc === undefined)
      throw new EnvironmentNotFoundError(
        "Kubernetes service",
        service,
        this.world.cluster.list("Service", s.namespace).map((x) => x.metadata.name),
      );
    await this.mutate("patchServiceTargetPort", key, { service, targetPort }, () => {
      const changed = structuredClone(svc);
      const port = changed.spec.ports?.[0];
      if (port !== undefined) port.targetPort = targetPort;
      writeObject(this.world, "Service", { verb: "update", object: changed }, false, "suture");
    });
  }

  async setServiceSelector(service: string, kubeService: string, selector: Record<string, string>, key: string): Promise<void> {
    const s = this.service(service);
    const svc = this.world.cluster.get("Service", s.namespace, kubeService);
    if (svc === undefined)
      throw new EnvironmentNotFoundError(
        `Service in namespace ${s.namespace}`,
        kubeService,
        this.world.cluster.list("Service", s.namespace).map((x) => x.metadata.name),
      );
    if (Object.keys(selector).length === 0) throw new Error(`refusing to give Service ${s.namespace}/${kubeService} an empty selector`);
    await this.mutate("setServiceSelector", key, { service, kubeService, selector }, () => {
      const changed = structuredClone(svc);
      changed.spec.selector = { ...selector };
      writeObject(this.world, "Service", { verb: "update", object: changed }, false, "suture");
    });
  }

  async deleteNetworkPolicy(name: string, key: string): Promise<void> {
    const policies = this.world.cluster.list("NetworkPolicy");
    const policy = policies.find((p) => p.metadata.name === name);
    if (policy === undefined && !this.world.state.applied.some((a) => a.idempotencyKey === key)) {
      throw new EnvironmentNotFoundError(
        "network policy",
        name,
        policies.map((p) => p.metadata.name),
      );
    }
    await this.mutate("deleteNetworkPolicy", key, { name }, () => {
      if (policy !== undefined) writeObject(this.world, "NetworkPolicy", { verb: "delete", namespace: policy.metadata.namespace, name }, false, "suture");
    });
  }

  async restoreNetworkPolicy(policy: NetworkPolicyState, key: string): Promise<void> {
    await this.mutate("restoreNetworkPolicy", key, { name: policy.name }, () => {
      const selected = this.world.state.services[policy.podSelector];
      const namespace = selected?.namespace ?? Object.values(this.world.state.services)[0]?.namespace ?? "default";
      const object = networkPolicy(policy.name, namespace, policy.podSelector, policy.allowIngressFrom, policy.createdAt);
      const existing = this.world.cluster.get("NetworkPolicy", namespace, policy.name);
      if (existing !== undefined) {
        object.metadata.resourceVersion = existing.metadata.resourceVersion;
        writeObject(this.world, "NetworkPolicy", { verb: "update", object }, false, "suture");
      } else {
        writeObject(this.world, "NetworkPolicy", { verb: "create", object }, false, "suture");
      }
    });
  }

  async revertConfigMap(name: string, toVersion: number, key: string): Promise<void> {
    const all = this.world.cluster.list("ConfigMap");
    const cm = all.find((c) => c.metadata.name === name);
    if (cm === undefined) {
      throw new EnvironmentNotFoundError(
        "config map",
        name,
        all.map((c) => c.metadata.name),
      );
    }
    const history = this.world.state.configHistory[objectKey(cm.metadata.namespace, name)] ?? [];
    const target = history.find((h) => h.version === toVersion);
    if (target === undefined)
      throw new EnvironmentNotFoundError(
        `version of config map ${name}`,
        String(toVersion),
        history.map((h) => String(h.version)),
      );
    await this.mutate("revertConfigMap", key, { name, toVersion }, () => {
      const changed = structuredClone(cm);
      changed.data = { ...target.data };
      writeObject(this.world, "ConfigMap", { verb: "update", object: changed }, false, "suture");
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

  // ---- the Kubernetes API (ClusterBackend) ----

  /** Every resource type the simulated cluster serves. */
  types(): ResourceType[] {
    return SIM_RESOURCE_TYPES.map((t) => structuredClone(t));
  }

  /** Every object of a type, in one namespace or all of them. */
  list(type: ResourceType, namespace: string | undefined): KubeObject[] {
    const kind = kindOf(type.kind);
    const objects = this.world.cluster.list(kind, type.namespaced ? namespace : undefined);
    // The API server drops an event an hour after it last happened (--event-ttl), as describeWorkload does.
    const live = kind === "Event" ? objects.filter((e) => !this.expired(e)) : objects;
    return live.map((o) => served(o));
  }

  /** Whether an Event last happened longer ago than the API server keeps events. */
  private expired(event: { lastTimestamp?: string; metadata: { creationTimestamp: string } }): boolean {
    return Date.parse(event.lastTimestamp ?? event.metadata.creationTimestamp) < this.world.state.t - EVENT_TTL_MS;
  }

  /** One object, or undefined. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const kind = kindOf(type.kind);
    const o = this.world.cluster.get(kind, type.namespaced ? namespace : undefined, name);
    return o === undefined || (kind === "Event" && this.expired(o)) ? undefined : served(o);
  }

  /**
   * Applies a change through the same write path as the operations; the controllers react on
   * the next tick (a Deployment's new ReplicaSet and revision at once). The change is in memory:
   * call {@link flush} to persist it through `onChange`.
   */
  apply(change: ObjectChange, options: WriteOptions): KubeObject {
    const result = applyChange(this.world, change, options.dryRun, "kubectl");
    if (!options.dryRun) {
      this.recordActionsOf(result);
      this.world.state.rng = this.world.rng.state;
    }
    return result;
  }

  /**
   * Takes the actions an adapter recorded on a written object (`suture.dev/actions`) into the
   * world's idempotency records and operation log, so an action done through the API is known
   * applied when the run goes on in-process (a resume) and shows among the world's operations.
   */
  private recordActionsOf(object: KubeObject): void {
    // A deleted NetworkPolicy cannot carry its record; the adapter keeps it on the workload it selected.
    const deletions = keptPolicies(object.metadata).map((k) => ({ key: k.key, op: "deleteNetworkPolicy", at: k.at }));
    for (const record of [...actionRecordsOf(object), ...deletions]) {
      if (this.world.state.applied.some((a) => a.idempotencyKey === record.key)) continue;
      this.world.state.applied.push({ idempotencyKey: record.key, operation: record.op, at: record.at });
      this.world.state.operations.push({ op: record.op, key: record.key, at: record.at, args: { object: `${object.kind ?? ""}/${object.metadata.name ?? ""}` } });
    }
  }

  /** Persists the world through `onChange` (after {@link apply}, which is synchronous). */
  async flush(): Promise<void> {
    await this.changed();
  }

  /** The text of a pod's log, from the lines the world's workload wrote from that pod. */
  podLog(namespace: string, pod: string, options: PodLogOptions): string {
    const p = this.world.cluster.get("Pod", namespace, pod);
    if (p === undefined) throw new KubeApiError(404, "NotFound", `pods "${pod}" not found`, { name: pod, kind: "pods" });
    if (options.container !== undefined && !p.spec.containers.some((c) => c.name === options.container)) {
      throw new KubeApiError(400, "BadRequest", `container ${options.container} is not valid for pod ${pod}`);
    }
    const cs = p.status.containerStatuses?.[0];
    const startedAt = this.world.kubelet(p).startedAt;
    if (options.previous === true && (cs?.restartCount ?? 0) === 0) {
      throw new KubeApiError(400, "BadRequest", `previous terminated container "${options.container ?? APP_CONTAINER}" in pod "${pod}" not found`);
    }
    const service = Object.values(this.world.state.services).find((s) => s.namespace === namespace && matchesLabels({ matchLabels: { [APP_LABEL]: s.name } }, p.metadata.labels));
    const since = options.sinceSeconds !== undefined ? this.world.state.t - options.sinceSeconds * 1000 : -Infinity;
    let lines = (service?.logs ?? []).filter((l) => l.pod === pod && l.t >= since && (options.previous === true ? l.t < startedAt : true)).sort((a, b) => a.t - b.t);
    if (options.tailLines !== undefined) lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    // The workload logs JSON, as most services do: the level travels in the line, as a reader of the log needs it.
    // A workload that writes its own structured lines (JSON, logfmt) has them served as written.
    const own = service?.logFormat === "json" || service?.logFormat === "logfmt";
    return lines
      .map((l) => `${options.timestamps === true ? `${new Date(l.t).toISOString()} ` : ""}${own ? revealSecrets(l.message) : JSON.stringify({ level: l.level, msg: revealSecrets(l.message) })}\n`)
      .join("");
  }
}
