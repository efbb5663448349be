import { Command, type Runtime } from "@langchain/langgraph";
import { targetEscalation } from "../domain/alerts/target.js";
import type { PerceiveRoute } from "../graphs/routes.js";
import { extractEvidence, withFacts, type ServiceObservations } from "../evidence/extract.js";
import { anomalousSignals } from "../evidence/snapshot.js";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";
import { METRIC_NAMES } from "../environments/adapter.js";
import { Observer } from "../tools/observer.js";
import { clusterFacts, nodeFacts, targetObjectFact } from "../evidence/object-facts.js";

/** Minutes of metrics perceive reads: long enough to hold a pre-incident baseline. */
const METRIC_WINDOW_MINUTES = 90;
/** Log lines read per service before reduction to signatures. */
const LOG_LINES = 400;
/** How far back alert notifications count towards flapping. */
const FLAP_WINDOW_MINUTES = 60;
/** How far back self-resolved episodes of the same alert count as a recurring pattern (an hourly job shows twice). */
const RECURRENCE_WINDOW_MINUTES = 180;
/** How far back (environment time) another incident's action on these workloads is evidence. */
const OTHER_ACTIONS_WINDOW_MINUTES = 60;

async function observeService(observer: Observer, service: string, role: ServiceObservations["role"]): Promise<ServiceObservations> {
  const [workload, deploys, logs, consumerGroups, ...series] = await Promise.all([
    observer.describeWorkload(service),
    observer.deployHistory(service),
    observer.tailLogs(service, LOG_LINES),
    observer.consumerLag(service),
    ...METRIC_NAMES.map((m) => observer.queryMetric(service, m, METRIC_WINDOW_MINUTES)),
  ]);
  const metrics: ServiceObservations["metrics"] = {};
  for (const s of series) if (s !== undefined && s.points.length > 0) metrics[s.metric] = s;
  return {
    service,
    role,
    ...(workload !== undefined ? { workload } : {}),
    deploys: deploys ?? [],
    metrics,
    logs: logs ?? [],
    consumerGroups: consumerGroups ?? [],
  };
}

/**
 * perceive: gathers the alert's world with read-only tools run in parallel (the alerting
 * workload and the services it calls), records every result for replay, and reduces it to
 * evidence. Reads only, so it is safe to run again. An alert about a cluster object that is not a
 * workload (a node, a job, a quota, the cluster as a whole) is read as far as it can be (a node's
 * conditions and events; every node and the pods nothing could place) and goes to diagnosis, which may close or escalate it but never acts on it; an alert whose target
 * could not be resolved goes straight to escalate, nothing read.
 */
