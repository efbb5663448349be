import type { StateSnapshot } from "@langchain/langgraph";
import type { IncidentStateValue } from "../graphs/state.js";
import type { TimelineEntry } from "../domain/model.js";
import { canonicalJson } from "../domain/json.js";
import type { Suture } from "./suture.js";

/** One checkpoint of an incident's thread, described for people. */
export interface HistoryStep {
  step: number;
  checkpointId: string;
  /** The node whose step wrote this checkpoint ("(input)" for the first). */
  node: string;
  /** State keys that changed in this step. */
  changed: string[];
  /** Timeline entries this step added. */
  entries: TimelineEntry[];
  createdAt: string | null;
}

/** An incident's checkpoints, oldest first, and what comes next if it is paused or interrupted. */
export interface IncidentHistory {
  steps: HistoryStep[];
  next: string[];
}

function changedKeys(before: IncidentStateValue | undefined, after: IncidentStateValue): string[] {
  const keys = Object.keys(after) as Array<keyof IncidentStateValue>;
  return keys.filter((k) => before === undefined || canonicalJson(before[k]) !== canonicalJson(after[k]));
}

/** Reads an incident's checkpoint history from the checkpointer. */
export async function incidentHistory(suture: Suture, incidentId: string): Promise<IncidentHistory> {
  const snapshots: StateSnapshot[] = [];
  for await (const s of suture.graph.getStateHistory({ configurable: { thread_id: incidentId } })) snapshots.push(s);
  snapshots.reverse();
  const steps: HistoryStep[] = [];
  let previous: StateSnapshot | undefined;
  for (const s of snapshots) {
    const values = s.values as IncidentStateValue;
    const prevValues = previous?.values as IncidentStateValue | undefined;
    steps.push({
      step: s.metadata?.step ?? -1,
      checkpointId: String(s.config.configurable?.["checkpoint_id"] ?? ""),
      node: previous === undefined ? "(input)" : String(previous.next[0] ?? s.metadata?.source ?? "?"),
      changed: previous === undefined ? ["alert"] : changedKeys(prevValues, values),
      entries: (values.timeline ?? []).slice(prevValues?.timeline.length ?? 0),
      createdAt: s.createdAt ?? null,
    });
    previous = s;
  }
  return { steps, next: [...(snapshots[snapshots.length - 1]?.next ?? [])] };
}
