import type { AlertTarget } from "../domain/alerts/target.js";
import type { Evidence } from "../domain/model.js";
import type { ClusterState, NodeState } from "../environments/adapter.js";
import { plannedChangeNote } from "./intent.js";

type FactDraft = Omit<Evidence, "id" | "attrs"> & { attrs?: Evidence["attrs"] };

const MINUTE = 60_000;

/**
 * `target.object`: the alert is about a cluster object Suture reads but does not change (a node,
 * a job, a quota, a volume no pod mounts). Rules that would change a workload cannot bind to it;
 * rules that close or escalate an alert can.
 */
export function targetObjectFact(service: string, target: AlertTarget): FactDraft {
  if (target.kind === "Cluster") {
    return {
      key: "target.object",
      service,
      value: "Cluster",
      summary: "the alert names no object: it is about the cluster as a whole, which Suture reads but does not change",
      attrs: { name: "", namespace: "" },
    };
  }
  const where = target.namespace !== undefined ? `${target.namespace}/` : "";
  return {
    key: "target.object",
    service,
    value: target.kind ?? "unknown",
    summary: `the alert is about ${target.kind ?? "an object"} ${where}${target.name ?? ""}, not a workload Suture changes`,
    attrs: { name: target.name ?? "", namespace: target.namespace ?? "" },
  };
}

/**
 * Facts of a node as `describe_node` read it: `node.ready` (its Ready condition, with how long it
 * has held, the pressure conditions that are True, cordon, taints and its pods) and one
 * `node.event` per event reason of the last hour.
 */
export function nodeFacts(service: string, node: NodeState, now: number): FactDraft[] {
  const minutes = node.readySince !== undefined ? Math.round((now - node.readySince) / MINUTE) : -1;
  const facts: FactDraft[] = [
    {
      key: "node.ready",
      service,
      value: node.ready,
      summary:
        `node ${node.name} Ready=${node.ready}${minutes >= 0 ? ` for ${minutes} min` : ""}` +
        `${node.pressures.length > 0 ? `; ${node.pressures.join(", ")}` : "; no pressure condition"}` +
        `${node.unschedulable ? "; cordoned" : ""}${node.taints.length > 0 ? `; taints ${node.taints.join(", ")}` : ""}; ${node.pods} pod(s), ${node.podsNotReady} not ready`,
      attrs: {
        node: node.name,
        minutes_since_change: minutes,
        pressures: node.pressures.join(","),
        under_pressure: node.pressures.length > 0,
        unschedulable: node.unschedulable,
        taints: node.taints.join(","),
        pods: node.pods,
        pods_not_ready: node.podsNotReady,
      },
    },
  ];
  const byReason = new Map<string, { type: string; message: string; count: number; last: number }>();
  for (const e of node.events) {
    const seen = byReason.get(e.reason);
    byReason.set(e.reason, { type: e.type, message: e.message, count: (seen?.count ?? 0) + e.count, last: Math.max(seen?.last ?? 0, e.t) });
  }
  for (const [reason, e] of byReason) {
    facts.push({
      key: "node.event",
      service,
      value: reason,
      summary: `${e.type} event ${reason} on node ${node.name} ×${e.count}: ${e.message.slice(0, 160)}`,
      attrs: { type: e.type, message: e.message.slice(0, 300), count: e.count, minutes_since: Math.round((now - e.last) / MINUTE) },
    });
  }
  return facts;
}

/** A node's own record that its state is planned (a maintenance window or change in its annotations), as `annotation: text`; "" when none. */
function plannedNodeNote(node: NodeState): string {
  return plannedChangeNote(Object.entries(node.annotations ?? {}).map(([key, value]) => [`annotation ${key}`, `${key}=${value}`]));
}

/** `v1.31.4-eks-0f56d01` → `1.31`; undefined when the version does not read as one. */
function minorOf(version: string | undefined): string | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? "");
  return m !== null ? `${m[1] ?? ""}.${m[2] ?? ""}` : undefined;
}

/**
 * `cluster.nodes`, the cluster as `describe_cluster` read it: how many nodes are Ready, down,
 * under pressure or cordoned — and of those down or cordoned, how many carry no record of planned
 * work — the kubelet minor versions running, and how many pods no node could take (with the
 * scheduler's first message).
 */
export function clusterFacts(service: string, cluster: ClusterState): FactDraft[] {
  const planned = cluster.nodes.filter((n) => plannedNodeNote(n) !== "");
  const isPlanned = (n: NodeState): boolean => planned.includes(n);
  const notReady = cluster.nodes.filter((n) => n.ready !== "True");
  const cordoned = cluster.nodes.filter((n) => n.unschedulable);
  const pressured = cluster.nodes.filter((n) => n.pressures.length > 0);
  const minors = [...new Set(cluster.nodes.map((n) => minorOf(n.kubeletVersion)).filter((v): v is string => v !== undefined))].sort();
  const stuck = cluster.unschedulablePods;
  // Self-managed control planes register their nodes (kubeadm labels them); a provider's (EKS, GKE, AKS) never shows one.
  const controlPlane = cluster.nodes.filter((n) => (n.roles ?? []).some((r) => r === "control-plane" || r === "master"));
  const names = (nodes: NodeState[]): string =>
    nodes
      .map((n) => n.name)
      .slice(0, 5)
      .join(", ");
  return [
    {
      key: "cluster.nodes",
      service,
      value: cluster.nodes.length,
      summary:
        `${cluster.nodes.length} node(s): ${cluster.nodes.length - notReady.length} Ready` +
        `${notReady.length > 0 ? `, ${notReady.length} not Ready (${names(notReady)})` : ""}` +
        `${cordoned.length > 0 ? `, ${cordoned.length} cordoned (${names(cordoned)})` : ""}` +
        `${pressured.length > 0 ? `, ${pressured.length} under pressure (${names(pressured)})` : ""}` +
        `${planned.length > 0 ? `; planned work recorded on ${planned.length} (${plannedNodeNote(planned[0] as NodeState).slice(0, 120)})` : ""}` +
        `${minors.length > 0 ? `; kubelet ${minors.join(", ")}` : ""}` +
        `; ${controlPlane.length > 0 ? `${controlPlane.length} control-plane node(s)` : "no control-plane node (a managed control plane)"}` +
        `; ${stuck.length} pod(s) no node could take${stuck[0] !== undefined ? ` (${stuck[0].namespace}/${stuck[0].name}: ${stuck[0].message.slice(0, 120)})` : ""}`,
      attrs: {
        ready: cluster.nodes.length - notReady.length,
        not_ready: notReady.length,
        not_ready_unplanned: notReady.filter((n) => !n.unschedulable && !isPlanned(n)).length,
        cordoned: cordoned.length,
        cordoned_unplanned: cordoned.filter((n) => !isPlanned(n)).length,
        planned: planned.length,
        under_pressure: pressured.length,
        unschedulable_pods: stuck.length,
        kubelet_minors: minors.length,
        kubelet_versions: minors.join(","),
        control_plane_nodes: controlPlane.length,
      },
    },
  ];
}
