import type { AppliedChange, KubeEvent, LogLine, MetricName, MetricPoint } from "../adapter.js";
import { METRIC_NAMES } from "../adapter.js";
import { buildCluster } from "./cluster/build.js";
import {
  APP_LABEL,
  ARCH_LABEL,
  appContainer,
  envMap,
  fnv32a,
  iso,
  matchesLabels,
  objectKey,
  revisionOf,
  type ClusterState,
  type ConfigMap,
  type Deployment,
  type Event,
  type NetworkPolicy,
  type Pod,
  type PodTemplate,
  type ReplicaSet,
  type Service,
  type StatefulSet,
  type Container,
  type ConfigVersion,
  type KubeletRecord,
  type Kind,
} from "./cluster/objects.js";
import { ClusterStore } from "./cluster/store.js";
import { probeFailure, startFailure, type ContainerView, type ImageBehaviour, type ImageRegistry, type StartFailure } from "./images.js";
import { Rng } from "./rng.js";
import type { AnyFault, EnvironmentSpec, ObservationSpec } from "./spec.js";

export type { ConfigVersion, KubeletRecord } from "./cluster/objects.js";

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

/** What the simulator knows about one workload beyond its Kubernetes objects. */
export interface SimService {
  name: string;
  namespace: string;
  cpuPerRequest: number;
  baseline: { requestRate: number; errorRate: number; latencyP99Ms: number };
  baselineMemoryMib: number;
  /** Working set the service needs under current load (memory-limit-too-tight raises it). */
  workingSetMib: number;
  dependencies: string[];
  flags: FlagEffect[];
  disk?: SimDisk;
  kafka?: SimKafka;
  breakers: Record<string, SimBreaker>;
  loadFactor: number;
  certExpired: boolean;
  corrupted: boolean;
  credentialLeak: boolean;
  flap?: { metric: MetricName; amplitude: number; periodMinutes: number };
  series: Record<MetricName, MetricPoint[]>;
  logs: LogLine[];
  /** Signals computed on the last tick, read by callers on the next. */
  last: { errorRate: number; latencyP99Ms: number; ready: number; requestRate: number };
  /** The workload's controller (absent: Deployment). */
  kind?: "Deployment" | "StatefulSet";
  /** How the code writes log lines (absent: plain text). */
  logFormat?: "text" | "json" | "logfmt";
  /** A Secret this workload authenticates callers with: only its current content is accepted. */
  acceptsSecret?: string;
}

/** The whole simulated world; plain JSON so it can be saved and restored exactly. */
export interface SimState {
  t: number;
  t0: number;
  tickMs: number;
  rng: number;
  schemaVersion: Record<string, number>;
  services: Record<string, SimService>;
  /** The cluster's Kubernetes objects. */
  cluster: ClusterState;
  /** Container state the kubelet keeps per pod, keyed "namespace/pod". */
  kubelet: Record<string, KubeletRecord>;
  /** What each image's code does. */
  images: ImageRegistry;
  /** Every version of every ConfigMap's data, keyed "namespace/name", oldest first. */
  configHistory: Record<string, ConfigVersion[]>;
  pendingFaults: AnyFault[];
  observations: Record<string, ObservationSpec>;
  applied: AppliedChange[];
  operations: Array<{ op: string; key: string; at: number; args: Record<string, unknown> }>;
  /** Each HorizontalPodAutoscaler's recent replica recommendations (its scale-down stabilization window), keyed "namespace/name". */
  hpaRecommendations?: Record<string, Array<{ t: number; replicas: number }>>;
  /**
   * What each pod's Prometheus counters have counted so far, keyed "namespace/pod"; present only
   * once the world serves `/metrics` (absent, the world and its saved state are as before).
   */
  metricTotals?: Record<string, PodMetricTotals>;
}

