import type { PolicyCheck } from "../domain/model.js";
import type { PlacementHeadroom, QuotaState, WorkloadDescription } from "../environments/adapter.js";
import { quantityValue } from "../environments/kubernetes/perception.js";
import type { ToolGrowth } from "../tools/tool.js";

const MIB = 1024 ** 2;

/** Quota resources a pod's requests count against; a growth adds to them whenever it adds pods. */
const REQUEST_RESOURCES = new Set(["requests.cpu", "cpu", "requests.memory", "memory"]);

/** One quota'd resource a growth would take past its hard limit. */
interface Shortfall {
  quota: string;
  resource: string;
  /** What the growth adds, in the quota's unit (a count, bytes or cores); NaN when not computable. */
  adds: number;
  used: string;
  hard: string;
}

/**
 * What a growth adds to each quota'd resource, when the workload's spec says: `pods` and the
 * per-pod limits for more replicas, `limits.memory` times the replicas for a higher memory limit.
 * Requests are not in the workload's description, so a growth in replicas is only known to add
 * "some" of them (NaN): it fits only while the quota is not used up.
 */
function additions(growth: ToolGrowth, workload: WorkloadDescription): Map<string, number> {
  const d = workload.deployment;
  const added = new Map<string, number>();
  if (growth.dimension === "replicas") {
    const pods = Math.max(0, growth.to - growth.from);
    if (pods === 0) return added;
    added.set("pods", pods);
    added.set("count/pods", pods);
    if (d.memoryLimitMib > 0 && Number.isFinite(d.memoryLimitMib)) added.set("limits.memory", pods * d.memoryLimitMib * MIB);
    if (d.cpuLimitCores > 0 && Number.isFinite(d.cpuLimitCores)) added.set("limits.cpu", pods * d.cpuLimitCores);
    for (const r of REQUEST_RESOURCES) added.set(r, Number.NaN);
    return added;
  }
  // Every replica is replaced with the higher limit: the namespace must hold all of them at once.
  const perPod = Math.max(0, growth.to - growth.from) * MIB;
  if (perPod > 0) added.set("limits.memory", perPod * Math.max(1, d.desiredReplicas));
  return added;
}

function shortfalls(quotas: QuotaState[], added: Map<string, number>): Shortfall[] {
  const found: Shortfall[] = [];
  for (const quota of quotas) {
    for (const r of quota.resources) {
      const adds = added.get(r.resource);
      if (adds === undefined) continue;
      const hard = quantityValue(r.hard);
      const used = quantityValue(r.used);
      if (Number.isNaN(hard) || Number.isNaN(used)) continue;
      const fits = Number.isNaN(adds) ? used < hard : used + adds <= hard * (1 + 1e-9);
      if (!fits) found.push({ quota: quota.name, resource: r.resource, adds, used: r.used, hard: r.hard });
    }
  }
  return found;
}

function describeAdds(s: Shortfall): string {
  if (Number.isNaN(s.adds)) return "more pods' requests";
  if (s.resource.includes("memory")) return `${Math.round(s.adds / MIB)}Mi`;
  return String(Math.round(s.adds * 1000) / 1000);
}

/**
 * Whether the namespace's ResourceQuotas can admit what a remediation adds (more replicas, a
 * higher memory limit on every replica). A change a quota refuses does not take effect: the new
 * pods fail with FailedCreate and a rollout stalls half-way, so it is denied, not configurable.
 */
export function quotaAdmission(growth: ToolGrowth, workload: WorkloadDescription): PolicyCheck {
  const quotas = workload.quotas ?? [];
  if (quotas.length === 0) return { rule: "quotaAdmission", outcome: "pass", detail: `no ResourceQuota in ${workload.deployment.namespace}` };
  const short = shortfalls(quotas, additions(growth, workload));
  if (short.length === 0) {
    return { rule: "quotaAdmission", outcome: "pass", detail: `the ResourceQuotas of ${workload.deployment.namespace} (${quotas.map((q) => q.name).join(", ")}) admit ${growth.from} → ${growth.to}` };
  }
  const what = short.map((s) => `${s.quota} ${s.resource}: used ${s.used} of ${s.hard}, the change adds ${describeAdds(s)}`).join("; ");
  return {
    rule: "quotaAdmission",
    outcome: "deny",
    detail: `the namespace's ResourceQuota cannot admit ${growth.dimension === "replicas" ? "the extra replicas" : "the higher memory limit on every replica"} (${what}); the new pods would fail with FailedCreate — a human must raise the quota or free room first`,
  };
}

/**
 * Whether the nodes can place the replicas a scale-up adds: fewer places than new pods means the
 * rest stay Pending (FailedScheduling) and add no capacity — adding nodes is a human's (or the
 * cluster autoscaler's) call, so it is denied. Passes when the adapter cannot tell or the pods
 * ask for nothing the nodes count.
 */
export function placementAdmission(growth: ToolGrowth, headroom: PlacementHeadroom | undefined): PolicyCheck {
  const adds = growth.to - growth.from;
  if (growth.dimension !== "replicas" || adds <= 0) return { rule: "placementAdmission", outcome: "pass", detail: "adds no pods" };
  if (headroom === undefined) return { rule: "placementAdmission", outcome: "pass", detail: "the environment does not report node capacity" };
  if (headroom.podsThatFit === null) return { rule: "placementAdmission", outcome: "pass", detail: "the pods request no counted resources, or the nodes declare no capacity" };
  const asks = `${headroom.requests.cpuCores} CPU, ${headroom.requests.memoryMib}Mi each`;
  if (headroom.podsThatFit >= adds) {
    return { rule: "placementAdmission", outcome: "pass", detail: `the ${headroom.eligibleNodes} node(s) it may run on have room for ${headroom.podsThatFit} more pod(s) (${asks}); ${adds} added` };
  }
  return {
    rule: "placementAdmission",
    outcome: "deny",
    detail: `the ${headroom.eligibleNodes} node(s) it may run on (of ${headroom.totalNodes}) have room for ${headroom.podsThatFit} more pod(s) (${asks}), fewer than the ${adds} this adds: the rest would stay Pending — the cluster needs nodes first (a human's or the cluster autoscaler's call)`,
  };
}
