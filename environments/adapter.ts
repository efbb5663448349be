import { NotFoundError } from "../domain/errors.js";
import type { AlertTarget } from "../domain/alerts/target.js";
/**
 * The environment adapter contract: what Suture can observe about, and do to, a production
 * system. The simulator (`tools/sim/`) implements it; real adapters (Kubernetes API,
 * Prometheus HTTP API, Kafka admin) implement the same interface.
 *
 * Everything here is plain JSON-serializable data so that read-tool results can be recorded in
 * graph state and replayed.
 */

/** Names of the time series every workload exposes. */
export const METRIC_NAMES = ["error_rate", "latency_p99_ms", "request_rate", "memory_mib", "cpu_cores", "disk_usage_pct", "consumer_lag", "ready_replicas"] as const;

/** A metric name from {@link METRIC_NAMES}. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** One sample of a time series; `t` is epoch milliseconds on the environment's clock. */
export interface MetricPoint {
  t: number;
  v: number;
}

/** A time series for one metric of one service. */
export interface MetricSeries {
  service: string;
  metric: MetricName;
  points: MetricPoint[];
}

/** One raw log line as the workload emitted it. */
export interface LogLine {
  t: number;
  service: string;
  pod: string;
  level: "debug" | "info" | "warn" | "error" | "fatal";
  message: string;
  /** Kinds of secrets the message held before Suture redacted them (set by the Observer, never by an environment). */
  redactedSecrets?: string[];
}

/** State of one pod, as `kubectl describe pod` would show it. */
export interface PodStatus {
  name: string;
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  ready: boolean;
  /**
   * Current waiting/terminated reason, e.g. CrashLoopBackOff, ImagePullBackOff, OOMKilled,
   * RunContainerError, CreateContainerConfigError; `Unschedulable` for a pod no node can take.
   */
  reason?: string;
  restarts: number;
  /** Reason of the last termination, e.g. OOMKilled, Error. */
  lastTerminationReason?: string;
  /** Exit code of the last termination (1, 137, 127…). */
  lastExitCode?: number;
  revision: number;
  startedAt: number;
}

/** A Kubernetes event attached to the workload or its pods. */
export interface KubeEvent {
  t: number;
  type: "Normal" | "Warning";
  reason: string;
  object: string;
  message: string;
  count: number;
}

/** One revision of a deployment's pod template. */
export interface DeploymentRevision {
  revision: number;
  image: string;
  env: Record<string, string>;
  memoryLimitMib: number;
  /** CPU limit of the main container in cores (0: none); absent when the environment cannot tell. */
  cpuLimitCores?: number;
  deployedAt: number;
  /** Free-text change cause, as in `kubernetes.io/change-cause`. */
  changeCause?: string;
  /**
   * Pod-template fields this revision changed against the previous one (sorted), e.g. `image`,
   * `command`, `args`, `env`, `envFrom`, `readinessProbe`, `livenessProbe`, `startupProbe`,
   * `ports`, `resources`, `volumeMounts`, `dnsPolicy`, `volumes`, `serviceAccountName`,
   * `nodeSelector`, `tolerations`, `affinity`, `containers` (a container added or removed); empty
   * for the first revision, absent when the environment cannot tell.
   */
  changedFields?: string[];
}

/** The deployment spec and rollout state of a workload. */
export interface DeploymentState {
  name: string;
  namespace: string;
  desiredReplicas: number;
  readyReplicas: number;
  currentRevision: number;
  image: string;
  env: Record<string, string>;
  memoryLimitMib: number;
  cpuLimitCores: number;
  containerPort: number;
  nodeArchitecture: string;
  /** The workload's own `kubernetes.io/change-cause` now (a scale or annotate leaves it on the workload, not on a revision). */
  changeCause?: string;
  /**
   * The scaling schedule the workload's annotations declare, as `key=value` pairs: kube-downscaler's
   * `downscaler/uptime`, `downscaler/downtime` and the `downscaler/original-replicas` it leaves when
   * it parks the workload. Absent when it has none.
   */
  schedule?: string;
  /**
   * How a StatefulSet or DaemonSet replaces its pods: `OnDelete` (only when someone deletes them)
   * or `RollingUpdate` with its `partition` (StatefulSet ordinals below it stay on their revision).
   * Absent for Deployments.
   */
  updateStrategy?: { type: "OnDelete" | "RollingUpdate"; partition: number };
}