/** A pod's cumulative Prometheus counters (application, cAdvisor), integrated tick by tick. */
export interface PodMetricTotals {
  /** The pod's uid: a new pod of the same name starts again from 0. */
  uid: string;
  /** `http_requests_total` by status code. */
  requests: Record<string, number>;
  /** `http_request_duration_seconds_bucket` counts per finite `le` (cumulative), in bucket order. */
  buckets: number[];
  /** `http_request_duration_seconds_sum`. */
  durationSum: number;
  cpuSeconds: number;
  cfsPeriods: number;
  cfsThrottledPeriods: number;
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
  const built = buildCluster(spec, rng, t0, start, (s) => {
    services[s.name] = {
      name: s.name,
      namespace: s.namespace,
      cpuPerRequest: s.cpuPerRequest,
      baseline: s.baseline,
      baselineMemoryMib: s.baselineMemoryMib,
      workingSetMib: s.baselineMemoryMib,
      dependencies: s.dependencies,
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
      series: emptySeries(),
      logs: [],
      ...(s.kind !== "Deployment" ? { kind: s.kind } : {}),
      ...(s.logFormat !== "text" ? { logFormat: s.logFormat } : {}),
      ...(s.acceptsSecret !== undefined ? { acceptsSecret: s.acceptsSecret } : {}),
      last: { errorRate: s.baseline.errorRate, latencyP99Ms: s.baseline.latencyP99Ms, ready: s.replicas, requestRate: s.baseline.requestRate },
    };
  });
  return {
    t: start,
    t0,
    tickMs: spec.tickSeconds * 1000,
    rng: rng.state,
    schemaVersion: Object.fromEntries(Object.keys(services).map((name) => [name, 1])),
    services,
    cluster: built.cluster,
    kubelet: built.kubelet,
    images: built.images,
    configHistory: built.configHistory,
    pendingFaults: [...spec.faults].sort((a, b) => a.atMinutes - b.atMinutes),
    observations: spec.observations,
    applied: [],
    operations: [],
  };
}

/** Why a caller's traffic does not reach a service. */
export type Unreachable = { ok: false; cause: "no-endpoints" | "port" | "netpol" | "tls" | "dns"; message: string };

/** The kind and apiVersion of an event's object by the word `World.event` names it with. */
const EVENT_KINDS: Record<string, { kind: string; apiVersion: string }> = {
  pod: { kind: "Pod", apiVersion: "v1" },
  deployment: { kind: "Deployment", apiVersion: "apps/v1" },
  replicaset: { kind: "ReplicaSet", apiVersion: "apps/v1" },
  statefulset: { kind: "StatefulSet", apiVersion: "apps/v1" },
  horizontalpodautoscaler: { kind: "HorizontalPodAutoscaler", apiVersion: "autoscaling/v2" },
  resourcequota: { kind: "ResourceQuota", apiVersion: "v1" },
  node: { kind: "Node", apiVersion: "v1" },
  secret: { kind: "Secret", apiVersion: "v1" },
  service: { kind: "Service", apiVersion: "v1" },
};

/** The app container as the image's code sees it. */
export function containerView(c: Container | undefined): ContainerView {
  const probe = c?.livenessProbe?.httpGet;
  return {
    ...(c?.command !== undefined ? { command: c.command } : {}),
    ...(c?.args !== undefined ? { args: c.args } : {}),
    env: envMap(c),
    ports: (c?.ports ?? []).map((p) => p.containerPort),
    ...(probe !== undefined ? { livenessProbe: { path: probe.path, port: probe.port } } : {}),
  };
}

