import { CallTally } from "../domain/self-calls.js";
import { instrumentAdapter } from "../environments/instrumented.js";
import { Command, type StateSnapshot } from "@langchain/langgraph";
import { AlertSchema, type Alert } from "../domain/alerts/alert.js";
import { awaitedApproval, type ApprovalAnswer, type ApprovalRequest } from "../domain/approval.js";
import type { Clock } from "../domain/clock.js";
import { TERMINAL_STATUSES } from "../domain/incident.js";
import type { TimelineEntry } from "../domain/model.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";
import type { SimEnvironment } from "../environments/simulator/index.js";
import type { SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";
import { firstFiringAlert } from "../store/alerts.js";
import { pruneAppliedWrites } from "../store/checkpoints.js";
import { claimIncident, UnknownIncidentError, type IncidentRow } from "../store/incidents.js";
import { faultCallbacks, faultAfterNode } from "./fault-points.js";
import { describeOperatorStep, operatorStep } from "./operator-step.js";
import type { Suture } from "./suture.js";
import { loadEnvironment, openIncidentWorld } from "./worlds.js";
import { alongPath, DEFAULT_PERCEPTION_PATH, type PerceptionPath } from "./sim-kubernetes.js";
import { ConflictError } from "../domain/errors.js";
import { describeTarget, targetEscalation } from "../domain/alerts/target.js";
import { describeResolution, resolveIncidentTarget } from "./alert-targets.js";
import { clusterEnvironmentId, clusterNamespaceOf } from "./cluster.js";
import { awaitedSettle, settleDue, settleContinuation, type Continuation, type SettleResume, type SettleWait } from "../domain/settle.js";
import { WorkloadSettlingError } from "../policy/workload-changes.js";

/**
 * Steps one run of the graph may take: verify looks at a settle window every 15 s (a step each),
 * so a few attempts with long settle intervals take far more than LangGraph's default of 25.
 */
export const GRAPH_STEP_LIMIT = 1000;

/** An environment the graph can run against: its adapter and its clock. */
export type RunnableEnvironment = EnvironmentAdapter & { readonly clock: Clock };

/** Called with each node's timeline entries as the graph streams them. */
export type TimelineListener = (entries: TimelineEntry[], node: string) => void | Promise<void>;

/** How to run an incident's graph. */
export interface RunOptions {
  onTimeline?: TimelineListener;
  /** Pause before these nodes (tests stop a run at a chosen step). */
  interruptBefore?: Array<"policy-check" | "act" | "verify">;
  /** Called after each node with its duration in seconds (metrics). */
  onNodeDone?: (node: string, seconds: number) => void;
  /** Stops the run between steps (a worker whose job claim was lost must stop working on it). */
  signal?: AbortSignal;
}

/** The end of a run: the incident, its graph state, and the approval or settle deadline it waits for, if any. */
export interface RunResult<E extends RunnableEnvironment = SimEnvironment> {
  incidentId: string;
  state: IncidentStateValue;
  env: E;
  awaitingApproval?: ApprovalRequest;
  awaitingSettle?: SettleWait;
}

/** What to advance an incident with, besides its stored state. */
export interface AdvanceOptions<E extends RunnableEnvironment> extends RunOptions {
  /** The world to run against. */
  env: E;
  /** A human's decision for an incident paused for one (default: the decision recorded, if any). */
  answer?: ApprovalAnswer;
  /** The alert to start from (default: the incident's first firing alert). */
  alert?: Alert;
}

/** What starts or continues a run: the alert, a resume command, or nothing (continue from the checkpoint). */
type GraphInput = { incidentId: string; alert: Alert } | Command<ApprovalAnswer | SettleResume, Record<string, never>, never> | null;

/** Where a run stopped: the state, and the approval or settle deadline it waits for, if any. */
type RunEnd = { state: IncidentStateValue; awaitingApproval?: ApprovalRequest; awaitingSettle?: SettleWait };

/** Thrown when an incident cannot be advanced now (it waits for a human); the message names the command that can. */
export class CannotAdvanceError extends ConflictError {
  constructor(message: string) {
    super(message);
    this.name = "CannotAdvanceError";
  }
}

/** Thrown when an incident waits for a deadline (its action settling, or another incident's) that has not come; a worker continues it then. */
export class NotDueError extends CannotAdvanceError {
  constructor(
    message: string,
    readonly continuation: Continuation,
  ) {
    super(message);
    this.name = "NotDueError";
  }
}

/** The services the graph's nodes get for one run (its runtime context). */
export function contextFor(suture: Suture, env: RunnableEnvironment): SutureContext {
  return {
    env,
    tools: suture.tools,
    reasoners: suture.reasoners,
    memoryAdjusts: suture.memoryAdjusts,
    silencer: suture.silencer ?? null,
    policy: suture.policy,
    clock: env.clock,
    store: suture.store,
    notifier: suture.notifier,
    memory: suture.memory,
    locks: suture.locks,
  };
}

/** The state in a snapshot and, when paused, the approval request it waits on. */
function runEnd(snapshot: StateSnapshot): RunEnd {
  const pending = awaitedApproval(snapshot);
  const settling = awaitedSettle(snapshot);
  return { state: snapshot.values as IncidentStateValue, ...(pending !== undefined ? { awaitingApproval: pending } : {}), ...(settling !== undefined ? { awaitingSettle: settling } : {}) };
}

/** The thread's state and, when paused, the approval request it waits on. */
export async function currentState(suture: Suture, incidentId: string): Promise<RunEnd> {
  return runEnd(await suture.graph.getState({ configurable: { thread_id: incidentId } }));
}

/**
 * What to do with an incident's thread: `start` from the alert when nothing was checkpointed;
 * `record-outcome` when the graph finished but its status was not stored; otherwise `continue`
 * from the last checkpoint. A step whose node finished but whose checkpoint was never written
 * (the process died in between) shows no `next`, only a task with saved writes: continuing
 * applies them, whereas starting over would perceive a world the lost step already changed and
 * act on it again.
 */
export function nextMove(snapshot: { next: readonly string[]; tasks: readonly unknown[]; values: unknown }): "start" | "continue" | "record-outcome" {
  if (snapshot.next.length > 0 || snapshot.tasks.length > 0) return "continue";
  if ((snapshot.values as Partial<IncidentStateValue> | undefined)?.outcome != null) return "record-outcome";
  return "start";
}

/**
 * Runs the graph for one incident until it ends or pauses, streaming timeline entries. Workload
 * locks the incident took are released when the run stops, however it stops.
 */
async function streamGraph(suture: Suture, incidentId: string, input: GraphInput, world: RunnableEnvironment, options: RunOptions): Promise<RunEnd> {
  // Every adapter call of the run is timed, bounded and counted; the counts are written once, at the end.
  const calls = new CallTally();
  const env = instrumentAdapter(world, calls, suture.adapterLimits);
  try {
    const config = {
      configurable: { thread_id: incidentId },
      context: contextFor(suture, env),
      durability: "sync" as const,
      recursionLimit: GRAPH_STEP_LIMIT,
      callbacks: faultCallbacks(),
      ...(options.interruptBefore !== undefined ? { interruptBefore: options.interruptBefore } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    };
    const stream = await suture.graph.stream(input, { ...config, streamMode: "updates" as const });
    let stepStarted = performance.now();
    for await (const chunk of stream) {
      for (const [node, update] of Object.entries(chunk as Record<string, { timeline?: TimelineEntry[] } | null>)) {
        // Nodes run one after another, so the time since the previous update is this node's.
        options.onNodeDone?.(node, (performance.now() - stepStarted) / 1000);
        stepStarted = performance.now();
        const entries = update?.timeline ?? [];
        if (entries.length > 0) await options.onTimeline?.(entries, node);
        await faultAfterNode(node);
      }
    }
    await pruneAppliedWrites(suture.db.pool, incidentId);
    return await currentState(suture, incidentId);
  } finally {
    await suture.locks.releaseIncident(incidentId);
    await recordCalls(suture, incidentId, calls);
  }
}

/** Writes a run's adapter call counts. Best effort: a count that cannot be written must not fail the run it describes. */
async function recordCalls(suture: Suture, incidentId: string, calls: CallTally): Promise<void> {
  try {
    await suture.store.recordSelfCalls(incidentId, calls.drain());
  } catch (error) {
    console.warn(`suture: adapter call counts of ${incidentId} not recorded: ${(error as Error).message}`);
  }
}

/**
 * Advances an incident as far as it can go now: the one path from a stored incident to its graph,
 * used by workers, `suture run|resume|approve|reject|tick`, the demo, evaluation and replays. Reads
 * the thread once, then starts it from its alert when nothing was checkpointed, continues it from
 * its last checkpoint (with a human's decision, given or recorded, when it is paused for one), or
 * records the outcome of a graph that finished before its status was stored.
 */
export async function advanceIncident<E extends RunnableEnvironment>(suture: Suture, incidentId: string, options: AdvanceOptions<E>): Promise<RunResult<E>> {
  const { env } = options;
  const snapshot = await suture.graph.getState({ configurable: { thread_id: incidentId } });
  const move = nextMove(snapshot);
  if (move === "record-outcome") {
    const end = runEnd(snapshot);
    const outcome = end.state.outcome;
    if (outcome != null) {
      const incident = await suture.store.getIncident(incidentId);
      if (incident.status !== outcome.status) await suture.store.setIncidentStatus(incidentId, outcome.status, outcome.reason);
    }
    return { incidentId, env, ...end };
  }
  if (move === "start") {
    const alert = options.alert ?? AlertSchema.parse(await firstFiringAlert(suture.db.pool, incidentId));
    return { incidentId, env, ...(await streamGraph(suture, incidentId, { incidentId, alert }, env, options)) };
  }
  const settling = awaitedSettle(snapshot);
  if (settling !== undefined) {
    if (options.answer !== undefined) throw new CannotAdvanceError(`incident "${incidentId}" is not awaiting approval: it is letting ${settling.tool} settle until ${settling.until}`);
    if (!settleDue(settling, env.clock.now())) {
      throw new NotDueError(`incident "${incidentId}" cannot resume yet: ${settling.tool} settles until ${settling.until}; a worker continues it at ${settling.until}`, settleContinuation(settling));
    }
    const resume: SettleResume = { kind: "settled", at: new Date(env.clock.now()).toISOString() };
    return { incidentId, env, ...(await streamGraph(suture, incidentId, new Command<SettleResume, Record<string, never>, never>({ resume }), env, options)) };
  }
  const paused = runEnd(snapshot).awaitingApproval;
  let answer = options.answer;
  if (paused !== undefined && answer === undefined) {
    const row = await suture.store.latestApproval(incidentId);
    if (row?.decision == null) {
      // The refusal names the same next step `suture history` prints (one decision, see operatorStep).
      const { status } = await suture.store.getIncident(incidentId);
      const step = operatorStep(incidentId, {
        status,
        next: snapshot.next,
        tasks: snapshot.tasks,
        awaitingApprovalOf: paused.call.tool,
        ...(row !== undefined ? { approval: { decision: row.decision, expiresAt: row.expires_at } } : {}),
      });
      throw new CannotAdvanceError(`incident "${incidentId}" cannot resume: ${describeOperatorStep(step)}`);
    }
    answer = { decision: row.decision, approver: row.approver, note: row.note, call: row.approved_call, at: (row.decided_at ?? new Date()).toISOString() };
  }
  const input = answer !== undefined ? new Command<ApprovalAnswer, Record<string, never>, never>({ resume: answer }) : null;
  return { incidentId, env, ...(await streamGraph(suture, incidentId, input, env, options)) };
}

/** What a queued incident's job did. */
export type JobOutcome = "finished" | "paused" | "settling" | "skipped" | "escalated_no_environment";

/**
 * Runs a queued incident's job: skips an incident that ended or still waits for a human, claims
 * it, escalates it when no environment covers its workload, else advances it in its world.
 */
export async function advanceQueuedIncident(
  suture: Suture,
  incidentId: string,
  options: RunOptions & { onClaim?: (startedAt: Date, openedAt: Date) => void; onWait?: (continuation: Continuation) => Promise<void> } = {},
): Promise<JobOutcome> {
  let incident: IncidentRow;
  try {
    incident = await suture.store.getIncident(incidentId);
  } catch (error) {
    if (error instanceof UnknownIncidentError) return "skipped";
    throw error;
  }
  if (TERMINAL_STATUSES.includes(incident.status)) return "skipped";
  if (incident.status === "awaiting_approval" && (await suture.store.latestApproval(incidentId))?.decision == null) return "skipped";
  const claim = await claimIncident(suture.db.pool, incidentId, suture.locks.worker);
  if (claim === undefined) return "skipped";
  if (claim.first) options.onClaim?.(claim.startedAt, claim.openedAt);
  if (incident.environment_id === null) {
    await escalateWithoutEnvironment(suture, incident);
    return "escalated_no_environment";
  }
  const start = await startingPoint(suture, incident, await openIncidentWorld(suture, incident.environment_id));
  const run = await waitingAware(advanceIncident(suture, incidentId, { ...options, env: start.env, ...(start.alert !== undefined ? { alert: start.alert } : {}) }));
  if ("continuation" in run) {
    await scheduleWait(run.continuation, options.onWait);
    return "settling";
  }
  if (run.awaitingSettle !== undefined) {
    await scheduleWait(settleContinuation(run.awaitingSettle), options.onWait);
    return "settling";
  }
  return run.awaitingApproval !== undefined ? "paused" : "finished";
}

/**
 * Before an incident's graph first starts, its alert's target is looked up in its world (a pod to
 * its owner…): the graph then runs on that workload, in the cluster namespace it lives in, or
 * escalates with the reason when the target is not a workload. A graph already under way continues as it is.
 */
async function startingPoint(suture: Suture, incident: IncidentRow, env: RunnableEnvironment): Promise<{ env: RunnableEnvironment; alert?: Alert }> {
  if (nextMove(await suture.graph.getState({ configurable: { thread_id: incident.id } })) !== "start") return { env };
  const stored = AlertSchema.parse(await firstFiringAlert(suture.db.pool, incident.id));
  if (stored.target === undefined) return { env, alert: stored };
  const alert = await resolveIncidentTarget(env, stored);
  const after = alert.target ?? stored.target;
  let environmentId = incident.environment_id;
  let world = env;
  const namespace = environmentId !== null ? clusterNamespaceOf(environmentId) : undefined;
  if (namespace !== undefined && alert.service !== "" && alert.namespace !== namespace) {
    // The lookup searched every namespace Suture handles; the incident runs in the one it found.
    environmentId = clusterEnvironmentId(alert.namespace);
    world = await openIncidentWorld(suture, environmentId);
  }
  if (alert.service !== incident.service || environmentId !== incident.environment_id) await suture.store.setIncidentTarget(incident.id, alert.service, environmentId);
  // A node or the cluster is found as surely as a workload; only a target not found is unresolved.
  const unresolved = after.state === "resolved" ? undefined : targetEscalation(after);
  await suture.store.audit({
    incidentId: incident.id,
    actor: "worker",
    kind: unresolved === undefined ? "target_resolved" : "target_unresolved",
    summary: unresolved ?? describeResolution(stored.target, after),
    detail: { before: stored.target, after },
    dedupeKey: `${incident.id}:target`,
  });
  return { env: world, alert };
}

/** A run, or the continuation it must wait for (its deadline has not come). */
async function waitingAware<T>(run: Promise<T>): Promise<T | { continuation: Continuation }> {
  try {
    return await run;
  } catch (error) {
    if (error instanceof NotDueError || error instanceof WorkloadSettlingError) return { continuation: error.continuation };
    throw error;
  }
}

/** Hands a wait to the queue; a job runner that cannot schedule one must not drop it silently. */
async function scheduleWait(continuation: Continuation, onWait: ((continuation: Continuation) => Promise<void>) | undefined): Promise<void> {
  if (onWait === undefined) throw new Error(`incident "${continuation.incidentId}" waits until ${continuation.until.toISOString()}, but this runner cannot schedule its continuation`);
  await onWait(continuation);
}

async function escalateWithoutEnvironment(suture: Suture, incident: IncidentRow): Promise<void> {
  const stored = AlertSchema.safeParse(await firstFiringAlert(suture.db.pool, incident.id));
  const target = stored.success ? stored.data.target : undefined;
  const reason =
    targetEscalation(target) ??
    (target !== undefined && incident.service === ""
      ? `the alert is about ${describeTarget(target)}, and no environment Suture watches covers it (no fleet route or cluster namespace); nothing was observed or changed`
      : `no environment adapter covers workload ${incident.service} (no fleet route for its namespace/service); nothing was observed or changed`);
  await suture.store.setIncidentStatus(incident.id, "escalated", reason);
  await suture.store.audit({
    incidentId: incident.id,
    actor: "worker",
    kind: "escalated",
    summary: reason,
    ...(target !== undefined ? { detail: { target } } : {}),
    dedupeKey: `${incident.id}:outcome`,
  });
  await suture.notifier.notify({
    incidentId: incident.id,
    status: "escalated",
    title: `${incident.alert_name}${incident.service !== "" ? ` on ${incident.service}` : ""}`,
    reason,
    service: incident.service,
  });
}

/**
 * Advances an incident that runs against its own saved world (a scenario run or a replay):
 * `suture resume`, a decision from `suture approve|reject|tick`, a replay.
 */
export async function resumeIncident(
  suture: Suture,
  incidentId: string,
  options: RunOptions & { alert?: Alert; via?: PerceptionPath } = {},
  answer?: ApprovalAnswer,
): Promise<RunResult<SimEnvironment>> {
  const incident = await suture.store.getIncident(incidentId);
  const settling = awaitedSettle(await suture.graph.getState({ configurable: { thread_id: incidentId } }));
  if (settling !== undefined) throw new CannotAdvanceError(`incident "${incidentId}" cannot resume now: ${settling.tool} is settling; a worker continues it at ${settling.until}`);
  const env = await loadEnvironment(suture, incidentId);
  // Continued along the same path a scenario run starts on, so a resumed or approved incident acts through the same adapter.
  const namespace = env.namespaceOf(incident.service) ?? "default";
  const run = await alongPath(env, namespace, options.via ?? DEFAULT_PERCEPTION_PATH, (world) =>
    advanceIncident(suture, incidentId, { ...options, env: world, ...(answer !== undefined ? { answer } : {}) }),
  );
  return { ...run, env };
}
