import type { StateSnapshot } from "@langchain/langgraph";
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import type { IncidentStateValue } from "../graphs/state.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import { resumeIncident, type RunOptions, type RunResult } from "./advance.js";
import { persistEnvironment } from "./worlds.js";
import { openWorldId } from "../store/environments.js";
import { newIncidentId } from "../store/incidents.js";
import type { Suture } from "./suture.js";
import { ConflictError } from "../domain/errors.js";

/** How to replay. */
export interface ReplayOptions extends RunOptions {
  /** Checkpoint id (or a unique prefix) to fork from. */
  from: string;
  /** Run remediation tools against the replay's private copy of the world; default: stop before act. */
  live?: boolean;
}

/** Thrown when a replay cannot start from what was named (no such checkpoint, nothing left, no saved world); nothing was written. */
export class ReplayError extends ConflictError {
  constructor(message: string) {
    super(message);
    this.name = "ReplayError";
  }
}

async function history(suture: Suture, incidentId: string): Promise<StateSnapshot[]> {
  const snapshots: StateSnapshot[] = [];
  for await (const s of suture.graph.getStateHistory({ configurable: { thread_id: incidentId } })) snapshots.push(s);
  return snapshots.reverse();
}

function checkpointId(s: StateSnapshot): string {
  return String(s.config.configurable?.["checkpoint_id"] ?? "");
}

/**
 * Rebuilds the world as it was at a checkpoint: the world at the incident's opening, with the
 * actions (and rollbacks) the original had executed by then re-applied at their times. The
 * simulator is deterministic, so this is the world the original saw.
 */
async function worldAt(suture: Suture, sourceId: string, values: IncidentStateValue): Promise<{ env: SimEnvironment; spec: unknown }> {
  const saved = await suture.store.loadEnvironment(openWorldId(sourceId));
  if (saved === undefined) throw new ReplayError(`incident "${sourceId}" has no saved opening world; it cannot be replayed`);
  const env = SimEnvironment.fromJSON(saved.state);
  for (const a of values.attempts.filter((x) => x.status === "executed")) {
    await env.advanceTo(a.executedAt);
    await suture.tools.get(a.call.tool).run(a.call.params, env, a.idempotencyKey);
    if (a.rolledBack && a.rollback !== null && a.after !== undefined) {
      await env.advanceTo(a.after.at);
      await suture.tools.get(a.rollback.tool).run(a.rollback.params, env, `${a.idempotencyKey}:rollback`);
    }
  }
  const last = values.timeline[values.timeline.length - 1];
  if (last !== undefined) await env.advanceTo(last.at);
  return { env, spec: saved.spec };
}

/**
 * Copies a checkpoint into another thread as the fork's first checkpoint, owned by the replay's
 * incident. Pending writes are not copied: they are the results of the steps that ran from this
 * checkpoint in the original, which the replay must run again.
 */
async function copyCheckpoint(suture: Suture, tuple: CheckpointTuple, threadId: string, sourceId: string): Promise<void> {
  const target = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
  const checkpoint = structuredClone(tuple.checkpoint);
  checkpoint.channel_values["incidentId"] = threadId;
  const metadata = { ...(tuple.metadata ?? { source: "fork" as const, step: -1, parents: {} }), source: "fork" as const, forked_from: sourceId };
  await suture.checkpointer.put(target, checkpoint, metadata, checkpoint.channel_versions);
}

/**
 * Forks a new incident from one of another incident's checkpoints and runs the rest of the
 * graph with this Suture's policy and reasoners. Read-tool results recorded in state are reused;
 * memory is seen as it was when the original opened. The original is never modified.
 */
export async function replayIncident(suture: Suture, sourceId: string, options: ReplayOptions): Promise<RunResult & { forkedFrom: string; checkpoint: string }> {
  const source = await suture.store.getIncident(sourceId);
  const snapshots = await history(suture, sourceId);
  const matches = snapshots.filter((s) => checkpointId(s).startsWith(options.from));
  if (matches.length !== 1) {
    throw new ReplayError(
      matches.length === 0
        ? `incident "${sourceId}" has no checkpoint "${options.from}"; list them with \`suture history ${sourceId}\``
        : `checkpoint prefix "${options.from}" matches ${matches.length} checkpoints of "${sourceId}"; give more characters`,
    );
  }
  const snapshot = matches[0] as StateSnapshot;
  if (snapshot.next.length === 0) throw new ReplayError(`checkpoint ${checkpointId(snapshot)} is the end of "${sourceId}"; nothing is left to replay`);
  const tuple = await suture.checkpointer.getTuple(snapshot.config);
  if (tuple === undefined) throw new ReplayError(`checkpoint ${checkpointId(snapshot)} could not be read`);
  // The input checkpoint holds no state yet; the alert comes from the incident's latest state.
  const latest = snapshots[snapshots.length - 1]?.values as IncidentStateValue;
  const values = { ...latest, attempts: [], timeline: [], ...(snapshot.values as Partial<IncidentStateValue>) } as IncidentStateValue;
  const { env, spec } = await worldAt(suture, sourceId, values);

  const replayId = newIncidentId();
  await suture.store.createIncident({
    id: replayId,
    alert: values.alert,
    ...(source.scenario !== null ? { scenario: source.scenario } : {}),
    environmentId: replayId,
    forkedFrom: sourceId,
    forkedAtCheckpoint: checkpointId(snapshot),
    replayMode: options.live === true ? "live" : "dry-run",
  });
  await suture.store.saveEnvironment(openWorldId(replayId), "sim", spec, env.toJSON());
  await suture.store.saveEnvironment(replayId, "sim", spec, env.toJSON());
  persistEnvironment(suture, replayId, spec, env);
  const fromInput = snapshot.next.includes("__start__");
  if (!fromInput) await copyCheckpoint(suture, tuple, replayId, sourceId);
  await suture.store.audit({
    incidentId: replayId,
    actor: "suture",
    kind: "replay",
    summary: `replay of ${sourceId} from checkpoint ${checkpointId(snapshot)} (${options.live === true ? "live on a private copy of the world" : "dry run: stops before any action"})`,
    detail: { sourceId, checkpoint: checkpointId(snapshot), policy: suture.policy.policy },
  });
  const replaySuture: Suture = { ...suture, memory: suture.memory.asOf(source.opened_at, [sourceId]) };
  // From the very first checkpoint the replay is the whole incident again, from the same alert;
  // otherwise it continues from the copied checkpoint. A dry run needs no option here:
  // policy-check ends it where it would act (replay_mode).
  const result = await resumeIncident(replaySuture, replayId, { ...options, alert: values.alert });
  return { ...result, forkedFrom: sourceId, checkpoint: checkpointId(snapshot) };
}
