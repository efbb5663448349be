import { Command, END, interrupt, type Runtime } from "@langchain/langgraph";
import { SettleResumeSchema, type SettleWait } from "../domain/settle.js";
import { isAnomalous, badness } from "../evidence/anomaly.js";
import { slopePerMinute } from "../evidence/metrics.js";
import { describeChange, readSnapshot } from "../evidence/snapshot.js";
import { finishIncident } from "../graphs/close-incident.js";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";
import type { Attempt, Signal, SignalSnapshot } from "../domain/model.js";
import { executeOnce, idempotencyKey } from "../tools/executor.js";
import { Observer } from "../tools/observer.js";
import type { VerifyRoute } from "../graphs/routes.js";
import type { RegressionFinding } from "../domain/regressions.js";
import { FlaggedLineMatcher } from "../regression/matcher.js";

/** Signals that measure user harm; memory and CPU are causes, judged separately. */
const HARM_METRICS = new Set(["error_rate", "latency_p99_ms", "request_rate", "ready_replicas", "consumer_lag", "disk_usage_pct"]);
/** Pod states that mean the workload is still failing. */
const FAILING_POD_REASONS = new Set(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "Error"]);
/** A memory trend that reaches the limit sooner than this is not a fix. */
const MEMORY_HORIZON_MINUTES = 60;
/** Time new pods take to reach their steady working set after a restart or rollout. */
const MEMORY_WARMUP_MS = 180_000;
/** Warmed-up memory a trend is read from: a few minutes of samples after the warm-up. */
const MEMORY_TREND_MS = MEMORY_WARMUP_MS + 120_000;
/** Fault classes whose repair cannot be called durable early: a leak's trend needs warmed-up pods to read. */
const SLOW_TO_JUDGE = /memory|leak|oom/;

/**
 * When the settle window ends: the tool's settle interval, and for a fault whose repair only
 * memory's trend shows durable, no sooner than that trend can be read (a rollback's 3 minutes end
 * before new pods have warmed up, and a leak looks cured until then).
 */
function settleDeadline(attempt: Attempt): number {
  const settle = attempt.executedAt + attempt.settleSeconds * 1000;
  return SLOW_TO_JUDGE.test(attempt.faultClass) ? Math.max(settle, attempt.executedAt + MEMORY_TREND_MS) : settle;
}

function harm(snapshot: SignalSnapshot): SignalSnapshot {
  return { at: snapshot.at, signals: snapshot.signals.filter((s) => HARM_METRICS.has(s.metric)) };
}

function total(signals: Signal[]): number {
  return signals.reduce((sum, s) => sum + badness(s.metric, s.current, s.baseline), 0);
}

/** A backlog that has mostly drained and keeps draining counts as recovering. */
function settled(after: Signal, before: Signal | undefined): boolean {
  if (!isAnomalous(after.metric, after.current, after.baseline)) return true;
  if (after.metric !== "consumer_lag" || before === undefined) return false;
  return badness(after.metric, after.current, after.baseline) <= 0.25 * badness(before.metric, before.current, before.baseline);
}

/** Log lines read to count a regression's flagged signatures. */
const REGRESSION_LOG_LINES = 2000;
/** The recent stretch a regression's flagged signatures must be (nearly) absent from. */
const REGRESSION_QUIET_MS = 120_000;

/**
 * A regression incident's own signal: lines of its flagged signatures the workload wrote in
 * (from, to], and how many its baseline allows there (twice the expected rate, rounded down:
 * a signature never seen before is allowed none).
 */
async function regressionLines(observer: Observer, service: string, finding: RegressionFinding, from: number, to: number): Promise<{ seen: number; allowed: number }> {
  const lines = (await observer.tailLogs(service, REGRESSION_LOG_LINES)) ?? [];
  const messages = lines.filter((l) => l.t > from && l.t <= to).map((l) => l.message);
  const seen = new FlaggedLineMatcher(finding.flagged.flatMap((f) => f.exemplars)).count(messages);
  const windowMs = Math.max(1, finding.window.to - finding.window.from);
  const expectedPerMs = finding.flagged.reduce((sum, f) => sum + f.expected, 0) / windowMs;
  return { seen, allowed: Math.floor(2 * expectedPerMs * (to - from)) };
}

