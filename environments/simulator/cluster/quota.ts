import { parseCpuCores, parseMemoryMib, type Pod, type PodTemplate, type ResourceQuota } from "./objects.js";
import type { ClusterStore } from "./store.js";

/**
 * ResourceQuota admission and the quota controller: a pod whose creation would take a
 * namespace's usage of a quota'd resource above `spec.hard` is refused with the API server's
 * message; `status.used` follows the pods in the namespace.
 */

/** Quota resources the simulator counts, and how to read a pod's share of each. */
const RESOURCES: Record<string, { memory: boolean; of: (spec: PodTemplate["spec"]) => number }> = {
  pods: { memory: false, of: () => 1 },
  "requests.cpu": { memory: false, of: (s) => sum(s, (c) => parseCpuCores(c.resources?.requests?.cpu)) },
  cpu: { memory: false, of: (s) => sum(s, (c) => parseCpuCores(c.resources?.requests?.cpu)) },
  "requests.memory": { memory: true, of: (s) => sum(s, (c) => parseMemoryMib(c.resources?.requests?.memory)) },
  memory: { memory: true, of: (s) => sum(s, (c) => parseMemoryMib(c.resources?.requests?.memory)) },
  "limits.cpu": { memory: false, of: (s) => sum(s, (c) => parseCpuCores(c.resources?.limits?.cpu)) },
  "limits.memory": { memory: true, of: (s) => sum(s, (c) => parseMemoryMib(c.resources?.limits?.memory)) },
};

function sum(spec: PodTemplate["spec"], read: (c: PodTemplate["spec"]["containers"][number]) => number | undefined): number {
  return spec.containers.reduce((n, c) => n + (read(c) ?? 0), 0);
}

/** A quantity as the API server prints it: memory in Gi when whole, else Mi; CPU in cores or millicores; counts as numbers. */
function quantity(resource: string, value: number): string {
  const r = RESOURCES[resource];
  if (r === undefined || resource === "pods") return String(Math.round(value));
  if (r.memory) return value % 1024 === 0 ? `${value / 1024}Gi` : `${Math.round(value)}Mi`;
  return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
}

function parse(resource: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const r = RESOURCES[resource];
  if (r === undefined) return undefined;
  if (resource === "pods") return Number(text);
  return r.memory ? parseMemoryMib(text) : parseCpuCores(text);
}

/** Usage of each hard resource of a quota by the pods in its namespace. */
export function quotaUsage(store: ClusterStore, quota: ResourceQuota, pods?: Pod[]): Record<string, number> {
  const inNamespace = pods ?? store.list("Pod", quota.metadata.namespace);
  const used: Record<string, number> = {};
  for (const resource of Object.keys(quota.spec?.hard ?? {})) {
    const r = RESOURCES[resource];
    if (r === undefined) continue;
    used[resource] = inNamespace.reduce((n, p) => n + r.of(p.spec), 0);
  }
  return used;
}

/** The admission error for creating a pod of `spec` in `namespace` (named by its generateName prefix), or undefined when every quota admits it. */
export function quotaRefusal(store: ClusterStore, namespace: string, podName: string, spec: PodTemplate["spec"]): string | undefined {
  for (const quota of store.list("ResourceQuota", namespace)) {
    const used = quotaUsage(store, quota);
    const exceeded: string[] = [];
    for (const [resource, hardText] of Object.entries(quota.spec?.hard ?? {})) {
      const r = RESOURCES[resource];
      const hard = parse(resource, hardText);
      if (r === undefined || hard === undefined) continue;
      const requested = r.of(spec);
      if (requested > 0 && (used[resource] ?? 0) + requested > hard + 1e-9) exceeded.push(resource);
    }
    if (exceeded.length === 0) continue;
    const list = (f: (res: string) => string) => exceeded.map((res) => `${res}=${f(res)}`).join(",");
    return `pods "${podName}" is forbidden: exceeded quota: ${quota.metadata.name}, requested: ${list((res) => quantity(res, RESOURCES[res]?.of(spec) ?? 0))}, used: ${list((res) => quantity(res, used[res] ?? 0))}, limited: ${list((res) => quantity(res, parse(res, quota.spec?.hard?.[res]) ?? 0))}`;
  }
  return undefined;
}

/** The quota controller: keeps each quota's `status.hard` and `status.used` current. */
export function updateQuotaStatus(store: ClusterStore): void {
  for (const quota of store.list("ResourceQuota")) {
    const used = quotaUsage(store, quota);
    const status = { hard: { ...(quota.spec?.hard ?? {}) }, used: Object.fromEntries(Object.entries(used).map(([k, v]) => [k, quantity(k, v)])) };
    if (JSON.stringify(status) === JSON.stringify(quota.status ?? {})) continue;
    quota.status = status;
    store.touch(quota);
  }
}
