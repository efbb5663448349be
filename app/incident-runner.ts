import { randomUUID } from "node:crypto";
import { Command } from "@langchain/langgraph";
import { ApprovalRequestSchema, type ApprovalAnswer, type ApprovalRequest } from "../domain/approval.js";
import { parseAlertmanagerWebhook, type Alert } from "../domain/alerts/alert.js";
import type { SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";
import type { TimelineEntry } from "../domain/model.js";
import { TERMINAL_STATUSES, type IncidentStatus } from "../store/incident-store.js";
import type { Scenario, ScenarioAlert } from "./scenario.js";
import type { Clock } from "../domain/clock.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import { PolicyEngine, withSections } from "../policy/policy.js";
import type { Suture } from "./suture.js";

/** An environment the graph can run against: its adapter and its clock. */
export type RunnableEnvironment = EnvironmentAdapter & { readonly clock: Clock };

/** Called with each node's timeline entries as the graph streams them. */
export type TimelineListener = (entries: TimelineEntry[], node: string) => void | Promise<void>;

/** Options for running or resuming an incident. */
export interface RunOptions {
  onTimeline?: TimelineListener;
  /**
   * Fault injection for crash tests: SIGKILL this process as soon as the named node's update is
   * streamed, which can be before its checkpoint is written (a crash between a side effect and
   * its checkpoint).
   */
  crashAfterNode?: string;
  /**
   * Fault injection for crash tests: SIGKILL this process when the named node starts; with
   * durability "sync" every earlier step's checkpoint is already written.
   */
  crashBeforeNode?: string;
  /** Incident id to use (default: a fresh one). */
  incidentId?: string;
  /** Called once the incident is stored, before the graph runs. */
  onOpen?: (incidentId: string, alert: Alert) => void | Promise<void>;
  /** Pause before these nodes (tests stop a run at a chosen step). */
  interruptBefore?: Array<"policy-check" | "act">;
  /** Called after each node with its duration in seconds (metrics). */
  onNodeDone?: (node: string, seconds: number) => void;
  /** Stops the run between steps (a worker whose job claim was lost must stop working on it). */
  signal?: AbortSignal;
}

/** The end of a run: the incident, its graph state, and the approval it waits for, if any. */
export interface RunResult<E extends RunnableEnvironment = SimEnvironment> {
  incidentId: string;
  state: IncidentStateValue;
  env: E;
  awaitingApproval?: ApprovalRequest;
}

const MINUTE = 60_000;

/** A new incident id: sortable by time, unique across processes. */
export function newIncidentId(): string {
  const stamp = new Date().toISOString().replace(/[-:TZ.]/g, "").slice(0, 14);
  return `inc-${stamp}-${randomUUID().slice(0, 6)}`;
}

/** Builds the Alertmanager v4 webhook body a scenario alert stands for. */
export function scenarioWebhook(alert: ScenarioAlert, t0: number): Record<string, unknown> {
  const startsAt = new Date(t0 + (alert.startsAtMinutes ?? alert.atMinutes) * MINUTE).toISOString();
  return {
    version: "4",
    groupKey: `{}:{alertname="${alert.labels["alertname"] ?? ""}"}`,
    status: alert.status,
    receiver: "suture",
    groupLabels: { alertname: alert.labels["alertname"] ?? "" },
    commonLabels: alert.labels,
    commonAnnotations: alert.annotations,
    externalURL: "http://alertmanager.sim:9093",
    alerts: [
      {
        status: alert.status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt,
        endsAt: alert.status === "resolved" ? new Date(t0 + alert.atMinutes * MINUTE).toISOString() : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.sim:9090/graph",
      },
    ],
  };
}

function contextFor(suture: Suture, env: RunnableEnvironment): SutureContext {
  return {
    env,
    tools: suture.tools,
    reasoners: suture.reasoners,
    memoryAdjusts: suture.memoryAdjusts,
    policy: suture.policy,
    clock: env.clock,
    store: suture.store,
    notifier: suture.notifier,
    memory: suture.memory,
    locks: suture.locks,
  };
}

/** Persists the simulated world after every change, so a killed run resumes against the same world. */
export function persistEnvironment(suture: Suture, incidentId: string, spec: unknown, env: SimEnvironment): void {
  env.onChange = async (snapshot) => {
    await suture.store.saveEnvironment(incidentId, "sim", spec, snapshot);
  };
}

/** The environment id of an incident's world as it was when the incident opened. */
export function openWorldId(incidentId: string): string {
  return `${incidentId}@open`;
}

/** Saves the world as the incident opens (kept for replays) and keeps saving it as it changes. */
async function saveOpenWorld(suture: Suture, incidentId: string, spec: unknown, env: SimEnvironment): Promise<void> {
  const snapshot = env.toJSON();
  await suture.store.saveEnvironment(openWorldId(incidentId), "sim", spec, snapshot);
  await suture.store.saveEnvironment(incidentId, "sim", spec, snapshot);
  persistEnvironment(suture, incidentId, spec, env);
}

/** What starts or continues a run: the alert, a resume command, or nothing (continue from the checkpoint). */
type GraphInput = { incidentId: string; alert: Alert } | Command<ApprovalAnswer, Record<string, never>, never> | null;

/** Where a run stopped: the state, and the approval it waits for, if any. */
type RunEnd = { state: IncidentStateValue; awaitingApproval?: ApprovalRequest };

/**
 * Runs the graph for one incident until it ends or pauses, streaming timeline entries. Workload
 * locks the incident took are released when the run stops, however it stops.
 */
async function streamGraph(
  suture: Suture,
  incidentId: string,
  input: GraphInput,
  env: RunnableEnvironment,
  options: RunOptions,
): Promise<RunEnd> {
  try {
    return await streamSteps(suture, incidentId, input, env, options);
  } finally {
    await suture.locks.releaseIncident(incidentId);
  }
}

async function streamSteps(
  suture: Suture,
  incidentId: string,
  input: GraphInput,
  env: RunnableEnvironment,
  options: RunOptions,
): Promise<RunEnd> {
  const crashBefore = options.crashBeforeNode;
  const callbacks =
    crashBefore === undefined
      ? []
      : [
          {
            handleChainStart: (_chain: unknown, _inputs: unknown, _runId: string, _type?: string, _tags?: string[], metadata?: Record<string, unknown>) => {
              if (metadata?.["langgraph_node"] === crashBefore) process.kill(process.pid, "SIGKILL");
            },
          },
        ];
  const config = {
    configurable: { thread_id: incidentId },
    context: contextFor(suture, env),
    durability: "sync" as const,
    callbacks,
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
      if (options.crashAfterNode === node) {
        // The checkpoint for this step is already written (durability "sync").
        process.kill(process.pid, "SIGKILL");
        await new Promise(() => undefined);
      }
    }
  }
  return currentState(suture, incidentId);
}