/** Judges an attempt: the signals that were abnormal, the workload's pods, memory's trend and (for a regression) its flagged signatures. */
async function judge(
  observer: Observer,
  attempt: Attempt,
  service: string,
  after: SignalSnapshot,
  regression?: RegressionFinding,
): Promise<{ verdict: NonNullable<Attempt["verdict"]>; reasons: string[] }> {
  const before = harm(attempt.before);
  const now = harm(after);
  const reasons: string[] = [];
  const beforeBad = total(before.signals);
  const afterBad = total(now.signals);
  if (afterBad > beforeBad * 1.2 + 1) {
    reasons.push(`harm rose from ${beforeBad.toFixed(1)} to ${afterBad.toFixed(1)} (noise-floor units)`);
    return { verdict: "worse", reasons };
  }
  const unsettled = now.signals.filter(
    (s) =>
      !settled(
        s,
        before.signals.find((b) => b.service === s.service && b.metric === s.metric),
      ),
  );
  for (const s of unsettled) reasons.push(`${s.service} ${s.metric} still abnormal (${s.current.toFixed(3)} vs baseline ${s.baseline.toFixed(3)})`);
  const workload = await observer.describeWorkload(service);
  const failing = (workload?.pods ?? []).filter((p) => p.reason !== undefined && FAILING_POD_REASONS.has(p.reason));
  if (failing.length > 0) reasons.push(`${failing.length} ${service} pod(s) still failing (${failing[0]?.reason ?? ""})`);
  // A pod between two crashes looks Running; a restart since the action gives it away.
  const restarted = (workload?.pods ?? []).filter((p) => !failing.includes(p) && p.restarts > 0 && p.startedAt >= attempt.executedAt && p.lastTerminationReason !== undefined);
  if (restarted.length > 0) reasons.push(`${restarted.length} ${service} pod(s) restarted since the action (last: ${restarted[0]?.lastTerminationReason ?? ""})`);
  // Judge memory's trend only on pods that finished warming up after the action; earlier
  // points (restarts, pods still filling caches) would look like growth.
  const memory = await observer.queryMetric(service, "memory_mib", Math.ceil(Math.max(attempt.settleSeconds * 1000, after.at - attempt.executedAt) / 60_000) + 1);
  const limit = workload?.deployment.memoryLimitMib;
  const warm = (memory?.points ?? []).filter((p) => p.t >= attempt.executedAt + MEMORY_WARMUP_MS && p.v > 0);
  if (limit !== undefined && warm.length >= 4) {
    const slope = slopePerMinute(warm);
    const latest = warm[warm.length - 1]?.v ?? 0;
    const spanMinutes = ((warm[warm.length - 1]?.t ?? 0) - (warm[0]?.t ?? 0)) / 60_000;
    // Growth must stand out of sample noise (a few percent) before it counts as a trend.
    const rise = slope * spanMinutes;
    if (rise > Math.max(16, latest * 0.03) && (limit - latest) / slope < MEMORY_HORIZON_MINUTES) {
      reasons.push(`${service} memory still climbing ${slope.toFixed(1)} MiB/min; reaches its ${limit} MiB limit in ~${Math.max(0, Math.round((limit - latest) / slope))} min`);
    }
  }
  if (regression !== undefined) {
    const { seen, allowed } = await regressionLines(observer, service, regression, after.at - REGRESSION_QUIET_MS, after.at);
    if (seen > allowed) reasons.push(`${seen} line(s) of the regression's flagged signatures in the last ${REGRESSION_QUIET_MS / 60_000} min (baseline allows ${allowed})`);
  }
  return { verdict: reasons.length === 0 ? "recovered" : "not_recovered", reasons };
}

/** While a backlog drains past the deadline, looks come at least this far apart (a drain takes minutes, not seconds). */
const DRAIN_LOOK_MS = 60_000;

/**
 * Waits until `until`. A simulated clock sleeps (instantly). On a real-time clock the graph pauses
 * with a settle wait (`interrupt()`): the run ends, a queue job continues it at `until`, and no
 * worker holds a job slot meanwhile. Everything here before the interrupt is safe to run twice
 * (the node runs again on resume).
 */
async function waitUntil(ctx: SutureContext, incidentId: string, attempt: Attempt, until: number, stepMs: number): Promise<void> {
  const now = ctx.clock.now();
  if (now >= until) return;
  if (!ctx.clock.realTime) {
    // A simulated world moves in whole ticks: sleep on until the first tick at or after `until`.
    let target = until;
    while (ctx.clock.now() < until) {
      const before = ctx.clock.now();
      await ctx.clock.sleep(target - before);
      if (ctx.clock.now() === before) target += stepMs;
    }
    return;
  }
  const wait: SettleWait = { kind: "settle", incidentId, attempt: attempt.number, until: new Date(until).toISOString(), tool: attempt.call.tool };
  await ctx.store.setIncidentStatus(incidentId, "verifying", `letting ${attempt.call.tool} (attempt ${attempt.number}) settle; next look at ${wait.until}`);
  SettleResumeSchema.parse(interrupt(wait));
}

type Sample = NonNullable<Attempt["samples"]>[number];

