import type { Alert } from "../domain/alerts/alert.js";
import type { Evidence } from "../domain/model.js";
import { alertTextClasses, splitAlertName } from "./alert-text.js";

type FactDraft = Omit<Evidence, "id" | "attrs"> & { attrs?: Evidence["attrs"] };

/** Below this share used, a volume is not "filling up" whatever the alert said when it was evaluated (kube-prometheus fires at < 15 % free). */
const VOLUME_ROOM_PCT = 75;
/**
 * Below this share of its memory limit, the fullest pod's working set (what the OOM killer and
 * eviction count) is not "near the limit", whatever a figure that counts reclaimable page cache says.
 */
const MEMORY_ROOM_SHARE = 0.75;
/** Memory alerts about something other than the container's working set against its limit: a runtime's heap, a cache, a node. */
const NOT_CONTAINER_MEMORY = /\b(heap|jvm|gc|garbage|node|host|redis|cache|swap|overcommit|pressure|commit(ted)?|forecast|predict\w*)\b/i;

/**
 * What an alert's *name* says is wrong with its object, in the terms of the state perceive reads.
 * Only the name: it is the rule's identity (KubeDeploymentReplicasMismatch, KubePersistentVolumeFillingUp,
 * KubeHpaMaxedOut…), while summaries and descriptions mention many things in passing.
 */
type Claim = "replicas" | "volume" | "autoscaler" | "rollout" | "memory";

/** Names of rules that say a workload's update has not reached all its pods (KubeStatefulSetUpdateNotRolledOut, KubeDaemonSetRolloutStuck…). */
const ROLLOUT_WORDS = /\b(update not rolled out|not rolled out|rollout stuck|rollout not progressing|generation mismatch)\b/i;

function claimsOf(alert: Alert): Claim[] {
  const name = splitAlertName(alert.labels["alertname"] ?? alert.name);
  const classes = new Set(alertTextClasses(name).map((c) => c.cls));
  const claims: Claim[] = [];
  if (ROLLOUT_WORDS.test(name)) return ["rollout"];
  // "Kube Pod Not Ready", "Kube Deployment Replicas Mismatch", "Kube Stateful Set Replicas Mismatch".
  if (classes.has("replicas") || classes.has("not_ready")) claims.push("replicas");
  if (classes.has("disk")) claims.push("volume");
  if (classes.has("autoscaler")) claims.push("autoscaler");
  // "Container Memory Usage High", "Kube Container Memory Near Limit": a container's usage against its limit.
  if (classes.has("memory") && !NOT_CONTAINER_MEMORY.test(name)) claims.push("memory");
  return claims;
}

const CLAIM_WORDS: Record<Claim, string> = {
  replicas: "ready replicas are short",
  volume: "a volume is filling up",
  autoscaler: "the autoscaler is at its maximum",
  rollout: "an update has not reached every pod",
  memory: "a container's memory is near its limit",
};

function facts(drafts: FactDraft[], service: string, key: string): FactDraft[] {
  return drafts.filter((d) => d.service === service && d.key === key);
}