/** The thread's state and, when paused, the approval request it waits on. */
export async function currentState(suture: Suture, incidentId: string): Promise<RunEnd> {
  const snapshot = await suture.graph.getState({ configurable: { thread_id: incidentId } });
  const pending = snapshot.tasks.flatMap((t) => t.interrupts).map((i) => ApprovalRequestSchema.safeParse(i.value)).find((p) => p.success);
  return { state: snapshot.values as IncidentStateValue, ...(pending?.success ? { awaitingApproval: pending.data } : {}) };
}

/** The Suture to run a scenario with: its policy sections replace the running policy's. */
function withScenarioPolicy(suture: Suture, scenario: Scenario): Suture {
  if (scenario.policy === undefined) return suture;
  return { ...suture, policy: new PolicyEngine(withSections(suture.policy.policy, scenario.policy), suture.tools) };
}

/**
 * Plays a scenario: builds its world, advances it to each alert, stores every notification
 * verbatim, opens an incident for the last firing alert and runs the graph on it.
 */
export async function runScenario(base: Suture, scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const suture = withScenarioPolicy(base, scenario);
  const env = SimEnvironment.create(scenario.environment);
  const t0 = env.startTime;
  const ordered = [...scenario.alerts].sort((a, b) => a.atMinutes - b.atMinutes);
  const trigger = [...ordered].reverse().find((a) => a.status === "firing");
  if (trigger === undefined) throw new Error(`scenario ${scenario.name} has no firing alert`);
  const incidentId = options.incidentId ?? newIncidentId();
  let incidentAlert: Alert | undefined;
  for (const alert of ordered) {
    await env.advanceTo(t0 + alert.atMinutes * MINUTE);
    const body = scenarioWebhook(alert, t0);
    const parsed = parseAlertmanagerWebhook(body);
    const normalized = parsed.alerts[0];
    if (normalized === undefined) continue;
    if (alert === trigger) {
      await suture.store.createIncident({ id: incidentId, alert: normalized, scenario: scenario.name, environmentId: incidentId });
      incidentAlert = normalized;
    }
    await suture.store.recordAlert({
      ...(alert === trigger ? { incidentId } : {}),
      alert: normalized,
      rawBody: JSON.stringify(body),
      ...(alert.status === "resolved" ? { endsAt: new Date(t0 + alert.atMinutes * MINUTE).toISOString() } : {}),
    });
    if (alert === trigger) break;
  }
  if (incidentAlert === undefined) throw new Error(`scenario ${scenario.name}: trigger alert was not ingested`);
  await saveOpenWorld(suture, incidentId, scenario.environment, env);
  await options.onOpen?.(incidentId, incidentAlert);
  return { incidentId, env, ...(await streamGraph(suture, incidentId, { incidentId, alert: incidentAlert }, env, options)) };
}

