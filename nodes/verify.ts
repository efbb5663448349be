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

/** Signals that measure user harm; memory and CPU are causes, judged separately. */
const HARM_METRICS = new Set(["error_rate", "latency_p99_ms", "request_rate", "ready_replicas", "consumer_lag", "disk_usage_pct"]);
/** Pod states that mean the workload is still failing. */
const FAILING_POD_REASONS = new Set(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "Error"]);
/** A memory trend that reaches the limit sooner than this is not a fix. */
const MEMORY_HORIZON_MINUTES = 60;
/** Time new pods take to reach their steady working set after a restart or rollout. */
const MEMORY_WARMUP_MS = 180_000;

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

/** Judges an attempt: the signals that were abnormal, the workload's pods, and memory's trend. */
async function judge(observer: Observer, attempt: Attempt, service: string, after: SignalSnapshot): Promise<{ verdict: NonNullable<Attempt["verdict"]>; reasons: string[] }> {
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
  const memory = await observer.queryMetric(service, "memory_mib", Math.ceil(attempt.settleSeconds / 60) + 1);
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
  return { verdict: reasons.length === 0 ? "recovered" : "not_recovered", reasons };
}

/**
 * Lets the attempt's action settle. A simulated clock sleeps (instantly). On a real-time clock,
 * until the settle deadline the graph pauses with a settle wait (`interrupt()`): the run ends, a
 * queue job continues it at the deadline, and no worker holds a job slot meanwhile. Everything
 * here before the interrupt is safe to run twice (the node runs again on resume).
 */
async function settle(ctx: SutureContext, incidentId: string, attempt: Attempt): Promise<void> {
  const until = attempt.executedAt + attempt.settleSeconds * 1000;
  if (!ctx.clock.realTime) {
    await ctx.clock.sleep(attempt.settleSeconds * 1000);
    return;
  }
  if (ctx.clock.now() < until) {
    const wait: SettleWait = { kind: "settle", incidentId, attempt: attempt.number, until: new Date(until).toISOString(), tool: attempt.call.tool };
    await ctx.store.setIncidentStatus(incidentId, "verifying", `letting ${attempt.call.tool} (attempt ${attempt.number}) settle until ${wait.until}`);
    SettleResumeSchema.parse(interrupt(wait));
  }
  // Resumed (or already due when verify started): the incident runs again.
  if ((await ctx.store.getIncident(incidentId)).status === "verifying") await ctx.store.setIncidentStatus(incidentId, "running");
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
  if (attempt.status === "executed") await settle(ctx, state.incidentId, attempt);
  const after = await readSnapshot(observer, state.context.snapshot.signals, ctx.clock.now());
  const judged =
    attempt.status === "failed" ? { verdict: "not_recovered" as const, reasons: [`the tool call failed: ${attempt.error ?? "unknown error"}`] } : await judge(observer, attempt, service, after);
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
    `attempt ${attempt.number} ${judged.verdict.replace("_", " ")} after ${attempt.settleSeconds}s` +
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
  const amended: Attempt = { ...attempt, after, verdict: judged.verdict, verdictReasons: judged.reasons, rolledBack };
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
