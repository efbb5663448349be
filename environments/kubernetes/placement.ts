import type { PlacementHeadroom } from "../adapter.js";
import { call } from "./api-errors.js";
import type { AdapterContext } from "./context.js";
import { viewWorkload } from "./describe.js";
import { quantityValue } from "./perception.js";
import type { WorkloadRef } from "./workload-ref.js";

const MIB = 1024 ** 2;

/** The containers' resource requests, as a pod spec carries them. */
interface ContainersLike {
  containers: Array<{ resources?: { requests?: Record<string, string> | undefined } | undefined }>;
}
/** What placement reads of a pod template: requests, tolerations, node selector (API or wire form). */
interface TemplateLike {
  spec?: (ContainersLike & { tolerations?: Array<{ key?: string; operator?: string; value?: string; effect?: string }> | undefined; nodeSelector?: Record<string, string> | undefined }) | undefined;
}
/** What placement reads of a node. */
interface NodeLike {
  metadata?: { name?: string | undefined; labels?: Record<string, string> | undefined } | undefined;
  spec?: { unschedulable?: boolean | undefined; taints?: Array<{ key: string; value?: string | undefined; effect: string }> | undefined } | undefined;
  status?: { conditions?: Array<{ type: string; status: string }> | undefined; allocatable?: Record<string, string> | undefined } | undefined;
}
/** What placement reads of a pod: where it is bound and what it requests. */
interface PodLike {
  spec?: (ContainersLike & { nodeName?: string | undefined }) | undefined;
  status?: { phase?: string | undefined } | undefined;
}

/** CPU (cores) and memory (MiB) the containers of a pod spec request. */
function requestsOf(spec: ContainersLike | undefined): { cpuCores: number; memoryMib: number } {
  let cpuCores = 0;
  let memoryMib = 0;
  for (const c of spec?.containers ?? []) {
    const cpu = quantityValue(c.resources?.requests?.["cpu"]);
    const memory = quantityValue(c.resources?.requests?.["memory"]);
    if (!Number.isNaN(cpu)) cpuCores += cpu;
    if (!Number.isNaN(memory)) memoryMib += memory / MIB;
  }
  return { cpuCores, memoryMib };
}

/** Whether the scheduler could bind a pod of `spec` to `node` at all, capacity aside: schedulable, Ready, taints tolerated, selector matched. */
function eligible(node: NodeLike, spec: TemplateLike["spec"]): boolean {
  if (node.spec?.unschedulable === true) return false;
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready !== undefined && ready.status !== "True") return false;
  const tolerations = spec?.tolerations ?? [];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    const tolerated = tolerations.some(
      (t) =>
        (t.effect === undefined || t.effect === "" || t.effect === taint.effect) &&
        (t.operator === "Exists" ? t.key === undefined || t.key === "" || t.key === taint.key : t.key === taint.key && (t.value ?? "") === (taint.value ?? "")),
    );
    if (!tolerated) return false;
  }
  const labels = node.metadata?.labels ?? {};
  return Object.entries(spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * How many more pods of a template the cluster's nodes can place now: over the nodes the
 * scheduler could bind it to (schedulable, Ready, taints tolerated, node selector matched), each
 * node's allocatable CPU and memory less the requests of the pods bound there, divided by the
 * pod's requests. Unbounded (null) when the pod requests nothing or an eligible node declares no
 * allocatable. Node affinity beyond `nodeSelector` and pod (anti-)affinity are not modelled.
 */
export function placementHeadroom(nodes: NodeLike[], pods: PodLike[], template: TemplateLike | undefined): PlacementHeadroom {
  const want = requestsOf(template?.spec);
  const candidates = nodes.filter((n) => eligible(n, template?.spec));
  const base = { requests: { cpuCores: want.cpuCores, memoryMib: Math.round(want.memoryMib) }, eligibleNodes: candidates.length, totalNodes: nodes.length };
  if (want.cpuCores <= 0 && want.memoryMib <= 0) return { ...base, podsThatFit: null };
  const used = new Map<string, { cpu: number; memory: number }>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (node === undefined || p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
    const r = requestsOf(p.spec);
    const u = used.get(node) ?? { cpu: 0, memory: 0 };
    used.set(node, { cpu: u.cpu + r.cpuCores, memory: u.memory + r.memoryMib });
  }
  let fit = 0;
  for (const node of candidates) {
    const allocatable = node.status?.allocatable;
    const cpu = quantityValue(allocatable?.["cpu"]);
    const memory = quantityValue(allocatable?.["memory"]);
    if (allocatable === undefined || (Number.isNaN(cpu) && Number.isNaN(memory))) return { ...base, podsThatFit: null };
    const u = used.get(node.metadata?.name ?? "") ?? { cpu: 0, memory: 0 };
    const byCpu = want.cpuCores > 0 && !Number.isNaN(cpu) ? Math.floor((cpu - u.cpu + 1e-9) / want.cpuCores) : Infinity;
    const byMemory = want.memoryMib > 0 && !Number.isNaN(memory) ? Math.floor((memory / MIB - u.memory + 1e-9) / want.memoryMib) : Infinity;
    fit += Math.max(0, Math.min(byCpu, byMemory));
  }
  return { ...base, podsThatFit: Number.isFinite(fit) ? fit : null };
}

/** Reads the nodes, the pods bound to them and the workload's template, and counts the room left for its pods. */
export async function readPlacementHeadroom(context: AdapterContext, ref: WorkloadRef): Promise<PlacementHeadroom> {
  const view = await viewWorkload(context, ref);
  const apis = context.apis;
  const [nodes, pods] = await Promise.all([
    call({ verb: "list", group: "", resource: "nodes" }, () => apis.core.listNode()),
    call({ verb: "list", group: "", resource: "pods" }, () => apis.core.listPodForAllNamespaces()),
  ]);
  return placementHeadroom(nodes.items, pods.items, view.workload.spec?.template);
}
