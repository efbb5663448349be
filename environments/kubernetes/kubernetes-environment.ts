import type { AlertTarget } from "../../domain/alerts/target.js";
import { resolveAlertTarget } from "./alert-targets.js";
import { KubeConfig } from "@kubernetes/client-node";
import { WallClock, type Clock } from "../../domain/clock.js";
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
  PlacementHeadroom,
  WorkloadDescription,
} from "../adapter.js";
import { EnvironmentNotFoundError } from "../adapter.js";
import { makeKubeApis } from "./apis.js";
import { findAppliedChange } from "./applied-changes.js";
import { patchAutoscalerBounds, type AutoscalerBounds } from "./autoscaler.js";
import type { ConfigMapHistory } from "../../domain/config-versions.js";
import { InMemoryConfigMapHistory } from "./config-history.js";
import { revertConfigMap } from "./configmap-revert.js";
import type { AdapterContext } from "./context.js";
import { describeWorkload } from "./describe.js";
import { readPlacementHeadroom } from "./placement.js";
import { deleteNetworkPolicy, restoreNetworkPolicy } from "./network-policies.js";
import { deployHistory, describeCluster, describeNode, listServices, readyReplicasMetric, tailLogs } from "./reads.js";
import { patchServiceTargetPort } from "./service-port.js";
import { setServiceSelector } from "./service-selector.js";
import { MetricsSourceMissingError, RunbookActionMissingError, type RunbookActions, type WorkloadSignals } from "./signals.js";
import { restartPods, rolloutUndo, scale, setMemoryLimit } from "./workload-operations.js";
import { parseWorkloadRef, WORKLOAD_KINDS, type WorkloadKind, type WorkloadRef } from "./workload-ref.js";
import { findWorkload } from "./workloads.js";

/** How to reach a cluster and what Suture may see of it. */
export interface KubernetesEnvironmentOptions {
  kubeConfig: KubeConfig;
  /** Namespace of a bare `name`; default "default". */
  namespace?: string;
  /** Namespaces `listServices` lists and `appliedChange` scans; default: the default namespace only. */
  namespaces?: string[];
  /** fieldManager of every write; default "suture". */
  fieldManager?: string;
  /** Metrics, consumer groups, disks, breakers and dependencies (Prometheus and the like). */
  signals?: WorkloadSignals;
  /** Operations that are not Kubernetes API calls, as this cluster's runbooks do them. */
  runbookActions?: RunbookActions;
  /** Where observed ConfigMap versions are kept; default in memory (lost on restart). */
  configHistory?: ConfigMapHistory;
  clock?: Clock;
}

/** Where `fromEnvironment` finds credentials: KUBECONFIG/~/.kube/config, a named file, or in-cluster. */
export interface KubernetesConnectionOptions {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, else the pod's service account. */
  kubeconfigPath?: string;
  /** A context of that kubeconfig; default its current context. */
  context?: string;
  namespace: string;
  /** Read the pod's service account even if a kubeconfig exists. */
  inCluster?: boolean;
}

/** The kubeconfig a connection names: in-cluster, a file, or KUBECONFIG/~/.kube/config; then its context. */
export function loadKubeConfig(connection: Omit<KubernetesConnectionOptions, "namespace">): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (connection.inCluster === true) kubeConfig.loadFromCluster();
  else if (connection.kubeconfigPath !== undefined) kubeConfig.loadFromFile(connection.kubeconfigPath);
  else kubeConfig.loadFromDefault();
  if (connection.context !== undefined) kubeConfig.setCurrentContext(connection.context);
  return kubeConfig;
}

/**
 * The real Kubernetes adapter: reads through the API server as `kubectl` does and acts as a careful
 * operator does — every write dry-run first, conditional on the resourceVersion it read, recorded
 * on the changed object (`suture.dev/actions`) so a new process after a crash sees it, and refused
 * with the RBAC verb to add when Suture's role lacks it. Never reads Secrets.
 */