/** A Kubernetes Service in front of a workload. */
export interface ServiceState {
  name: string;
  port: number;
  targetPort: number;
}

/** A network policy selecting a workload. */
export interface NetworkPolicyState {
  name: string;
  /** Workload the policy selects. */
  podSelector: string;
  /** Sources allowed to reach the selected pods; an empty list denies all ingress. */
  allowIngressFrom: string[];
  createdAt: number;
  /** The tool that manages the policy (helm, argocd, flux…; "" applied by hand): it would re-create a deleted policy. */
  managedBy?: string;
  /** What marks it as a security team's containment (a quarantine), "" when nothing does. */
  containment?: string;
}

/** A config map (feature flags and settings) mounted by a workload, with its change history. */
export interface ConfigMapState {
  name: string;
  data: Record<string, string>;
  /** The ConfigMap's own annotations (a maintenance window, a change ticket, "do not revert"). */
  annotations?: Record<string, string>;
  version: number;
  updatedAt: number;
  history: Array<{ version: number; data: Record<string, string>; updatedAt: number; changedBy?: string }>;
}

/** A client-side circuit breaker from a workload to one of its dependencies. */
export interface CircuitBreakerState {
  from: string;
  to: string;
  state: "closed" | "open" | "half-open";
  openedAt?: number;
}

/** A disk volume attached to a workload. */
export interface DiskState {
  mount: string;
  sizeGib: number;
  usedPct: number;
  /** Largest directories, as `du` would list them. */
  topPaths: Array<{ path: string; gib: number }>;
}

/** A Kafka consumer group position on one topic. */
export interface ConsumerGroupState {
  topic: string;
  group: string;
  partitions: Array<{ partition: number; committedOffset: number; endOffset: number; lag: number }>;
  totalLag: number;
  dlqTopic?: string;
  dlqDepth: number;
}

/** The kinds of workload an adapter describes. */
export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

/** A Service whose selector picks the workload's pods, and what it routes to. */
export interface ServiceSelection {
  name: string;
  /** The Service's selector (empty: a Service without selector, endpoints managed by hand). */
  selector: Record<string, string>;
  /** Pods in the namespace the selector matches (all phases). */
  selectedPods: number;
  /** Whether the selector matches the workload's pod template labels (false: the Service lost its pods). */
  selectsWorkload: boolean;
  /** Addresses in the Service's Endpoints that are ready / not ready. */
  readyEndpoints: number;
  notReadyEndpoints: number;
  /** When the Service was created, epoch ms (0 when unknown). */
  createdAt: number;
}

/** The Service a dependency is reached through (DNS name = Service name), as the cluster has it. */
export interface DependencyService {
  /** The dependency as the topology names it. */
  dependency: string;
  namespace: string;
  /** The Service name looked up. */
  service: string;
  exists: boolean;
  readyEndpoints: number;
}

/** The HorizontalPodAutoscaler that scales the workload. */
export interface AutoscalerState {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
  atMax: boolean;
  /** The HPA's ScalingLimited condition is True (it wants more, or fewer, than its bounds allow). */
  scalingLimited: boolean;
  /** Since when ScalingLimited has been True (epoch ms; 0 when unknown or not limited). */
  limitedSince: number;
  /** The HPA's ScalingActive condition is not False: it can compute a replica count from its metrics. */
  scalingActive: boolean;
  /** Why it cannot (the ScalingActive condition's reason and message), "" while it can. */
  inactiveReason: string;
}

