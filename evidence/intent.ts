/** A change cause recording a scale (`kubectl scale`, `--replicas`, "scale … to N"). */
const SCALE_CHANGE = /\bkubectl scale\b|--replicas\b|\bscaled? (down |up )?(\S+ )?to \d+\b|\breplicas ?= ?\d+\b/i;
/** Words that give a scale a reason to stay: maintenance, a freeze, a planned migration, "keep at", "do not scale", a deadline. */
const HOLD_REASON =
  /\bmaintenance\b|\b(writes?|traffic) (are |is )?frozen\b|\bfreez(e|ing) (writes|traffic)\b|\bplanned (outage|downtime|maintenance|migration|work)\b|\bmigration\b|\bkeep (it |them )?(at|replicas)\b|\bdo not scale\b|\bdon'?t scale\b|\buntil \d{1,2}:\d{2}/i;

/** Words that mark a change as planned and approved: a maintenance window or mode, a scheduled change, a CAB approval, "do not revert". */
const PLANNED_CHANGE =
  /\bmaintenance\b|\bscheduled (change|downtime|window|outage)\b|\bchange window\b|\bplanned (outage|downtime|maintenance|change|work)\b|\bcab[- ]approved\b|\bdo not (revert|roll ?back|undo)\b|\bdon'?t (revert|roll ?back|undo)\b/i;

/**
 * The first of a ConfigMap change's own records that says it was planned — who made it, the keys
 * and values it changed, the ConfigMap's annotations — as `source: text` (clipped); "" when none.
 */
export function plannedChangeNote(records: Array<[string, string]>): string {
  for (const [source, text] of records) {
    const clipped = text.slice(0, 2000);
    if (PLANNED_CHANGE.test(clipped)) return `${source}: ${clipped.slice(0, 200)}`;
  }
  return "";
}

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