/** One look at the settle window: total harm, whether everything looks healthy, and the backlog. */
async function sample(observer: Observer, attempt: Attempt, service: string, watched: Signal[], now: number, previous: number, regression?: RegressionFinding): Promise<Sample> {
  const snapshot = harm(await readSnapshot(observer, watched, now, attempt.executedAt));
  // A regression's flagged signatures still written since the last look: not healthy yet.
  const flagged = regression === undefined ? undefined : await regressionLines(observer, service, regression, previous, now);
  const settledAll = snapshot.signals.every((s) => !isAnomalous(s.metric, s.current, s.baseline));
  const workload = await observer.describeWorkload(service);
  const pods = workload?.pods ?? [];
  const podsHealthy = pods.every(
    (p) => !(p.reason !== undefined && FAILING_POD_REASONS.has(p.reason)) && !(p.restarts > 0 && p.startedAt >= attempt.executedAt && p.lastTerminationReason !== undefined),
  );
  const lag = snapshot.signals.filter((s) => s.metric === "consumer_lag").reduce((sum, s) => sum + s.current, 0);
  const quiet = flagged === undefined || flagged.seen <= flagged.allowed;
  return { at: now, harm: total(snapshot.signals), healthy: settledAll && podsHealthy && quiet, ...(snapshot.signals.some((s) => s.metric === "consumer_lag") ? { lag } : {}) };
}

/**
 * Whether to look again: not when harm rose in two looks in a row (judge it now, to roll back at once), nor after
 * `stableSamples` healthy looks in a row (judged early, unless the fault is one whose repair only
 * time shows durable), nor past the deadline — except for a backlog still draining at a rate that
 * empties it within `drainMinutes` of the action (a fix that works, not yet visible in the lag).
 */
export function lookAgain(attempt: Attempt, samples: Sample[], now: number, stableSamples: number, drainMinutes = 30): { again: boolean; why: string } {
  const last = samples[samples.length - 1];
  if (last === undefined) return { again: true, why: "" };
  const beforeHarm = total(harm(attempt.before).signals);
  // Two looks in a row: a rolling restart the action itself started dips ready replicas for one look.
  const rose = (s: Sample | undefined): boolean => s !== undefined && s.harm > beforeHarm * 1.2 + 1;
  if (rose(last) && rose(samples[samples.length - 2])) return { again: false, why: "harm rose" };
  const streak = samples.length - 1 - samples.map((s) => s.healthy).lastIndexOf(false);
  const deadline = settleDeadline(attempt);
  if (streak >= stableSamples && !SLOW_TO_JUDGE.test(attempt.faultClass)) return { again: false, why: `healthy in ${streak} looks in a row` };
  if (now < deadline) return { again: true, why: "" };
  const lags = samples.filter((s) => s.lag !== undefined).slice(-3);
  const first = lags[0];
  const latest = lags[lags.length - 1];
  if (!last.healthy && first?.lag !== undefined && latest?.lag !== undefined && lags.length >= 3 && latest.lag < first.lag) {
    const perMs = (first.lag - latest.lag) / Math.max(1, latest.at - first.at);
    const drainsAt = now + latest.lag / perMs;
    const limit = attempt.executedAt + drainMinutes * 60_000;
    if (drainsAt <= limit && now < limit) return { again: true, why: `backlog draining (${Math.round(latest.lag)} left, empty in ~${Math.round((drainsAt - now) / 1000)} s)` };
  }
  return { again: false, why: "settle interval over" };
}

/**
 * verify: waits the tool's settle interval, re-reads the signals that fired the alert and
 * compares them with the pre-action snapshot. Recovered → resolve; worse → run the registered
 * rollback and escalate; not recovered → replan while attempts and untried candidates remain.
 */
