import type { AlertTarget } from "../domain/alerts/target.js";
import type { Evidence } from "../domain/model.js";
import type { NodeState } from "../environments/adapter.js";

type FactDraft = Omit<Evidence, "id" | "attrs"> & { attrs?: Evidence["attrs"] };

const MINUTE = 60_000;

/**
 * `target.object`: the alert is about a cluster object Suture reads but does not change (a node,
 * a job, a quota, a volume no pod mounts). Rules that would change a workload cannot bind to it;
 * rules that close or escalate an alert can.
 */
export function targetObjectFact(service: string, target: AlertTarget): FactDraft {
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
