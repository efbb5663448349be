import { ARCH_LABEL, appContainer, iso, parseCpuCores, parseMemoryMib, type Node, type Pod, type PodTemplate } from "./objects.js";
import type { ClusterStore } from "./store.js";

/**
 * The scheduler: places a pod on a node that is schedulable, whose taints the pod tolerates,
 * whose labels match the pod's node selector, and whose allocatable CPU and memory still hold
 * the pod's requests next to the pods already bound there. Among the nodes that fit it picks
 * the one with the most memory left (then by name). A node without `status.allocatable` has
 * room for anything (the default nodes of a scenario that declares none).
 */

/** CPU (cores) and memory (MiB) a pod spec requests. */
export function podRequests(spec: PodTemplate["spec"]): { cpu: number; memoryMib: number } {
  let cpu = 0;
  let memoryMib = 0;
  for (const c of spec.containers) {
    cpu += parseCpuCores(c.resources?.requests?.cpu) ?? 0;
    memoryMib += parseMemoryMib(c.resources?.requests?.memory) ?? 0;
  }
  return { cpu, memoryMib };
}

/** Why one node cannot take a pod (the scheduler's per-node reason), or undefined if it fits. */
function misfit(store: ClusterStore, node: Node, spec: PodTemplate["spec"], used: Map<string, { cpu: number; memoryMib: number }>): string[] {
  if (node.spec?.unschedulable === true) return ["node(s) were unschedulable"];
  const tolerations = spec.tolerations ?? [];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    const tolerated = tolerations.some((t) => (t.operator === "Exists" && (t.key === undefined || t.key === taint.key)) || (t.key === taint.key && (t.value ?? "") === (taint.value ?? "")));
    if (!tolerated) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`];
  }
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    const label = node.metadata.labels?.[k] ?? (k === ARCH_LABEL ? node.status?.nodeInfo?.architecture : undefined);
    if (label !== v) return ["node(s) didn't match Pod's node affinity/selector"];
  }
  const allocatable = node.status?.allocatable;
  if (allocatable === undefined) return [];
  const want = podRequests(spec);
  const have = used.get(node.metadata.name) ?? { cpu: 0, memoryMib: 0 };
  const reasons: string[] = [];
  const cpu = parseCpuCores(allocatable["cpu"]);
  const memory = parseMemoryMib(allocatable["memory"]);
  if (cpu !== undefined && have.cpu + want.cpu > cpu + 1e-9) reasons.push("Insufficient cpu");
  if (memory !== undefined && have.memoryMib + want.memoryMib > memory + 1e-9) reasons.push("Insufficient memory");
  void store;
  return reasons;
}

/** Requests of the pods bound to each node. */
function usedByNode(store: ClusterStore, except?: Pod): Map<string, { cpu: number; memoryMib: number }> {
  const used = new Map<string, { cpu: number; memoryMib: number }>();
  for (const p of store.list("Pod")) {
    if (p === except || p.spec.nodeName === undefined) continue;
    const r = podRequests(p.spec);
    const u = used.get(p.spec.nodeName) ?? { cpu: 0, memoryMib: 0 };
    used.set(p.spec.nodeName, { cpu: u.cpu + r.cpu, memoryMib: u.memoryMib + r.memoryMib });
  }
  return used;
}

/** The node a pod spec would be bound to, or the scheduler's FailedScheduling message. */
export function pickNode(store: ClusterStore, spec: PodTemplate["spec"], except?: Pod): { node: string } | { message: string } {
  const nodes = store.list("Node").sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const used = usedByNode(store, except);
  const fitting: Array<{ name: string; free: number }> = [];
  const reasons = new Map<string, number>();
  let notHelpful = 0;
  for (const node of nodes) {
    const why = misfit(store, node, spec, used);
    if (why.length === 0) {
      const memory = parseMemoryMib(node.status?.allocatable?.["memory"]);
      fitting.push({ name: node.metadata.name, free: memory === undefined ? Infinity : memory - (used.get(node.metadata.name)?.memoryMib ?? 0) });
      continue;
    }
    if (!why.every((w) => w.startsWith("Insufficient"))) notHelpful += 1;
    for (const w of why) reasons.set(w, (reasons.get(w) ?? 0) + 1);
  }
  if (fitting.length > 0) {
    fitting.sort((a, b) => b.free - a.free || a.name.localeCompare(b.name));
    return { node: fitting[0]?.name ?? "" };
  }
  const total = nodes.length;
  const parts = [...reasons.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([w, n]) => `${n} ${w}`);
  const victims = total - notHelpful;
  const preemption = [...(victims > 0 ? [`${victims} No preemption victims found for incoming pod`] : []), ...(notHelpful > 0 ? [`${notHelpful} Preemption is not helpful for scheduling`] : [])];
  return { message: `0/${total} nodes are available: ${parts.join(", ")}. preemption: 0/${total} nodes are available: ${preemption.join(", ")}.` };
}

/** The container status a pod's app container starts with once bound (running, as the simulator starts containers). */
export function startedContainerStatus(pod: Pod, startedAt: number): NonNullable<Pod["status"]["containerStatuses"]>[number] {
  const container = appContainer(pod.spec);
  return { name: container?.name ?? "app", image: container?.image ?? "", imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: iso(startedAt) } } };
}

/** Marks a pod unschedulable: Pending, PodScheduled=False (Unschedulable), no containers. Returns whether it changed. */
export function markUnschedulable(pod: Pod, message: string, at: number): boolean {
  const condition = pod.status.conditions?.find((c) => c.type === "PodScheduled");
  if (pod.spec.nodeName === undefined && condition?.status === "False" && condition.message === message) return false;
  delete pod.spec.nodeName;
  pod.status = {
    phase: "Pending",
    qosClass: pod.status.qosClass ?? "Burstable",
    conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastTransitionTime: condition?.lastTransitionTime ?? iso(at) }],
  };
  return true;
}
