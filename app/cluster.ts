import type { Clock } from "../domain/clock.js";
import type { ConfigMapHistory } from "../domain/config-versions.js";
import type { KubernetesEnvironment } from "../environments/kubernetes/kubernetes-environment.js";
import type { PrometheusMetrics } from "../environments/prometheus/prometheus-metrics.js";
import type { ClusterConfig, PrometheusConfig } from "./config.js";

/** Environment ids of incidents handled on the configured cluster start with this, then the namespace. */
const CLUSTER_ENVIRONMENT_PREFIX = "kubernetes:";

/** The environment id of an incident in `namespace` on the configured cluster. */
export function clusterEnvironmentId(namespace: string): string {
  return `${CLUSTER_ENVIRONMENT_PREFIX}${namespace}`;
}

/** The namespace an environment id names on the configured cluster, or undefined for any other world. */
export function clusterNamespaceOf(environmentId: string): string | undefined {
  return environmentId.startsWith(CLUSTER_ENVIRONMENT_PREFIX) ? environmentId.slice(CLUSTER_ENVIRONMENT_PREFIX.length) : undefined;
}

/**
 * The configured Kubernetes cluster: which namespaces Suture handles there, and an adapter per
 * incident whose bare workload names resolve in the alert's namespace. Every adapter shares the
 * ConfigMap history kept in the database, so a revert works from any worker.
 */
export class ClusterConnection {
  constructor(
    private readonly config: ClusterConfig,
    private readonly configHistory: ConfigMapHistory,
    /** Where metrics, consumer lag and volumes are read (unset: only what the API server knows). */
    private readonly prometheus?: PrometheusConfig,
    /** The clock incidents on the cluster are timed by (default: this process's wall clock). */
    private readonly clock?: Clock,
  ) {}

  /** The namespaces Suture handles on the cluster, as configured. */
  get namespaces(): readonly string[] {
    return this.config.namespaces;
  }

  /** Whether alerts in `namespace` are handled on the cluster. */
  handles(namespace: string): boolean {
    return this.config.namespaces.includes(namespace);
  }

  /** The adapter for incidents in `namespace` (reads and writes go to the cluster; time is the wall clock as the database tells it). */
  async environmentFor(namespace: string): Promise<KubernetesEnvironment> {
    // Loaded on first use: @kubernetes/client-node costs most of a second at start-up, which
    // every CLI command would otherwise pay.
    const { KubernetesEnvironment, loadKubeConfig } = await import("../environments/kubernetes/kubernetes-environment.js");
    const kubeConfig = loadKubeConfig({
      ...(this.config.kubeconfig === "in-cluster" ? { inCluster: true } : { kubeconfigPath: this.config.kubeconfig }),
      ...(this.config.context !== undefined ? { context: this.config.context } : {}),
    });
    const declared = this.config.runbookActions;
    const runbookActions =
      declared !== undefined ? (await import("../environments/runbook-actions/declared-runbook-actions.js")).declaredRunbookActions(declared, kubeConfig, { defaultNamespace: namespace }) : undefined;
    const signals = this.prometheus !== undefined ? await this.prometheusMetrics(this.prometheus, namespace) : undefined;
    return new KubernetesEnvironment({
      kubeConfig,
      namespace,
      namespaces: this.config.namespaces,
      configHistory: this.configHistory,
      ...(this.clock !== undefined ? { clock: this.clock } : {}),
      ...(runbookActions !== undefined ? { runbookActions } : {}),
      ...(signals !== undefined ? { signals } : {}),
    });
  }

  /** The Prometheus reader for incidents in `namespace`, with the templates read when Suture opened (else read now). */
  private async prometheusMetrics(prometheus: PrometheusConfig, namespace: string): Promise<PrometheusMetrics> {
    const { PrometheusMetrics } = await import("../environments/prometheus/prometheus-metrics.js");
    const options = {
      url: prometheus.url,
      ...(prometheus.auth !== undefined ? { auth: prometheus.auth } : {}),
      ...(this.clock !== undefined ? { clock: this.clock } : {}),
      stepSeconds: prometheus.stepSeconds,
      defaultNamespace: namespace,
    };
    if (prometheus.signals !== undefined) return new PrometheusMetrics({ ...options, signals: prometheus.signals });
    return PrometheusMetrics.open({ ...options, ...(prometheus.signalsFile !== undefined ? { signalsFile: prometheus.signalsFile } : {}) });
  }
}