/** Runs one Alertmanager webhook body against a scenario's world (`suture run`). */
export async function runAlert(suture: Suture, rawBody: string, scenario: Scenario, options: RunOptions = {}): Promise<RunResult[]> {
  const { alerts } = parseAlertmanagerWebhook(JSON.parse(rawBody) as unknown);
  const env = SimEnvironment.create(scenario.environment);
  const lastAlertMinute = Math.max(...scenario.alerts.map((a) => a.atMinutes));
  await env.advanceTo(env.startTime + lastAlertMinute * MINUTE);
  const results: RunResult[] = [];
  for (const alert of alerts.filter((a) => a.status === "firing")) {
    const incidentId = options.incidentId ?? newIncidentId();
    await suture.store.createIncident({ id: incidentId, alert, scenario: scenario.name, environmentId: incidentId });
    await suture.store.recordAlert({ incidentId, alert, rawBody });
    await saveOpenWorld(suture, incidentId, scenario.environment, env);
    await options.onOpen?.(incidentId, alert);
    results.push({ incidentId, env, ...(await streamGraph(suture, incidentId, { incidentId, alert }, env, options)) });
  }
  return results;
}

/** Runs the graph from the start for an incident already stored with its world. */
export async function startIncident(suture: Suture, incidentId: string, alert: Alert, options: RunOptions = {}): Promise<RunResult> {
  const env = await loadEnvironment(suture, incidentId);
  return { incidentId, env, ...(await streamGraph(suture, incidentId, { incidentId, alert }, env, options)) };
}

/** Runs the graph from the start against a given environment (a worker's shared world). */
export async function startIncidentIn<E extends RunnableEnvironment>(suture: Suture, incidentId: string, alert: Alert, env: E, options: RunOptions = {}): Promise<RunResult<E>> {
  return { incidentId, env, ...(await streamGraph(suture, incidentId, { incidentId, alert }, env, options)) };
}

/** Loads the persisted world of an incident and keeps persisting it. */
export async function loadEnvironment(suture: Suture, incidentId: string): Promise<SimEnvironment> {
  const saved = await suture.store.loadEnvironment(incidentId);
  if (saved === undefined) throw new Error(`incident "${incidentId}" has no saved environment to resume against`);
  const env = SimEnvironment.fromJSON(saved.state);
  persistEnvironment(suture, incidentId, saved.spec, env);
  return env;
}

/**
 * Resumes an interrupted incident from its last checkpoint, against its persisted world. A
 * paused incident resumes only with a human decision: the one given, or one already recorded
 * (when the process that recorded it died before resuming).
 */
export async function resumeIncident(suture: Suture, incidentId: string, options: RunOptions = {}, answer?: ApprovalAnswer): Promise<RunResult> {
  await suture.store.getIncident(incidentId);
  return resumeIncidentIn(suture, incidentId, await loadEnvironment(suture, incidentId), options, answer);
}

/**
 * What a worker does with an incident's thread: `start` from the alert when nothing was
 * checkpointed; `record-outcome` when the graph finished but its status was not stored;
 * otherwise `continue` from the last checkpoint. A step whose node finished but whose checkpoint
 * was never written (the process died in between) shows no `next`, only a task with saved
 * writes: continuing applies them, whereas starting over would perceive a world the lost step
 * already changed and act on it again.
 */
export function nextMove(snapshot: { next: readonly string[]; tasks: readonly unknown[]; values: unknown }): "start" | "continue" | "record-outcome" {
  if (snapshot.next.length > 0 || snapshot.tasks.length > 0) return "continue";
  if ((snapshot.values as Partial<IncidentStateValue> | undefined)?.outcome != null) return "record-outcome";
  return "start";
}

/** What an operator runs next for a paused or interrupted incident, and why; `command` null: nothing to run. */
export interface OperatorStep {
  /** answer: approve or reject; tick: escalate an expired request; none: nothing to run. */
  kind: "answer" | "tick" | "resume" | "retry" | "none";
  command: string | null;
  why: string;
}

/** The facts {@link operatorStep} decides from. */
export interface ThreadPosition {
  /** The incident row's status. */
  status: IncidentStatus;
  /** The last checkpoint's next nodes and pending tasks (both empty: the graph finished). */
  next: readonly string[];
  tasks: readonly unknown[];
  /** The tool the graph is paused for approval of, when it is paused at an approval. */
  awaitingApprovalOf?: string;
  /** The incident's latest approval request. */
  approval?: { decision: "approved" | "rejected" | "expired" | null; expiresAt: Date };
  /** Now, wall-clock (approval deadlines are wall-clock). */
  now?: Date;
}