export async function verify(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, VerifyRoute>> {
  const ctx = requireContext(runtime);
  const attempt = state.attempts[state.attempts.length - 1];
  if (attempt === undefined || state.context === null || state.diagnosis === null) {
    throw new Error("verify reached without an executed attempt; only act may send work here");
  }
  const observer = new Observer(ctx.tools, ctx.env, ctx.clock);
  const service = ctx.tools.get(attempt.call.tool).target?.(attempt.call.params).service ?? state.alert.service;
  let samples = attempt.samples ?? [];
  let closing = "";
  if (attempt.status === "executed") {
    // Looked at every `sampleSeconds` (the last look before the deadline falls on it). On the wall
    // clock each look is a step of its own (a durable wait before it); a simulated clock's waits
    // are instant, so its looks run in this step (as one long sleep did before).
    const { sampleSeconds, stableSamples, drainMinutes } = ctx.policy.policy.verification;
    const step = sampleSeconds * 1000;
    const deadline = settleDeadline(attempt);
    for (;;) {
      const previous = samples[samples.length - 1]?.at ?? attempt.executedAt;
      const next = previous < deadline ? Math.min(previous + step, deadline) : previous + Math.max(step, DRAIN_LOOK_MS);
      await waitUntil(ctx, state.incidentId, attempt, next, step);
      if (ctx.clock.realTime && (await ctx.store.getIncident(state.incidentId)).status === "verifying") await ctx.store.setIncidentStatus(state.incidentId, "running");
      samples = [...samples, await sample(observer, attempt, service, state.context.snapshot.signals, ctx.clock.now(), previous, state.context.regression)];
      const decision = lookAgain(attempt, samples, ctx.clock.now(), stableSamples, drainMinutes);
      if (!decision.again) {
        closing = decision.why;
        break;
      }
      if (ctx.clock.realTime) return new Command({ update: { attempts: [{ ...attempt, samples }] }, goto: "verify" });
    }
  }
  const after = await readSnapshot(observer, state.context.snapshot.signals, ctx.clock.now());
  const judged =
    attempt.status === "failed"
      ? { verdict: "not_recovered" as const, reasons: [`the tool call failed: ${attempt.error ?? "unknown error"}`] }
      : await judge(observer, attempt, service, after, state.context.regression);
  await ctx.store.setAfterSignals(attempt.actionId, after, judged.verdict);
  let rolledBack = false;
  const notes: string[] = [];
  if (judged.verdict === "worse" && attempt.rollback !== null) {
    const rollback = await executeOnce(
      {
        incidentId: state.incidentId,
        attempt: attempt.number,
        kind: "rollback",
        call: attempt.rollback,
        key: idempotencyKey(state.incidentId, `rollback-${attempt.number}`, attempt.rollback),
        rollbackOf: attempt.actionId,
        beforeSignals: after,
        namespace: state.alert.namespace,
        envTime: ctx.clock.now(),
      },
      ctx,
    );
    rolledBack = rollback.error === undefined;
    notes.push(rolledBack ? `rolled back with ${attempt.rollback.tool} ${JSON.stringify(attempt.rollback.params)}` : `rollback failed: ${rollback.error ?? ""}`);
  } else if (judged.verdict === "worse") {
    notes.push("no rollback registered (action not reversible)");
  }
  const now = ctx.clock.now();
  const changes = describeChange(attempt.before, after);
  const message =
    `attempt ${attempt.number} ${judged.verdict.replace("_", " ")} after ${Math.round((ctx.clock.now() - attempt.executedAt) / 1000)}s (${samples.length} look(s)${closing !== "" ? `, judged: ${closing}` : ""}; settle ${attempt.settleSeconds}s)` +
    `${changes.length > 0 ? `: ${changes.join("; ")}` : ""}${judged.reasons.length > 0 ? ` [${judged.reasons.join("; ")}]` : ""}` +
    `${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`;
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: "verify",
    kind: rolledBack ? "rollback" : "verification",
    summary: message,
    detail: { attempt: attempt.number, verdict: judged.verdict, reasons: judged.reasons, after, rolledBack },
    envTime: now,
    dedupeKey: `${state.incidentId}:verify:${attempt.number}`,
  });
  if (attempt.silenceId !== undefined && ctx.silencer !== null) {
    // Lifted whatever the verdict: Alertmanager should speak again about what is still wrong.
    const lifted = await ctx.silencer.expire(attempt.silenceId);
    await ctx.store.audit({
      incidentId: state.incidentId,
      actor: "verify",
      kind: "silence_expired",
      summary: lifted.detail,
      envTime: now,
      dedupeKey: `${state.incidentId}:unsilence:${attempt.number}`,
    });
  }
  const amended: Attempt = { ...attempt, samples, after, verdict: judged.verdict, verdictReasons: judged.reasons, rolledBack };
  const entry = { node: "verify", at: now, message };
  const update = { attempts: [amended], timeline: [entry] };
  if (judged.verdict === "recovered") {
    const attempts = state.attempts.map((a) => (a.number === amended.number ? amended : a));
    const outcome = await finishIncident(
      ctx,
      { ...state, attempts, timeline: [...state.timeline, entry] },
      {
        status: "resolved",
        reason: `${attempt.call.tool} fixed it: ${changes.join("; ") || "signals back to baseline"}`,
        at: now,
      },
    );
    return new Command({ update: { ...update, outcome }, goto: END });
  }
  if (judged.verdict === "worse") return new Command({ update, goto: "escalate" });
  const tried = new Set(state.attempts.map((a) => a.strategy));
  const untried = state.diagnosis.hypotheses.some((h) => h.disposition === "act" && h.candidates.some((c) => !tried.has(c.strategy)));
  // A reasoner that reads the healing history (a model) may find something new even when the last diagnosis has nothing left.
  const replans = ctx.reasoners.some((r) => r.replans === true);
  const attemptsLeft = ctx.policy.policy.guardrails.maxAttempts - state.attempts.length;
  return new Command({ update, goto: (untried || replans) && attemptsLeft > 0 ? "diagnose" : "escalate" });
}