/** One ResourceQuota of the workload's namespace. */
export interface QuotaState {
  name: string;
  resources: Array<{ resource: string; hard: string; used: string; /** used >= hard. */ full: boolean }>;
}

/** Nodes as they bear on pods that cannot be scheduled (only read when some pod is Unschedulable). */
export interface NodeSummary {
  total: number;
  /** Cordoned nodes (spec.unschedulable), by name. */
  cordoned: string[];
  /** Nodes whose Ready condition is not True, by name. */
  notReady: string[];
}

/** A node as `describe_node` reads it: its conditions, whether it takes pods, and its recent events. */
export interface NodeState {
  name: string;
  /** The Ready condition's status ("Unknown" when the node has none). */
  ready: "True" | "False" | "Unknown";
  /** When the Ready condition last changed (epoch ms), when recorded. */
  readySince?: number;
  /** Conditions other than Ready that are True: MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable. */
  pressures: string[];
  /** Cordoned (`spec.unschedulable`). */
  unschedulable: boolean;
  /** Taints as `key:Effect`. */
  taints: string[];
  /** Pods bound to the node, and how many of them are not ready. */
  pods: number;
  podsNotReady: number;
  /** Events about the node in the last hour, oldest first. */
  events: KubeEvent[];
  /** The kubelet's version (`status.nodeInfo.kubeletVersion`), when reported. */
  kubeletVersion?: string;
  /** The node's annotations (values clipped): where maintenance tooling and people record why a node is cordoned. */
  annotations?: Record<string, string>;
  /** Its roles, from `node-role.kubernetes.io/<role>` labels (and the legacy `kubernetes.io/role`): `control-plane`, `master`, `worker`… */
  roles?: string[];
}

/** A pod no node could take: Pending with its PodScheduled condition False. */
export interface UnschedulablePod {
  namespace: string;
  name: string;
  /** The scheduler's message (`0/4 nodes are available: …`). */
  message: string;
}

/** The cluster as `describe_cluster` reads it: every node, and the pods the scheduler could not place. */
export interface ClusterState {
  nodes: NodeState[];
  unschedulablePods: UnschedulablePod[];
}

/** Everything `describe workload` returns for one service. */
export interface WorkloadDescription {
  service: string;
  /** What kind of workload it is (Deployment when absent). */
  kind?: WorkloadKind;
  /** The workload's own pod selector (`spec.selector.matchLabels`). */
  selector?: Record<string, string>;
  /**
   * Secrets the pod template consumes, by name (env `secretKeyRef`, `envFrom`, volumes): read from
   * the template, never from the Secrets. Pods read them when they start.
   */
  secretRefs?: string[];
  deployment: DeploymentState;
  pods: PodStatus[];
  events: KubeEvent[];
  kubeService?: ServiceState;
  networkPolicies: NetworkPolicyState[];
  configMaps: ConfigMapState[];
  circuitBreakers: CircuitBreakerState[];
  disks: DiskState[];
  consumerGroups: ConsumerGroupState[];
  /** Services this workload calls. */
  dependencies: string[];
  /** Every Service whose selector picks the workload's pod template (kubeService is the first). */
  services?: ServiceSelection[];
  /** For each dependency: its Service and ready endpoints in the cluster. */
  dependencyServices?: DependencyService[];
  /**
   * Warning events anywhere in the cluster about a Secret the workload consumes (a sync or
   * rotation that failed: `<namespace>/<secret>` in the message, or an object of the Secret's name
   * and namespace involved), oldest first. Read from events; Suture never reads the Secrets.
   */
  secretWarnings?: KubeEvent[];
  /** The HorizontalPodAutoscaler targeting the workload, if any. */
  autoscaler?: AutoscalerState;
  /** ResourceQuotas of the workload's namespace. */
  quotas?: QuotaState[];
  /** The cluster's nodes, when some pod of the workload cannot be scheduled. */
  nodes?: NodeSummary;
}