export class KubernetesEnvironment implements EnvironmentAdapter {
  readonly kind = "kubernetes";
  readonly clock: Clock;
  private readonly context: AdapterContext;
  private readonly runbookActions: RunbookActions;
  /** Manifests of NetworkPolicies this process deleted, by `namespace/name` (also kept on the cluster). */
  private readonly deletedPolicies = new Map<string, Record<string, unknown>>();
  /** The kind each bare workload name was found to be (namespace/name → kind). */
  private readonly resolvedKinds = new Map<string, WorkloadKind>();

  constructor(options: KubernetesEnvironmentOptions) {
    const namespace = options.namespace ?? "default";
    this.clock = options.clock ?? new WallClock();
    this.runbookActions = options.runbookActions ?? {};
    this.context = {
      apis: makeKubeApis(options.kubeConfig),
      defaultNamespace: namespace,
      namespaces: [...new Set(options.namespaces ?? [namespace])],
      fieldManager: options.fieldManager ?? "suture",
      clock: this.clock,
      configHistory: options.configHistory ?? new InMemoryConfigMapHistory(),
      ...(options.signals !== undefined ? { signals: options.signals } : {}),
    };
  }

  /** Connects with the usual kubeconfig (or an explicit file and context), or in-cluster. */
  static fromEnvironment(connection: KubernetesConnectionOptions, options: Omit<KubernetesEnvironmentOptions, "kubeConfig" | "namespace"> = {}): KubernetesEnvironment {
    return new KubernetesEnvironment({ ...options, kubeConfig: loadKubeConfig(connection), namespace: connection.namespace });
  }

  /** The workload a `service` string names (a bare name is read as a Deployment; see {@link resolve}). */
  ref(service: string): WorkloadRef {
    return parseWorkloadRef(service, this.context.defaultNamespace);
  }

  /**
   * The workload a `service` string names, as it exists: a name without a kind is the Deployment
   * of that name, else the StatefulSet, else the DaemonSet (alerts name workloads by name only).
   * The kind found is remembered; when none exists the Deployment is returned, so the read that
   * follows says what is missing and which Deployments there are.
   */
  async resolve(service: string): Promise<WorkloadRef> {
    const ref = this.ref(service);
    if (service.split("/").length === 3) return ref;
    const key = `${ref.namespace}/${ref.name}`;
    const known = this.resolvedKinds.get(key);
    if (known !== undefined) return { ...ref, kind: known };
    for (const kind of WORKLOAD_KINDS) {
      if ((await findWorkload(this.context.apis, { ...ref, kind })) !== undefined) {
        this.resolvedKinds.set(key, kind);
        return { ...ref, kind };
      }
    }
    return ref;
  }

  /** An alert's target through the API: a pod to its owner, an HPA to what it scales… (see alert-targets.ts). */
  async resolveAlertTarget(target: AlertTarget): Promise<AlertTarget> {
    return resolveAlertTarget(this.context.apis, target, this.context.namespaces);
  }

  // ---- queries ----

  async listServices(): Promise<string[]> {
    return listServices(this.context);
  }

  async queryMetric(service: string, metric: MetricName, windowMinutes: number): Promise<MetricSeries> {
    const ref = await this.resolve(service);
    const signals = this.context.signals;
    if (signals === undefined) return readyReplicasMetric(this.context, service, ref, metric);
    const series = await signals.queryMetric(ref, metric, windowMinutes);
    // Without kube-state-metrics the source has no replica series; the API server still knows the count now.
    if (metric === "ready_replicas" && series.points.length === 0) return readyReplicasMetric(this.context, service, ref, metric);
    return series;
  }

  async tailLogs(service: string, lines: number): Promise<LogLine[]> {
    return tailLogs(this.context, service, await this.resolve(service), lines);
  }

  async describeWorkload(service: string): Promise<WorkloadDescription> {
    return describeWorkload(this.context, service, await this.resolve(service));
  }

  async describeNode(name: string): Promise<NodeState> {
    return describeNode(this.context, name);
  }

  async describeCluster(): Promise<ClusterState> {
    return describeCluster(this.context);
  }

  async placementHeadroom(service: string): Promise<PlacementHeadroom> {
    return readPlacementHeadroom(this.context, await this.resolve(service));
  }