/**
 * The one decision of what an operator runs next for an incident, used by `suture history`'s hint
 * and by `suture resume`'s refusal, so the two can never name different commands. It mirrors what
 * each command accepts: `resume` continues a thread unless it is paused at an approval nobody
 * answered; `approve`/`reject` refuse an expired request (`tick` escalates it); `retry` is what
 * re-queues a dead-lettered incident.
 */
export function operatorStep(incidentId: string, p: ThreadPosition): OperatorStep {
  if (p.next.length === 0 && p.tasks.length === 0) return { kind: "none", command: null, why: "the incident's graph finished" };
  if (p.status === "dead_letter") return { kind: "retry", command: `suture retry ${incidentId}`, why: "its job was dead-lettered" };
  if (TERMINAL_STATUSES.includes(p.status)) return { kind: "none", command: null, why: `the incident was closed as ${p.status}` };
  const tool = p.awaitingApprovalOf;
  if (tool !== undefined && p.approval?.decision == null) {
    const expiresAt = p.approval?.expiresAt;
    if (expiresAt !== undefined && expiresAt.getTime() < (p.now ?? new Date()).getTime()) {
      return { kind: "tick", command: "suture tick", why: `the approval request for ${tool} expired unanswered at ${expiresAt.toISOString()}; tick escalates it` };
    }
    return { kind: "answer", command: `suture approve|reject ${incidentId} --as <you>`, why: `it is awaiting approval of ${tool}` };
  }
  if (tool !== undefined) return { kind: "resume", command: `suture resume ${incidentId}`, why: `${tool} was ${p.approval?.decision ?? "decided"} but the incident has not resumed since` };
  return { kind: "resume", command: `suture resume ${incidentId}`, why: "it was interrupted mid-run" };
}

/** One line for people: why, and the command to run (or that there is nothing to run). */
export function describeOperatorStep(step: OperatorStep): string {
  return step.command !== null ? `${step.why}; run \`${step.command}\`` : `${step.why}; nothing to run`;
}

/** {@link operatorStep} for a stored incident: its row, its last checkpoint and its latest approval request. */
export async function nextOperatorStep(suture: Suture, incidentId: string): Promise<OperatorStep> {
  const { status } = await suture.store.getIncident(incidentId);
  const snapshot = await suture.graph.getState({ configurable: { thread_id: incidentId } });
  const { awaitingApproval } = await currentState(suture, incidentId);
  const row = awaitingApproval !== undefined ? await suture.store.latestApproval(incidentId) : undefined;
  return operatorStep(incidentId, {
    status,
    next: snapshot.next,
    tasks: snapshot.tasks,
    ...(awaitingApproval !== undefined ? { awaitingApprovalOf: awaitingApproval.call.tool } : {}),
    ...(row !== undefined ? { approval: { decision: row.decision, expiresAt: row.expires_at } } : {}),
  });
}

/** {@link resumeIncident} against a given environment (a worker's shared world). */
export async function resumeIncidentIn<E extends RunnableEnvironment>(suture: Suture, incidentId: string, env: E, options: RunOptions = {}, answer?: ApprovalAnswer): Promise<RunResult<E>> {
  const current = await currentState(suture, incidentId);
  const snapshot = await suture.graph.getState({ configurable: { thread_id: incidentId } });
  // Nothing to run: neither a next node nor a finished node whose step was not checkpointed yet.
  if (snapshot.next.length === 0 && snapshot.tasks.length === 0) return { incidentId, env, ...current };
  let resume = answer;
  if (current.awaitingApproval !== undefined && resume === undefined) {
    const row = await suture.store.latestApproval(incidentId);
    if (row?.decision == null) {
      // The refusal names the same next step `suture history` prints (one decision, see operatorStep).
      const { status } = await suture.store.getIncident(incidentId);
      const step = operatorStep(incidentId, {
        status,
        next: snapshot.next,
        tasks: snapshot.tasks,
        awaitingApprovalOf: current.awaitingApproval.call.tool,
        ...(row !== undefined ? { approval: { decision: row.decision, expiresAt: row.expires_at } } : {}),
      });
      throw new Error(`incident "${incidentId}" cannot resume: ${describeOperatorStep(step)}`);
    }
    resume = { decision: row.decision, approver: row.approver, note: row.note, call: row.approved_call, at: (row.decided_at ?? new Date()).toISOString() };
  }
  const input = resume !== undefined ? new Command<ApprovalAnswer, Record<string, never>, never>({ resume }) : null;
  return { incidentId, env, ...(await streamGraph(suture, incidentId, input, env, options)) };
}