export async function perceive(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, PerceiveRoute>> {
  const ctx = requireContext(runtime);
  const notWorkload = targetEscalation(state.alert.target);
  const target = state.alert.target;
  if (notWorkload !== undefined && target?.state !== "resolved") {
    await ctx.store.setIncidentStatus(state.incidentId, "running");
    return new Command({ update: { timeline: [{ node: "perceive", at: ctx.clock.now(), message: notWorkload }] }, goto: "escalate" });
  }
  const observer = new Observer(ctx.tools, ctx.env, ctx.clock);
  const now = ctx.clock.now();
  // Taken before the world is read: an action that lands while it is read is newer than the
  // watermark, so policy-check perceives again rather than act on evidence that may predate it.
  const actionWatermark = await ctx.store.latestActionId();
  const { environment_id: environmentId } = await ctx.store.getIncident(state.incidentId);
  const unsettled = environmentId === null ? [] : await ctx.store.unsettledForeignActions({ environmentId, namespace: state.alert.namespace, excludeIncident: state.incidentId });
  const since = new Date(new Date(state.alert.startsAt).getTime() - RECURRENCE_WINDOW_MINUTES * 60_000);
  const flapSince = new Date(state.alert.startsAt).getTime() - FLAP_WINDOW_MINUTES * 60_000;
  // One entry per episode and status, none after this alert started: Alertmanager re-sends a
  // notification every repeat interval, and a world replayed (an eval run twice) stores it again.
  const startedAt = new Date(state.alert.startsAt).getTime();
  const seen = new Set<string>();
  const longHistory = (await ctx.store.alertHistory(state.alert.fingerprint, since)).filter((h) => {
    const key = `${h.status}@${h.startsAt.getTime()}`;
    if (h.startsAt.getTime() > startedAt || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const history = longHistory.filter((h) => h.startsAt.getTime() >= flapSince);
  // Earlier episodes that ended by themselves, and how long each lasted.
  const ended = longHistory.filter((h) => h.status === "resolved" && h.startsAt.getTime() < startedAt && h.endsAt !== null);
  const lasted = ended.map((h) => ((h.endsAt?.getTime() ?? 0) - h.startsAt.getTime()) / 60_000);
  const alertHistory = {
    firing: history.filter((h) => h.status === "firing").length,
    resolved: history.filter((h) => h.status === "resolved").length,
    windowMinutes: FLAP_WINDOW_MINUTES,
    recurrence: { episodes: ended.length, longestMinutes: lasted.length > 0 ? Math.max(...lasted) : 0, windowMinutes: RECURRENCE_WINDOW_MINUTES },
  };
  if (notWorkload !== undefined && target !== undefined) {
    // A node, a job, a quota: read what can be read of it and let diagnosis close or escalate (it never acts on one).
    const node = target.kind === "Node" && target.name !== undefined ? await observer.describeNode(target.name) : undefined;
    const cluster = target.kind === "Cluster" ? await observer.describeCluster() : undefined;
    const extracted = extractEvidence(state.alert, [], alertHistory, now);
    const facts = [
      targetObjectFact(state.alert.service, target),
      ...(node !== undefined ? nodeFacts(state.alert.service, node, now) : []),
      ...(cluster !== undefined ? clusterFacts(state.alert.service, cluster) : []),
    ];
    const evidence = withFacts(extracted.evidence, facts);
    await ctx.store.setIncidentStatus(state.incidentId, "running");
    const perception = state.timeline.filter((e) => e.node === "perceive").length + 1;
    const observationRefs = await ctx.store.recordObservations(state.incidentId, perception, observer.observations);
    const failed = observer.observations.filter((o) => !o.ok);
    const message = `${notWorkload.replace(/; a human should look at it$/, "")}; read ${observer.observations.length} tool result(s) about it; ${evidence.length} facts${failed.length > 0 ? `; ${failed.length} read(s) failed: ${failed[0]?.summary ?? ""}` : ""}`;
    const context = { services: [], evidence, signatures: {}, observationRefs, observations: [], snapshot: { at: now, signals: [] }, gatheredAt: now, actionWatermark, unsettledActions: [] };
    return new Command({ update: { context, timeline: [{ node: "perceive", at: now, message }] }, goto: "diagnose" });
  }
  const alerting = await observeService(observer, state.alert.service, "alerting");
  const dependencies = alerting.workload?.dependencies ?? [];
  const others = await Promise.all(dependencies.map((d) => observeService(observer, d, "dependency")));
  const otherIncidents =
    environmentId === null
      ? []
      : await ctx.store.foreignActions({
          environmentId,
          namespace: state.alert.namespace,
          services: [state.alert.service, ...dependencies],
          excludeIncident: state.incidentId,
          sinceEnvTime: now - OTHER_ACTIONS_WINDOW_MINUTES * 60_000,
        });
  // Only the watch writes a finding, keyed by this incident: the alert's labels cannot conjure one.
  const watch = await ctx.store.regressionOfIncident(state.incidentId);
  const regression = watch?.status === "regression" && watch.finding !== null ? watch.finding : undefined;
  const extracted = extractEvidence(
    state.alert,
    [alerting, ...others],
    alertHistory,
    now,
    otherIncidents
      .filter((a) => a.id <= actionWatermark)
      .map((a) => ({ incidentId: a.incidentId, kind: a.kind, tool: a.tool, service: a.targetService, status: a.status, verdict: a.verdict, at: a.envTime })),
    regression,
  );
  const snapshot = { at: now, signals: extracted.signals };
  const abnormal = anomalousSignals(snapshot).map((s) => `${s.service} ${s.metric}`);
  const failed = observer.observations.filter((o) => !o.ok);
  const message =
    `read ${observer.observations.length} tool results from ${1 + others.length} service(s) ` +
    `(${[state.alert.service, ...dependencies].join(", ")}); ${extracted.evidence.length} facts; ` +
    `abnormal: ${abnormal.length > 0 ? abnormal.join(", ") : "none"}` +
    (failed.length > 0 ? `; ${failed.length} read(s) failed: ${failed[0]?.summary ?? ""}` : "");
  await ctx.store.setIncidentStatus(state.incidentId, "running");
  // The results are stored once, here; the checkpoint keeps references (a context per step would copy them).
  const perception = state.timeline.filter((e) => e.node === "perceive").length + 1;
  const observationRefs = await ctx.store.recordObservations(state.incidentId, perception, observer.observations);
  const update = {
    context: {
      services: [state.alert.service, ...dependencies],
      evidence: extracted.evidence,
      signatures: extracted.signatures,
      observationRefs,
      observations: [],
      snapshot,
      gatheredAt: now,
      actionWatermark,
      unsettledActions: unsettled.map((a) => ({ id: a.id, service: a.targetService, status: a.status, verdict: a.verdict })),
      ...(regression !== undefined ? { regression } : {}),
    },
    timeline: [{ node: "perceive", at: now, message }],
  };
  return new Command({ update, goto: "diagnose" });
}