/** How many more pods of a workload the nodes can place now, and what each asks for. */
export interface PlacementHeadroom {
  /** Pods of the workload's template that still fit on the nodes it may run on; null = no bound (no requests, or nodes without declared capacity). */
  podsThatFit: number | null;
  requests: { cpuCores: number; memoryMib: number };
  /** Nodes the scheduler could bind such a pod to (schedulable, Ready, taints tolerated, selector matched), of all nodes. */
  eligibleNodes: number;
  totalNodes: number;
}

/** What the environment knows about one applied change, for idempotency checks. */
export interface AppliedChange {
  idempotencyKey: string;
  operation: string;
  at: number;
}

/** Mutating operations an adapter supports; each is keyed so a retry never applies twice. */
export interface EnvironmentOperations {
  rolloutUndo(service: string, toRevision: number, key: string): Promise<void>;
  scale(service: string, replicas: number, key: string): Promise<void>;
  restartPods(service: string, key: string): Promise<void>;
  setMemoryLimit(service: string, limitMib: number, key: string): Promise<void>;
  /** Sets the minReplicas of the HorizontalPodAutoscaler that scales the workload. */
  setAutoscalerMin(service: string, minReplicas: number, key: string): Promise<void>;
  patchServiceTargetPort(service: string, targetPort: number, key: string): Promise<void>;
  /** Sets the selector of the Service `kubeService` in the workload's namespace. */
  setServiceSelector(service: string, kubeService: string, selector: Record<string, string>, key: string): Promise<void>;
  deleteNetworkPolicy(name: string, key: string): Promise<void>;
  restoreNetworkPolicy(policy: NetworkPolicyState, key: string): Promise<void>;
  revertConfigMap(name: string, toVersion: number, key: string): Promise<void>;
  skipMessageToDlq(topic: string, group: string, partition: number, offset: number, key: string): Promise<void>;
  cleanLogs(service: string, mount: string, key: string): Promise<void>;
  resetCircuitBreaker(from: string, to: string, key: string): Promise<void>;
}

/** Read-only queries an adapter supports. */
export interface EnvironmentQueries {
  listServices(): Promise<string[]>;
  queryMetric(service: string, metric: MetricName, windowMinutes: number): Promise<MetricSeries>;
  tailLogs(service: string, lines: number): Promise<LogLine[]>;
  describeWorkload(service: string): Promise<WorkloadDescription>;
  deployHistory(service: string): Promise<DeploymentRevision[]>;
  consumerLag(service: string): Promise<ConsumerGroupState[]>;
}

/** A production environment Suture can observe and act on. */
export interface EnvironmentAdapter extends EnvironmentQueries, EnvironmentOperations {
  readonly kind: string;
  /** Changes already applied under an idempotency key (empty if the adapter cannot tell). */
  appliedChange(key: string): Promise<AppliedChange | undefined>;
  /**
   * An alert's target resolved to the workload behind it, or left unresolved with the reason
   * (a pod to its owner, an HPA to what it scales…). Absent: the adapter cannot look targets up.
   */
  resolveAlertTarget?(target: AlertTarget): Promise<AlertTarget>;
  /** How many more pods of a workload the cluster's nodes can place now. Absent: the adapter cannot tell. */
  placementHeadroom?(service: string): Promise<PlacementHeadroom>;
  /** A node's conditions, taints, pods and recent events. Absent: the adapter has no nodes to read. */
  describeNode?(name: string): Promise<NodeState>;
  /** Every node and the pods no node could take. Absent: the adapter has no cluster to read. */
  describeCluster?(): Promise<ClusterState>;
}

/** Thrown when a query or operation names something the environment does not have. */
export class EnvironmentNotFoundError extends NotFoundError {
  constructor(kind: string, name: string, known: string[]) {
    super(`unknown ${kind} "${name}"; known: ${known.length > 0 ? known.join(", ") : "(none)"}`);
    this.name = "EnvironmentNotFoundError";
  }
}
