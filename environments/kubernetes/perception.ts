import type { CoreV1Event, V1Container, V1Endpoints, V2HorizontalPodAutoscaler, V1Node, V1Pod, V1PodTemplateSpec, V1ResourceQuota, V1Service } from "@kubernetes/client-node";
import type { AutoscalerState, ClusterState, DependencyService, KubeEvent, NodeState, NodeSummary, QuotaState, ServiceSelection, WorkloadKind } from "../adapter.js";
import { mapSelectorMatches } from "./selectors.js";
import { epochMs, kubeEvent } from "./translate.js";

/**
 * Pure translations of Kubernetes objects into what perception reports, shared by the adapter
 * (objects client-node read over HTTP) and the simulator (the same objects as the JSON it serves):
 * both paths describe a workload with these functions, so they cannot drift apart. Only fields
 * whose names are the same in the JSON and in client-node's models are read here.
 */

/** JSON with object keys sorted and undefined dropped: two equal specs print alike whatever their key order. */
function canonical(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function differs(a: unknown, b: unknown): boolean {
  return canonical(a) !== canonical(b);
}

/** Container fields whose change a revision reports (names as in the container spec). */
const CONTAINER_FIELDS = [
  "image",
  "command",
  "args",
  "env",
  "envFrom",
  "readinessProbe",
  "livenessProbe",
  "startupProbe",
  "ports",
  "resources",
  "volumeMounts",
  "workingDir",
  "securityContext",
  "lifecycle",
] as const;

/** Pod spec fields whose change a revision reports. */
const POD_FIELDS = [
  "dnsPolicy",
  "dnsConfig",
  "volumes",
  "serviceAccountName",
  "nodeSelector",
  "tolerations",
  "affinity",
  "initContainers",
  "hostNetwork",
  "imagePullSecrets",
  "securityContext",
  "priorityClassName",
  "terminationGracePeriodSeconds",
] as const;

/**
 * The pod-template fields that differ between two revisions, sorted and without repeats: container
 * fields by their name (containers paired by name), pod spec fields by theirs (a pod-level
 * securityContext shows as `podSecurityContext`), `containers` when one was added or removed, and
 * `memory` besides `resources` when the first container's memory limit moved.
 */
export function templateChanges(current: V1PodTemplateSpec | undefined, previous: V1PodTemplateSpec | undefined): string[] {
  const changes = new Set<string>();
  const now = current?.spec?.containers ?? [];
  const before = previous?.spec?.containers ?? [];
  const names = (cs: V1Container[]) => cs.map((c) => c.name).sort();
  if (differs(names(now), names(before))) changes.add("containers");
  for (const container of now) {
    const old = before.find((c) => c.name === container.name) ?? (now.length === 1 && before.length === 1 ? before[0] : undefined);
    if (old === undefined) continue;
    for (const field of CONTAINER_FIELDS) if (differs(container[field], old[field])) changes.add(field);
  }
  if (differs(now[0]?.resources?.limits?.["memory"], before[0]?.resources?.limits?.["memory"])) changes.add("memory");
  for (const field of POD_FIELDS) {
    if (differs(current?.spec?.[field], previous?.spec?.[field])) changes.add(field === "securityContext" ? "podSecurityContext" : field);
  }
  return [...changes].sort();
}

/** The kind of a workload object (`kind` when the object carries it, else the kind it was read as). */
export function workloadKind(kind: string | undefined): WorkloadKind {
  return kind === "StatefulSet" || kind === "DaemonSet" ? kind : "Deployment";
}

/** Distinct addresses of an Endpoints object: ready and not ready. */
function endpointAddresses(endpoints: V1Endpoints | undefined): { ready: number; notReady: number } {
  const ready = new Set<string>();
  const notReady = new Set<string>();
  for (const subset of endpoints?.subsets ?? []) {
    for (const a of subset.addresses ?? []) ready.add(a.targetRef?.name ?? a.ip);
    for (const a of subset.notReadyAddresses ?? []) notReady.add(a.targetRef?.name ?? a.ip);
  }
  return { ready: ready.size, notReady: notReady.size };
}

/**
 * The Services in front of a workload: those whose selector matches its pod template, and the one
 * named like the workload (the conventional name, kept even when its selector no longer picks the
 * pods: that is the fault worth seeing). Sorted by name.
 */
export function serviceSelections(workloadName: string, template: V1PodTemplateSpec | undefined, services: V1Service[], endpoints: V1Endpoints[], pods: V1Pod[]): ServiceSelection[] {
  return services
    .filter((s) => s.metadata?.name === workloadName || mapSelectorMatches(s.spec?.selector, template?.metadata?.labels))
    .map((s) => {
      const selector = s.spec?.selector ?? {};
      const name = s.metadata?.name ?? "";
      const addresses = endpointAddresses(endpoints.find((e) => e.metadata?.name === name));
      return {
        name,
        selector: { ...selector },
        selectedPods: Object.keys(selector).length === 0 ? 0 : pods.filter((p) => mapSelectorMatches(selector, p.metadata?.labels)).length,
        selectsWorkload: Object.keys(selector).length > 0 && mapSelectorMatches(selector, template?.metadata?.labels),
        readyEndpoints: addresses.ready,
        notReadyEndpoints: addresses.notReady,
        createdAt: epochMs(s.metadata?.creationTimestamp),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Where a dependency's Service lives: `namespace/name` (or a longer ref) names its namespace, a bare name is the caller's. */
export function dependencyServiceName(dependency: string, namespace: string): { namespace: string; service: string } {
  const parts = dependency.split("/");
  return { namespace: parts.length > 1 ? (parts[0] ?? namespace) : namespace, service: parts[parts.length - 1] ?? dependency };
}

/** A dependency's Service as the cluster has it (undefined Service: deleted or never there). */
export function dependencyService(dependency: string, namespace: string, service: V1Service | undefined, endpoints: V1Endpoints | undefined): DependencyService {
  const where = dependencyServiceName(dependency, namespace);
  return { dependency, namespace: where.namespace, service: where.service, exists: service !== undefined, readyEndpoints: service === undefined ? 0 : endpointAddresses(endpoints).ready };
}

/** The HorizontalPodAutoscaler (autoscaling/v2) among `hpas` whose scaleTargetRef is the workload. */
export function autoscalerOf(hpas: V2HorizontalPodAutoscaler[] | unknown[], kind: WorkloadKind, name: string): AutoscalerState | undefined {
  const hpa = (hpas as V2HorizontalPodAutoscaler[])
    .filter((h) => h.spec?.scaleTargetRef?.kind === kind && h.spec.scaleTargetRef.name === name)
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""))[0];
  if (hpa === undefined) return undefined;
  const min = hpa.spec?.minReplicas ?? 1;
  const max = hpa.spec?.maxReplicas ?? 0;
  const current = hpa.status?.currentReplicas ?? 0;
  const limited = hpa.status?.conditions?.find((c) => c.type === "ScalingLimited");
  const scalingLimited = limited?.status === "True";
  const active = hpa.status?.conditions?.find((c) => c.type === "ScalingActive");
  const scalingActive = active?.status !== "False";
  return {
    name: hpa.metadata?.name ?? "",
    minReplicas: min,
    maxReplicas: max,
    currentReplicas: current,
    desiredReplicas: hpa.status?.desiredReplicas ?? current,
    atMax: max > 0 && current >= max,
    scalingLimited,
    limitedSince: scalingLimited ? epochMs(limited?.lastTransitionTime) : 0,
    scalingActive,
    inactiveReason: scalingActive ? "" : `${active?.reason ?? "ScalingActive False"}: ${active?.message ?? ""}`.trim(),
  };
}

const SUFFIX: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5 };

/** The number a quantity string stands for ("500m" → 0.5, "2Gi" → 2147483648), NaN when unreadable. */
export function quantityValue(quantity: string | undefined): number {
  const m = /^([0-9.]+)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.exec((quantity ?? "").trim());
  if (m === null) return Number.NaN;
  return Number(m[1]) * (m[2] !== undefined ? (SUFFIX[m[2]] ?? 1) : 1);
}

/** The namespace's ResourceQuotas: each resource's hard and used amounts, and whether it is used up. Sorted by name. */
export function quotaStates(quotas: V1ResourceQuota[] | unknown[]): QuotaState[] {
  return (quotas as V1ResourceQuota[])
    .map((q) => {
      const hard = q.status?.hard ?? q.spec?.hard ?? {};
      const used = q.status?.used ?? {};
      const resources = Object.keys(hard)
        .sort()
        .map((resource) => {
          const h = hard[resource] ?? "";
          const u = used[resource] ?? "0";
          const hv = quantityValue(h);
          const uv = quantityValue(u);
          return { resource, hard: h, used: u, full: !Number.isNaN(hv) && !Number.isNaN(uv) && uv >= hv };
        });
      return { name: q.metadata?.name ?? "", resources };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether a pod cannot be placed on any node: PodScheduled=False with reason Unschedulable. */
export function isUnschedulable(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable") ?? false;
}

/** The cluster's nodes as they bear on scheduling: cordoned and not-ready ones, by name. */
export function nodeSummary(nodes: V1Node[] | unknown[]): NodeSummary {
  const all = nodes as V1Node[];
  const names = (ns: V1Node[]) => ns.map((n) => n.metadata?.name ?? "").sort();
  return {
    total: all.length,
    cordoned: names(all.filter((n) => n.spec?.unschedulable === true)),
    notReady: names(all.filter((n) => !(n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false))),
  };
}

/** Conditions a node reports True when something is wrong with it (Ready is the one that is True when all is well). */
const NODE_PROBLEM_CONDITIONS = ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"];

/** A node, the pods bound to it and its events (any order) as `describe_node` reports them; events older than an hour are left out. */
export function nodeState(node: V1Node, pods: V1Pod[], events: KubeEvent[], now: number): NodeState {
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === "Ready");
  const since = ready?.lastTransitionTime !== undefined ? new Date(ready.lastTransitionTime).getTime() : undefined;
  const name = node.metadata?.name ?? "";
  const bound = pods.filter((p) => p.spec?.nodeName === name);
  return {
    name,
    ready: ready?.status === "True" ? "True" : ready?.status === "False" ? "False" : "Unknown",
    ...(since !== undefined && Number.isFinite(since) ? { readySince: since } : {}),
    pressures: conditions.filter((c) => NODE_PROBLEM_CONDITIONS.includes(c.type) && c.status === "True").map((c) => c.type),
    unschedulable: node.spec?.unschedulable === true,
    taints: (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
    pods: bound.length,
    podsNotReady: bound.filter((p) => !(p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)).length,
    events: events.filter((e) => e.t >= now - 3_600_000).sort((a, b) => a.t - b.t),
    ...(node.status?.nodeInfo?.kubeletVersion !== undefined ? { kubeletVersion: node.status.nodeInfo.kubeletVersion } : {}),
    ...(node.metadata?.annotations !== undefined ? { annotations: nodeAnnotations(node.metadata.annotations) } : {}),
    roles: nodeRoles(node.metadata?.labels ?? {}),
  };
}

/** A node's roles as kubectl's ROLES column reads them: `node-role.kubernetes.io/<role>` labels, else `kubernetes.io/role`. */
function nodeRoles(labels: Record<string, string>): string[] {
  const roles = Object.keys(labels)
    .filter((key) => key.startsWith("node-role.kubernetes.io/"))
    .map((key) => key.slice("node-role.kubernetes.io/".length) || (labels[key] ?? ""))
    .filter((role) => role !== "");
  const legacy = labels["kubernetes.io/role"];
  if (legacy !== undefined && legacy !== "" && !roles.includes(legacy)) roles.push(legacy);
  return roles.sort();
}

/** Annotations that are records, not machinery: kubectl's last-applied copy is dropped, long values clipped. */
function nodeAnnotations(annotations: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations).sort(([a], [b]) => a.localeCompare(b))) {
    if (key === "kubectl.kubernetes.io/last-applied-configuration") continue;
    kept[key] = value.length > 300 ? `${value.slice(0, 297)}…` : value;
  }
  return kept;
}

/**
 * The cluster as `describe_cluster` reports it: every node as `describe_node` would (its events
 * picked from one list), and the pods the scheduler could not place (Pending, PodScheduled False).
 */
export function clusterState(nodes: V1Node[], pods: V1Pod[], nodeEvents: CoreV1Event[], now: number): ClusterState {
  const about = (name: string): KubeEvent[] => nodeEvents.filter((e) => e.involvedObject.kind === "Node" && e.involvedObject.name === name).map(kubeEvent);
  return {
    nodes: nodes.map((n) => nodeState(n, pods, about(n.metadata?.name ?? ""), now)).sort((a, b) => a.name.localeCompare(b.name)),
    unschedulablePods: pods
      .filter((p) => p.status?.phase === "Pending")
      .flatMap((p) => {
        const scheduled = p.status?.conditions?.find((c) => c.type === "PodScheduled");
        if (scheduled?.status !== "False") return [];
        return [{ namespace: p.metadata?.namespace ?? "", name: p.metadata?.name ?? "", message: (scheduled.message ?? scheduled.reason ?? "").slice(0, 300) }];
      }),
  };
}

/** The Secrets a pod template consumes (env secretKeyRef, envFrom secretRef, secret volumes), by name, sorted. */
export function secretRefsOf(template: V1PodTemplateSpec | undefined): string[] {
  const spec = template?.spec;
  const names = new Set<string>();
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name !== undefined) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name !== undefined) names.add(e.secretRef.name);
  }
  for (const v of spec?.volumes ?? []) if (v.secret?.secretName !== undefined) names.add(v.secret.secretName);
  return [...names].sort();
}

/** How long an event stays evidence about a Secret: the API server's default event TTL. */
const SECRET_WARNING_WINDOW_MS = 60 * 60_000;

/**
 * Warning events about the Secrets a workload consumes, from a cluster-wide list: the message
 * names `<namespace>/<secret>`, or the involved object has the Secret's namespace and name (an
 * ExternalSecret or SealedSecret is named like the Secret it writes). Oldest first, last hour.
 */
export function secretWarnings(events: readonly CoreV1Event[], namespace: string, secrets: readonly string[], now: number): KubeEvent[] {
  if (secrets.length === 0) return [];
  const about = (e: CoreV1Event): boolean =>
    secrets.some((name) => (e.message ?? "").includes(`${namespace}/${name}`) || (e.involvedObject.namespace === namespace && e.involvedObject.name === name && e.involvedObject.kind !== "Pod"));
  return events
    .filter((e) => e.type === "Warning" && about(e))
    .map(kubeEvent)
    .filter((e) => now - e.t <= SECRET_WARNING_WINDOW_MS)
    .sort((a, b) => a.t - b.t);
}
