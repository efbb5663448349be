import type { KubeEvent } from "./adapter.js";

/** The deployment controller's words for scaling a ReplicaSet down (older and newer kube-controller-manager). */
const SCALED_DOWN = /Scaled down replica set \S+ (?:to (\d+) from (\d+)|from (\d+) to (\d+))\b/;

/** A scale-down the deployment controller reported: from how many replicas to how many, and when. */
export interface ScaleDown {
  from: number;
  to: number;
  at: number;
}

/**
 * The newest scale-down of a workload that left it at `current` replicas, read from its
 * ScalingReplicaSet events (the cluster's own record, never a model's): what the workload ran with
 * before someone or something scaled it down to where it is now. Undefined when no such event.
 */
export function lastScaleDownTo(events: readonly KubeEvent[], current: number): ScaleDown | undefined {
  const found = [...events]
    .filter((e) => e.reason === "ScalingReplicaSet")
    .sort((a, b) => b.t - a.t)
    .map((e) => {
      const m = SCALED_DOWN.exec(e.message);
      if (m === null) return undefined;
      const [to, from] = m[1] !== undefined ? [Number(m[1]), Number(m[2])] : [Number(m[4]), Number(m[3])];
      return { from, to, at: e.t };
    })
    .find((s) => s !== undefined);
  return found !== undefined && found.to === current && found.from > found.to ? found : undefined;
}
