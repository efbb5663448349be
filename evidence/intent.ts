/** A change cause recording a scale (`kubectl scale`, `--replicas`, "scale … to N"). */
const SCALE_CHANGE = /\bkubectl scale\b|--replicas\b|\bscaled? (down |up )?(\S+ )?to \d+\b|\breplicas ?= ?\d+\b/i;
/** Words that give a scale a reason to stay: maintenance, a freeze, a planned migration, "keep at", "do not scale", a deadline. */
const HOLD_REASON =
  /\bmaintenance\b|\b(writes?|traffic) (are |is )?frozen\b|\bfreez(e|ing) (writes|traffic)\b|\bplanned (outage|downtime|maintenance|migration|work)\b|\bmigration\b|\bkeep (it |them )?(at|replicas)\b|\bdo not scale\b|\bdon'?t scale\b|\buntil \d{1,2}:\d{2}/i;

/**
 * Whether a workload's own change cause (left by the last `kubectl scale --record` or annotate)
 * says it was scaled on purpose and should stay so for now: a scale with a maintenance, freeze or
 * migration reason, or a "keep at"/"until" hold. Scaling it back is then a human's decision.
 */
export function isDeliberateHold(changeCause: string | undefined): boolean {
  if (changeCause === undefined) return false;
  const text = changeCause.slice(0, 2000);
  return SCALE_CHANGE.test(text) && HOLD_REASON.test(text);
}
