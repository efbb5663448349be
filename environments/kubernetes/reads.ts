import type { ClusterState, DeploymentRevision, LogLine, MetricName, MetricSeries, NodeState } from "../adapter.js";
import { apiStatusOf, call, callOrMissing, KubernetesForbiddenError, kubeRequestError, type ApiRequest } from "./api-errors.js";
import type { AdapterContext } from "./context.js";
import { viewWorkload } from "./describe.js";
import { parsePodLog } from "./log-lines.js";
import { clusterState, nodeState, templateChanges } from "./perception.js";
import { MetricsSourceMissingError } from "./signals.js";
import { deploymentRevision, kubeEvent, revisionOf } from "./translate.js";
import { listWorkloads, readWorkload, replicaCounts } from "./workloads.js";
import { formatWorkloadRef, type WorkloadRef } from "./workload-ref.js";

/** The Deployments and StatefulSets in scope, as `service` strings (`name` in the default namespace). */
export async function listServices(context: AdapterContext): Promise<string[]> {
  const names: string[] = [];
  for (const namespace of context.namespaces) {
    for (const kind of ["Deployment", "StatefulSet"] as const) {
      for (const workload of await listWorkloads(context.apis, namespace, kind)) names.push(formatWorkloadRef({ namespace, kind, name: workload.metadata?.name ?? "" }, context.defaultNamespace));
    }
  }
  return names.sort();
}

/** The Deployment's revisions from its ReplicaSets, oldest first (a StatefulSet or DaemonSet has none Suture can read). */
export async function deployHistory(context: AdapterContext, ref: WorkloadRef): Promise<DeploymentRevision[]> {
  if (ref.kind !== "Deployment") return [];
  const view = await viewWorkload(context, ref);
  const replicaSets = view.replicaSets.filter((rs) => revisionOf(rs.metadata?.annotations) > 0).sort((a, b) => revisionOf(a.metadata?.annotations) - revisionOf(b.metadata?.annotations));
  return replicaSets.map((rs, i) => ({ ...deploymentRevision(rs), changedFields: i === 0 ? [] : templateChanges(rs.spec?.template, replicaSets[i - 1]?.spec?.template) }));
}

/**
 * The last `lines` log lines across the workload's pods (first container, `timestamps=true`),
 * oldest first. A pod whose container has not started has no log yet and is skipped; RBAC
 * refusing `pods/log` is an error, so a missing permission is never read as "no logs".
 */
export async function tailLogs(context: AdapterContext, service: string, ref: WorkloadRef, lines: number): Promise<LogLine[]> {
  const view = await viewWorkload(context, ref);
  const container = view.workload.spec?.template.spec?.containers[0]?.name;
  const namespace = ref.namespace;
  const perPod = await Promise.all(
    view.pods.map(async (pod) => {
      const name = pod.metadata?.name ?? "";
      const request: ApiRequest = { verb: "get", group: "", resource: "pods", subresource: "log", namespace, name };
      try {
        const text = await context.apis.core.readNamespacedPodLog({ name, namespace, tailLines: lines, timestamps: true, ...(container !== undefined ? { container } : {}) });
        return parsePodLog(text, service, name, context.clock.now());
      } catch (error) {
        const status = apiStatusOf(error);
        if (status?.code === 403) throw new KubernetesForbiddenError(request);
        if (status?.code === 400 || status?.code === 404) return [];
        throw kubeRequestError(error, request);
      }
    }),
  );
  return perPod
    .flat()
    .sort((a, b) => a.t - b.t)
    .slice(-lines);
}

/** `ready_replicas` from the workload's status, as one point now; any other metric needs a metrics source. */
export async function readyReplicasMetric(context: AdapterContext, service: string, ref: WorkloadRef, metric: MetricName): Promise<MetricSeries> {
  if (metric !== "ready_replicas") throw new MetricsSourceMissingError(metric);
  const workload = await readWorkload(context.apis, ref);
  return { service, metric, points: [{ t: context.clock.now(), v: replicaCounts(workload).ready }] };
}

/**
 * A node as `describe_node` reports it: the node, the pods bound to it (one list across
 * namespaces, by field selector) and its events in the default namespace, where the kubelet and
 * the node controller write them.
 */
export async function describeNode(context: AdapterContext, name: string): Promise<NodeState> {
  const { apis } = context;
  const node = await call({ verb: "get", group: "", resource: "nodes", name }, () => apis.core.readNode({ name }));
  const pods = await call({ verb: "list", group: "", resource: "pods" }, () => apis.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` }));
  const events = await callOrMissing({ verb: "list", group: "", resource: "events", namespace: "default" }, () => apis.core.listNamespacedEvent({ namespace: "default" }));
  const about = (events?.items ?? []).filter((e) => e.involvedObject.kind === "Node" && e.involvedObject.name === name).map(kubeEvent);
  return nodeState(node, pods.items, about, context.clock.now());
}

/**
 * The cluster as `describe_cluster` reports it: every node (one list), every pod (one list, to
 * count each node's pods and find the ones no node could take) and the node events in the default
 * namespace, where the kubelet and the node controller write them.
 */
export async function describeCluster(context: AdapterContext): Promise<ClusterState> {
  const { apis } = context;
  const nodes = await call({ verb: "list", group: "", resource: "nodes" }, () => apis.core.listNode());
  const pods = await call({ verb: "list", group: "", resource: "pods" }, () => apis.core.listPodForAllNamespaces());
  const events = await callOrMissing({ verb: "list", group: "", resource: "events", namespace: "default" }, () => apis.core.listNamespacedEvent({ namespace: "default" }));
  return clusterState(nodes.items, pods.items, events?.items ?? [], context.clock.now());
}