function isJsonObject(text: string): boolean {
  if (!text.trimStart().startsWith("{")) return false;
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/** A log line as the workload's code writes it: plain text, JSON or logfmt. */
function formatLine(s: Pick<SimService, "name" | "logFormat">, t: number, level: LogLine["level"], message: string): string {
  if (s.logFormat === undefined || s.logFormat === "text") return message;
  // A line the scenario already wrote as the JSON object the code logs is that line.
  if (s.logFormat === "json" && isJsonObject(message)) return message;
  // An error's text goes in the error field, under a short message: the part before its first ": " (or "request failed").
  const colon = message.indexOf(": ");
  const failing = level === "error" || level === "fatal" || (level === "warn" && colon > 0);
  const msg = failing ? (colon > 0 && colon <= 60 ? message.slice(0, colon) : "request failed") : message;
  const logger = level === "info" ? `${s.name}.http` : `${s.name}.handler`;
  const fields: Record<string, string> = { ts: new Date(t).toISOString(), level, msg, ...(failing ? { error: message } : {}), logger };
  if (s.logFormat === "json") return JSON.stringify(fields);
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${/[\s"=]/.test(v) ? JSON.stringify(v) : v}`)
    .join(" ");
}

/** Helpers shared by the tick model, the controllers, the faults and the operations. */
export class World {
  readonly rng: Rng;
  readonly cluster: ClusterStore;
  /** Serving pods per workload, valid while the cluster's version does not move (not saved). */
  private readonly serving = new Map<string, { version: number; pods: Pod[] }>();
  /** Values {@link derived} computed, with the writes they were computed after (not saved). */
  private readonly derivedCache = new Map<string, { stamp: string; value: unknown }>();

  constructor(readonly state: SimState) {
    this.rng = new Rng(state.rng);
    this.cluster = new ClusterStore(state.cluster, () => this.state.t);
  }

  /** The service, or an error listing the known ones. */
  service(name: string): SimService {
    const s = this.state.services[name];
    if (s === undefined) throw new Error(`unknown service "${name}"; known: ${Object.keys(this.state.services).join(", ")}`);
    return s;
  }

  /** The workload's Deployment (every simulated service has one, named like it). */
  deployment(s: SimService): Deployment {
    const d = this.cluster.get("Deployment", s.namespace, s.name);
    if (d === undefined) throw new Error(`deployment ${s.namespace}/${s.name} does not exist`);
    return d;
  }

  /** The workload's Deployment, or undefined if it was deleted (or the workload is a StatefulSet). */
  maybeDeployment(s: SimService): Deployment | undefined {
    if (s.kind === "StatefulSet") return undefined;
    return this.cluster.get("Deployment", s.namespace, s.name);
  }

  /** The workload's StatefulSet, when it is one. */
  statefulSet(s: SimService): StatefulSet | undefined {
    return s.kind === "StatefulSet" ? this.cluster.get("StatefulSet", s.namespace, s.name) : undefined;
  }

  /** The pod template the workload's controller runs now. */
  template(s: SimService): PodTemplate | undefined {
    return (this.maybeDeployment(s) ?? this.statefulSet(s))?.spec.template;
  }

  /** The ReplicaSet the Deployment's current template runs in: the one with the highest revision. */
  newReplicaSet(d: Deployment): ReplicaSet | undefined {
    const owned = this.cluster.replicaSetsOf(d);
    return owned[owned.length - 1];
  }

  /** The ReplicaSet that owns a pod. */
  ownerOf(pod: Pod): ReplicaSet | undefined {
    const ref = pod.metadata.ownerReferences?.find((o) => o.kind === "ReplicaSet");
    return ref === undefined ? undefined : this.cluster.get("ReplicaSet", pod.metadata.namespace, ref.name);
  }

  /** Pods of the workload, in the controller's order. */
  pods(s: SimService): Pod[] {
    const sts = this.statefulSet(s);
    if (sts !== undefined) return this.cluster.podsOwnedBy(sts.metadata.uid);
    const d = this.maybeDeployment(s);
    return d === undefined ? [] : this.cluster.podsOf(d);
  }

  /** The workload's Kubernetes Service, or undefined if it was deleted. */
  kubeService(s: SimService): Service | undefined {
    return this.cluster.get("Service", s.namespace, s.name);
  }

  /** The kubelet's record of a pod. */
  kubelet(pod: Pod): KubeletRecord {
    const key = objectKey(pod.metadata.namespace, pod.metadata.name);
    const r = this.state.kubelet[key];
    if (r !== undefined) return r;
    const created: KubeletRecord = { startedAt: this.state.t, backoffUntil: 0, memoryMib: 0 };
    this.state.kubelet[key] = created;
    return created;
  }

  /** What an image's code does (an unknown image behaves like an absent one). */
  image(ref: string): ImageBehaviour | undefined {
    return this.state.images[ref];
  }

  /** CPU architecture of the nodes a pod spec runs on. */
  nodeArch(spec: PodTemplate["spec"]): string {
    if (spec.nodeName !== undefined) {
      const node = this.cluster.get("Node", undefined, spec.nodeName);
      const arch = node?.metadata.labels?.[ARCH_LABEL];
      if (arch !== undefined) return arch;
    }
    return spec.nodeSelector?.[ARCH_LABEL] ?? "amd64";
  }

  /** Why a pod spec's containers cannot start (or keep running), or undefined if they can. */
  startFailure(spec: PodTemplate["spec"], podIp?: string): StartFailure | undefined {
    const c = appContainer(spec);
    return startFailure(this.state.images, c?.image ?? "", this.nodeArch(spec), containerView(c), podIp);
  }

  /** Why the app container's readiness probe fails (the kubelet's message), or undefined when it passes. */
  readinessFailure(spec: PodTemplate["spec"], podIp = "10.0.0.1"): string | undefined {
    const c = appContainer(spec);
    const probe = c?.readinessProbe?.httpGet;
    if (probe === undefined) return undefined;
    return probeFailure(this.image(c?.image ?? ""), containerView(c), { path: probe.path, port: probe.port }, podIp, "Readiness");
  }

  /** Whether the workload's pods resolve names through cluster DNS (dnsPolicy ClusterFirst, the default). */
  clusterDns(pod: Pod): boolean {
    const policy = pod.spec.dnsPolicy ?? "ClusterFirst";
    return policy === "ClusterFirst" || policy === "ClusterFirstWithHostNet";
  }

  /** ConfigMap by namespace and name. */
  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.cluster.get("ConfigMap", namespace, name);
  }

  /** Records a Kubernetes event, folding repeats into a count like the API server does. */
  event(s: Pick<SimService, "name" | "namespace">, type: KubeEvent["type"], reason: string, object: string, message: string, component?: string): void {
    const slash = object.indexOf("/");
    const kindWord = object.slice(0, slash);
    const name = object.slice(slash + 1);
    const eventName = `${name}.${fnv32a(`${reason}\u0000${message}`).toString(16)}`;
    const existing = this.cluster.get("Event", s.namespace, eventName);
    const now = iso(this.state.t);
    if (existing !== undefined) {
      existing.count = (existing.count ?? 1) + 1;
      existing.lastTimestamp = now;
      this.cluster.touch(existing);
      return;
    }
    const kind = EVENT_KINDS[kindWord]?.kind ?? kindWord;
    const target =
      kind === "Pod"
        ? this.cluster.get("Pod", s.namespace, name)
        : kind === "Deployment"
          ? this.cluster.get("Deployment", s.namespace, name)
          : kind === "StatefulSet"
            ? this.cluster.get("StatefulSet", s.namespace, name)
            : undefined;
    const event: Event = {
      apiVersion: "v1",
      kind: "Event",
      // The workload label ties an event to its workload after its pod is gone (describe and retention).
      metadata: { name: eventName, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: "", labels: { [APP_LABEL]: s.name } },
      involvedObject: {
        apiVersion: EVENT_KINDS[kindWord]?.apiVersion ?? "apps/v1",
        kind,
        name,
        namespace: s.namespace,
        ...(target !== undefined ? { uid: target.metadata.uid } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: component ?? (kind === "Pod" ? "kubelet" : kind === "StatefulSet" ? "statefulset-controller" : "deployment-controller") },
    };
    this.cluster.put("Event", event);
    const mine = this.cluster.list("Event", s.namespace).filter((e) => e.metadata.labels?.[APP_LABEL] === s.name);
    for (const old of mine.slice(0, Math.max(0, mine.length - EVENT_RETENTION))) this.cluster.remove("Event", old.metadata.namespace, old.metadata.name);
  }

  /** The workload's events as `describe` lists them. */
  events(s: SimService): KubeEvent[] {
    return this.cluster
      .list("Event", s.namespace)
      .filter((e) => e.metadata.labels?.[APP_LABEL] === s.name)
      .map((e) => ({
        t: Date.parse(e.lastTimestamp ?? e.metadata.creationTimestamp),
        type: e.type === "Warning" ? "Warning" : "Normal",
        reason: e.reason ?? "",
        object: `${(e.involvedObject.kind ?? "").toLowerCase()}/${e.involvedObject.name ?? ""}`,
        message: e.message ?? "",
        count: e.count ?? 1,
      }));
  }

  /** Writes a log line of the workload, in its log format unless `raw` (what a binary prints before its logger runs). */
  log(s: SimService, level: LogLine["level"], message: string, pod?: string, raw = false): void {
    let podName = pod;
    if (podName === undefined) {
      // A line the workload wrote while serving comes from a pod that serves (any pod if none does).
      const pods = this.servingPods(s);
      podName = pods[this.rng.int(0, Math.max(0, pods.length - 1))]?.metadata.name ?? `${s.name}-0`;
    }
    const t = this.state.t + this.rng.int(0, this.state.tickMs - 1);
    s.logs.push({ t, service: s.name, pod: podName, level, message: raw ? message : formatLine(s, t, level, message) });
  }

  /** Pods of the workload that serve (all of them if none does), as of the cluster's last write. */
  private servingPods(s: SimService): Pod[] {
    const cached = this.serving.get(s.name);
    if (cached !== undefined && cached.version === this.cluster.version) return cached.pods;
    const all = this.pods(s);
    const serving = all.filter((p) => p.status.containerStatuses?.[0]?.ready === true);
    const pods = serving.length > 0 ? serving : all;
    this.serving.set(s.name, { version: this.cluster.version, pods });
    return pods;
  }

  /** Whether a NetworkPolicy lets pods labelled `app=caller` in. */
  private allows(policy: NetworkPolicy, caller: string): boolean {
    const rules = policy.spec.ingress ?? [];
    return rules.some((rule) => rule.from === undefined || rule.from.length === 0 || rule.from.some((peer) => matchesLabels(peer.podSelector, { [APP_LABEL]: caller })));
  }

  /** A value derived from objects of some kinds, computed again only after one of them is written (callers ask every tick). */
  private derived<T>(key: string, kinds: readonly Kind[], compute: () => T): T {
    const stamp = this.cluster.writesTo(kinds);
    const cached = this.derivedCache.get(key);
    if (cached !== undefined && cached.stamp === stamp) return cached.value as T;
    const value = compute();
    this.derivedCache.set(key, { stamp, value });
    return value;
  }

  /** NetworkPolicies whose pod selector selects the workload's pods and that restrict ingress. */
  policiesSelecting(s: SimService): NetworkPolicy[] {
    return this.derived(`netpol:${s.namespace}/${s.name}`, ["NetworkPolicy"], () => {
      const labels = { [APP_LABEL]: s.name };
      return this.cluster.list("NetworkPolicy", s.namespace).filter((p) => matchesLabels(p.spec.podSelector, labels) && (p.spec.policyTypes === undefined || p.spec.policyTypes.includes("Ingress")));
    });
  }

  /** Whether the Service's targetPort names or numbers a port the workload's containers listen on; returns the port. */
  servicePort(s: SimService): { ok: boolean; port: number; targetPort: number } {
    return this.derived(`port:${s.namespace}/${s.name}`, ["Service", "Deployment", "StatefulSet"], () => this.computeServicePort(s));
  }

  private computeServicePort(s: SimService): { ok: boolean; port: number; targetPort: number } {
    const svc = this.kubeService(s);
    const template = this.template(s);
    const port = svc?.spec.ports?.[0];
    const ports = (template === undefined ? undefined : appContainer(template.spec)?.ports) ?? [];
    const target = port?.targetPort ?? port?.port ?? 0;
    const match = ports.find((p) => (typeof target === "number" ? p.containerPort === target : p.name === target));
    return { ok: match !== undefined, port: port?.port ?? 0, targetPort: typeof target === "number" ? target : (match?.containerPort ?? 0) };
  }

  /** Whether the workload's Service selects the workload's pods (its template's labels). */
  serviceSelectsWorkload(s: SimService): boolean {
    return this.derived(`selects:${s.namespace}/${s.name}`, ["Service", "Deployment", "StatefulSet"], () => {
      const selector = this.kubeService(s)?.spec.selector;
      const labels = this.template(s)?.metadata?.labels;
      return selector !== undefined && Object.keys(selector).length > 0 && matchesLabels({ matchLabels: selector }, labels);
    });
  }

  /** Ready endpoint addresses of the workload's Service. */
  readyEndpoints(s: SimService): number {
    const ep = this.cluster.get("Endpoints", s.namespace, s.name);
    return (ep?.subsets ?? []).reduce((sum, sub) => sum + (sub.addresses?.length ?? 0), 0);
  }

  /** Whether a caller's traffic reaches a service at all, and why not (`ready` overrides the Endpoints' ready count). */
  reachability(caller: string, target: SimService, ready?: number): { ok: true } | Unreachable {
    const selecting = this.policiesSelecting(target);
    if (selecting.length > 0 && !selecting.some((p) => this.allows(p, caller))) {
      return { ok: false, cause: "netpol", message: `upstream request timeout calling ${target.name}: context deadline exceeded after 5000ms` };
    }
    if (this.kubeService(target) === undefined) {
      return { ok: false, cause: "dns", message: `getaddrinfo ENOTFOUND ${target.name}.${target.namespace}.svc.cluster.local` };
    }
    const port = this.servicePort(target);
    if (target.certExpired) {
      return { ok: false, cause: "tls", message: `Post "https://${target.name}.${target.namespace}.svc:${port.port}/v1": x509: certificate has expired or is not yet valid` };
    }
    if (!port.ok) {
      const svc = this.kubeService(target);
      const shown = svc?.spec.ports?.[0]?.targetPort ?? port.targetPort;
      return { ok: false, cause: "port", message: `connect ECONNREFUSED 10.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}:${shown}` };
    }
    if ((ready ?? this.readyEndpoints(target)) === 0) {
      return { ok: false, cause: "no-endpoints", message: `upstream connect error or disconnect/reset before headers: no healthy upstream (${target.name})` };
    }
    return { ok: true };
  }

  /** Whether traffic from outside the cluster (the ingress) reaches the workload. */
  ingressReaches(s: SimService): boolean {
    return this.kubeService(s) !== undefined && this.serviceSelectsWorkload(s) && this.servicePort(s).ok && !s.certExpired && !this.policiesSelecting(s).some((p) => !this.allows(p, "ingress"));
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

  /** The rollout revision a pod belongs to (its ReplicaSet's). */
  podRevision(pod: Pod): number {
    const rs = this.ownerOf(pod);
    return rs === undefined ? 0 : revisionOf(rs);
  }
}

export { BREAKER_LATENCY_MS, CLIENT_TIMEOUT_MS, DEPENDENCY_WEIGHT, MINUTE };