/** Whether the claim holds against the alerting workload's state now, and what was seen; undefined when the state was not read. */
function check(claim: Claim, drafts: FactDraft[], service: string): { holds: boolean; observed: string } | undefined {
  switch (claim) {
    case "replicas": {
      const replicas = facts(drafts, service, "replicas.desired")[0];
      if (replicas === undefined) return undefined;
      const desired = Number(replicas.value);
      const ready = Number(replicas.attrs?.["ready"] ?? 0);
      const notReady = facts(drafts, service, "pod.not_ready").reduce((n, d) => n + Number(d.value), 0);
      const waiting = facts(drafts, service, "pod.reason").reduce((n, d) => n + Number(d.attrs?.["count"] ?? 0), 0);
      // What the metrics say too: the series the alert itself was evaluated on may see what the object read missed.
      const metric = facts(drafts, service, "metric.ready_replicas")[0];
      const measured = metric !== undefined ? Number(metric.value) : undefined;
      const holds = desired === 0 || ready < desired || notReady > 0 || waiting > 0 || (measured !== undefined && measured < desired);
      return {
        holds,
        observed: `${ready}/${desired} replicas ready${measured !== undefined ? ` (${measured} in the metrics)` : ""}, ${notReady} not ready, ${waiting} waiting or failing`,
      };
    }
    case "volume": {
      const volumes = [...facts(drafts, service, "disk.usage_pct"), ...facts(drafts, service, "metric.disk_usage_pct")];
      if (volumes.length === 0) return undefined;
      const fullest = Math.max(...volumes.map((d) => Number(d.value)));
      return { holds: fullest >= VOLUME_ROOM_PCT, observed: `fullest volume ${fullest}% used` };
    }
    case "rollout": {
      const replicas = facts(drafts, service, "replicas.desired")[0];
      if (replicas === undefined) return undefined;
      const held = facts(drafts, service, "rollout.held")[0];
      const older = held !== undefined ? Number(held.value) : 0;
      const compare = facts(drafts, service, "revision.compare")[0];
      const newNotReady = compare !== undefined ? Number(compare.attrs?.["new_pods"] ?? 0) - Number(compare.attrs?.["new_ready"] ?? 0) : 0;
      return { holds: older > 0 || newNotReady > 0, observed: `${older} pod(s) on an older revision, ${newNotReady} of the new revision not ready` };
    }
    case "memory": {
      const limit = Number(facts(drafts, service, "replicas.desired")[0]?.attrs?.["memory_limit_mib"] ?? 0);
      const usage = facts(drafts, service, "metric.memory_mib")[0];
      if (!(limit > 0) || usage === undefined) return undefined;
      // The fullest pod's working set now and at its peak in the window read.
      const worst = Math.max(Number(usage.value), Number(usage.attrs?.["max"] ?? 0));
      const share = worst / limit;
      const killed = facts(drafts, service, "pod.last_termination").some((d) => /oom/i.test(String(d.value)));
      return {
        holds: share >= MEMORY_ROOM_SHARE || killed,
        observed: `working set at most ${Math.round(worst)} MiB of its ${limit} MiB limit (${Math.round(share * 100)}%)${killed ? ", a container OOM-killed" : ", no OOM kill"}`,
      };
    }
    case "autoscaler": {
      const hpa = facts(drafts, service, "hpa.state")[0];
      if (hpa === undefined) return undefined;
      const atMax = hpa.attrs?.["at_max"] === true;
      return {
        holds: atMax,
        observed: `HorizontalPodAutoscaler ${String(hpa.attrs?.["hpa"] ?? "")} at ${String(hpa.value)} of max ${String(hpa.attrs?.["max"] ?? "")}${atMax ? " (at its maximum)" : ""}`,
      };
    }
  }
}

/**
 * `alert.claim`: what the alert's name says is wrong (ready replicas short, a volume filling, an
 * autoscaler maxed out), checked against the alerting workload's state as perceive read it now.
 * `holds_now` false means the object contradicts its alert: the notification reports an
 * evaluation the cluster no longer matches (a finished rollout, a volume already expanded, or an
 * alert from another cluster with the same names). The alert's words only choose what to check.
 */
export function alertClaimFacts(alert: Alert, drafts: FactDraft[]): FactDraft[] {
  const out: FactDraft[] = [];
  for (const claim of claimsOf(alert)) {
    const result = check(claim, drafts, alert.service);
    if (result === undefined) continue;
    out.push({
      key: "alert.claim",
      service: alert.service,
      value: claim,
      summary: `${alert.name} claims ${CLAIM_WORDS[claim]}; now ${result.holds ? "it holds" : "it does not hold"}: ${result.observed}`,
      attrs: { holds_now: result.holds, observed: result.observed },
    });
  }
  return out;
}