  async deployHistory(service: string): Promise<DeploymentRevision[]> {
    return deployHistory(this.context, await this.resolve(service));
  }

  async consumerLag(service: string): Promise<ConsumerGroupState[]> {
    const ref = await this.resolve(service);
    if (this.context.signals === undefined) throw new MetricsSourceMissingError("consumer_lag");
    return this.context.signals.consumerLag(ref);
  }

  async appliedChange(key: string): Promise<AppliedChange | undefined> {
    return findAppliedChange(this.context, key);
  }

  // ---- operations ----

  async rolloutUndo(service: string, toRevision: number, key: string): Promise<void> {
    return rolloutUndo(this.context, await this.resolve(service), service, toRevision, key);
  }

  async scale(service: string, replicas: number, key: string): Promise<void> {
    return scale(this.context, await this.resolve(service), replicas, key);
  }

  async restartPods(service: string, key: string): Promise<void> {
    return restartPods(this.context, await this.resolve(service), key);
  }

  async setMemoryLimit(service: string, limitMib: number, key: string): Promise<void> {
    return setMemoryLimit(this.context, await this.resolve(service), limitMib, key);
  }

  async patchServiceTargetPort(service: string, targetPort: number, key: string): Promise<void> {
    return patchServiceTargetPort(this.context, await this.resolve(service), targetPort, key);
  }

  async setServiceSelector(service: string, kubeService: string, selector: Record<string, string>, key: string): Promise<void> {
    return setServiceSelector(this.context, await this.resolve(service), kubeService, selector, key);
  }

  async deleteNetworkPolicy(name: string, key: string): Promise<void> {
    return deleteNetworkPolicy(this.context, name, key, (manifest) => {
      const metadata = manifest.metadata as { namespace?: string; name?: string } | undefined;
      this.deletedPolicies.set(`${metadata?.namespace ?? this.context.defaultNamespace}/${metadata?.name ?? name}`, manifest);
    });
  }

  async restoreNetworkPolicy(policy: NetworkPolicyState, key: string): Promise<void> {
    const remembered = [...this.deletedPolicies.entries()].find(([id]) => id.endsWith(`/${policy.name}`))?.[1];
    return restoreNetworkPolicy(this.context, policy, key, remembered);
  }

  async revertConfigMap(name: string, toVersion: number, key: string): Promise<void> {
    return revertConfigMap(this.context, name, toVersion, key);
  }

  /** Sets a HorizontalPodAutoscaler's replica bounds once per key (not in the contract yet). */
  async setAutoscalerMin(service: string, minReplicas: number, key: string): Promise<void> {
    const ref = await this.resolve(service);
    const hpa = (await this.describeWorkload(service)).autoscaler;
    if (hpa === undefined) throw new EnvironmentNotFoundError(`HorizontalPodAutoscaler of ${ref.namespace}/${ref.name}`, service, []);
    return patchAutoscalerBounds(this.context, ref.namespace, hpa.name, { minReplicas }, key);
  }

  async patchAutoscaler(namespace: string, name: string, bounds: AutoscalerBounds, key: string): Promise<void> {
    return patchAutoscalerBounds(this.context, namespace, name, bounds, key);
  }

  async skipMessageToDlq(topic: string, group: string, partition: number, offset: number, key: string): Promise<void> {
    if (this.runbookActions.skipMessageToDlq === undefined) throw new RunbookActionMissingError("skipMessageToDlq");
    await this.runbookActions.skipMessageToDlq(topic, group, partition, offset, key);
  }

  async cleanLogs(service: string, mount: string, key: string): Promise<void> {
    if (this.runbookActions.cleanLogs === undefined) throw new RunbookActionMissingError("cleanLogs");
    await this.runbookActions.cleanLogs(await this.resolve(service), mount, key);
  }

  async resetCircuitBreaker(from: string, to: string, key: string): Promise<void> {
    if (this.runbookActions.resetCircuitBreaker === undefined) throw new RunbookActionMissingError("resetCircuitBreaker");
    await this.runbookActions.resetCircuitBreaker(await this.resolve(from), to, key);
  }
}
