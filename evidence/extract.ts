import { describeTarget } from "../domain/alerts/target.js";
import type { RegressionFinding } from "../domain/regressions.js";
import { regressionFacts } from "./regression.js";
import type { Alert } from "../domain/alerts/alert.js";
import type { Evidence, LogSignature, Signal } from "../domain/model.js";
import type { ConfigMapState, ConsumerGroupState, DeploymentRevision, KubeEvent, LogLine, MetricName, MetricPoint, MetricSeries, WorkloadDescription } from "../environments/adapter.js";
import { badness, isAnomalous } from "./anomaly.js";
import { episodesOf, longestClimb, onsetOf, round, summarizeSeries, type MetricSummary } from "./metrics.js";
import { redactSecrets, secretKinds } from "../domain/secrets.js";
import { errorClass, externalHost, extractSignatures } from "./signatures.js";
import { lastScaleDownTo } from "../environments/scale-events.js";
import { isDeliberateHold, plannedChangeNote } from "./intent.js";
import { isSecurityFix, securitySignals } from "./security.js";
import { alertTextFacts } from "./alert-text.js";
import { alertClaimFacts } from "./alert-claim.js";

/** What the read tools returned for one service. */
export interface ServiceObservations {
  service: string;
  role: "alerting" | "dependency";
  workload?: WorkloadDescription;
  deploys: DeploymentRevision[];
  metrics: Partial<Record<MetricName, MetricSeries>>;
  logs: LogLine[];
  consumerGroups: ConsumerGroupState[];
}

/** Alert notifications seen for the same fingerprint, for flap detection. */
export interface AlertHistorySummary {
  firing: number;
  resolved: number;
  windowMinutes: number;
  /** Earlier episodes of the alert that resolved by themselves within a longer window, and the longest of them. */
  recurrence?: { episodes: number; longestMinutes: number; windowMinutes: number };
}

/** An action another incident ran on a workload this incident looks at (Suture's own ledger, not a read tool). */
export interface OtherIncidentAction {
  incidentId: string;
  kind: "remediation" | "rollback";
  tool: string;
  service: string;
  status: string;
  /** Verify's judgement of it, or null while it is being verified. */
  verdict: string | null;
  /** Environment time it was granted, epoch ms. */
  at: number | null;
}

type Attrs = Evidence["attrs"];
type FactDraft = Omit<Evidence, "id" | "attrs"> & { attrs?: Attrs };

const MINUTE = 60_000;

/**
 * What a revision changed: the pod-template fields the environment diffed (any of them: command,
 * args, probes, dnsPolicy, ports…), plus image / env / memory as the revision summaries show them.
 */
function changedFields(current: DeploymentRevision, previous: DeploymentRevision): string[] {
  const changes = new Set<string>(current.changedFields ?? []);
  if (current.image !== previous.image) changes.add("image");
  if (JSON.stringify(current.env) !== JSON.stringify(previous.env)) changes.add("env");
  if (current.memoryLimitMib !== previous.memoryLimitMib) changes.add("memory");
  const first = ["image", "env", "memory"].filter((c) => changes.has(c));
  return [...first, ...[...changes].filter((c) => !first.includes(c)).sort()];
}

/**
 * Env vars a reloader sets in the pod template to restart pods when a Secret or ConfigMap they read
 * changes (Stakater Reloader's env-vars strategy: `STAKATER_<NAME>_SECRET` / `_CONFIGMAP`, holding
 * the content's hash).
 */
const RESTART_MARKER = /^STAKATER_[A-Z0-9_]+_(SECRET|CONFIGMAP)$/;

/**
 * The restart markers a revision changed when nothing else in its template did (a restart to pick
 * up a reloaded Secret or ConfigMap, not a release); empty otherwise.
 */
function restartMarkers(current: DeploymentRevision, previous: DeploymentRevision | undefined, changes: string[]): string[] {
  if (previous === undefined || changes.length !== 1 || changes[0] !== "env") return [];
  const keys = changedKeys(current.env, previous.env);
  return keys.length > 0 && keys.every((k) => RESTART_MARKER.test(k)) ? keys : [];
}

function changedKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

/**
 * When the service's symptoms began: the earliest onset of an abnormal metric's final abnormal
 * stretch (epoch ms); undefined when no metric is abnormal or every abnormal one was already so
 * when its window starts.
 */
function symptomOnset(obs: ServiceObservations): number | undefined {
  let earliest: number | undefined;
  for (const [metric, series] of Object.entries(obs.metrics)) {
    if (series === undefined) continue;
    const summary = summarizeSeries(series);
    if (summary === undefined || !isAnomalous(metric, summary.current, summary.baseline)) continue;
    const onset = onsetOf(series.points, (v) => isAnomalous(metric, v, summary.baseline));
    if (onset !== undefined && (earliest === undefined || onset < earliest)) earliest = onset;
  }
  return earliest;
}

/**
 * How a change lines up with the symptoms' onset: minutes from the change to the onset (a few
 * minutes after is what a cause looks like), and whether the symptoms were there first (then the
 * change cannot have started them; false when the onset is unknown).
 */
function onsetAttrs(changedAt: number, onset: number | undefined): Attrs {
  if (onset === undefined) return { symptoms_before_change: false };
  const lag = Math.round((onset - changedAt) / MINUTE);
  return { onset_lag_minutes: lag, symptoms_before_change: lag < -2 };
}

/** The onset relation in words, for a fact's summary ("" when unknown). */
function onsetNote(changedAt: number, onset: number | undefined): string {
  if (onset === undefined) return "";
  const lag = Math.round((onset - changedAt) / MINUTE);
  return lag >= 0 ? `; symptoms began ${lag} min after it` : `; symptoms began ${-lag} min before it`;
}

/**
 * `rollout.held`: pods still on an older revision because the workload's own update strategy keeps
 * them there — `OnDelete` (the controller replaces a pod only when someone deletes it) or a
 * StatefulSet `partition` (ordinals below it stay). Value: pods waiting on the older revision.
 */
function heldUpdateFacts(s: string, w: WorkloadDescription): FactDraft[] {
  const strategy = w.deployment.updateStrategy;
  if (strategy === undefined || (strategy.type !== "OnDelete" && strategy.partition <= 0)) return [];
  const current = w.deployment.currentRevision;
  const waiting = w.pods.filter((p) => p.revision < current).length;
  if (waiting === 0) return [];
  const updated = w.pods.length - waiting;
  const how = strategy.type === "OnDelete" ? "OnDelete: the controller replaces a pod only when someone deletes it" : `partition ${strategy.partition}: ordinals below it stay`;
  return [
    {
      key: "rollout.held",
      service: s,
      value: waiting,
      summary: `${s}: ${waiting} of ${w.pods.length} pod(s) stay on the older revision by its update strategy (${how}); ${updated} updated`,
      attrs: { strategy: strategy.type, partition: strategy.partition, updated, pods: w.pods.length },
    },
  ];
}

/**
 * `planned` / `planned_note` of a ConfigMap change: its changer, the keys and values it set, or the
 * ConfigMap's annotations say it is planned (a maintenance window or mode, a scheduled change, a CAB
 * approval, "do not revert"). Reverting it would undo an approved change: policy refuses that.
 */
function plannedAttrs(cm: ConfigMapState, keys: string[]): Attrs {
  const changedBy = cm.history.find((h) => h.version === cm.version)?.changedBy ?? "";
  const note = plannedChangeNote([
    ["changed by", changedBy],
    // A key's *value* can record the plan (a window, a ticket); its name cannot: `maintenance_mode: "true"` set
    // by hand says what was switched, not that anyone approved it (the wrong kubectl context does the same).
    ...keys.map((k): [string, string] => [`key ${k}`, cm.data[k] ?? ""]),
    ...Object.entries(cm.annotations ?? {}).map(([k, v]): [string, string] => [`annotation ${k}`, `${k.split("/").pop() ?? k}: ${v}`]),
  ]);
  return { planned: note !== "", planned_note: redactSecrets(note) };
}

/** A key that switches a feature: `longpoll_enabled`, `enable_search_v2`, `feature.recommendations`, `flags.x`. */
const FEATURE_KEY = /(^|[_.-])(enabled?|feature|features|flag|flags)([_.-]|$)|enabled$/i;
/** A value that turns it on. */
const TRUTHY = /^\s*(true|on|yes|1|enabled?)\s*$/i;

/** Whether the workload's scale-down to its current count happened within 3 min of the rollout at `deployedAt`. */
function scaledDownWithRollout(obs: ServiceObservations, deployedAt: number): boolean {
  const w = obs.workload;
  if (w === undefined) return false;
  const scaled = lastScaleDownTo(w.events, w.deployment.desiredReplicas);
  return scaled !== undefined && Math.abs(scaled.at - deployedAt) <= 3 * MINUTE;
}

/** Whether the workload's request rate fell abnormally below its baseline (the traffic it served is gone). */
function trafficDropped(obs: ServiceObservations): boolean {
  const series = obs.metrics["request_rate"];
  const summary = series !== undefined ? summarizeSeries(series) : undefined;
  return summary !== undefined && isAnomalous("request_rate", summary.current, summary.baseline);
}

function workloadFacts(obs: ServiceObservations, now: number, alertService: string, onset: number | undefined): FactDraft[] {
  const facts: FactDraft[] = [];
  const w = obs.workload;
  if (w === undefined) return facts;
  const s = obs.service;
  const d = w.deployment;
  // The controller's record of the scale-down that left it at this count, if one is still in the events.
  const scaledDown = lastScaleDownTo(w.events, d.desiredReplicas);
  const parked = d.desiredReplicas === 0 && /downscaler\/original-replicas=/.test(d.schedule ?? "");
  facts.push({
    key: "replicas.desired",
    service: s,
    value: d.desiredReplicas,
    summary: `${s} deployment wants ${d.desiredReplicas} replicas, ${d.readyReplicas} ready${scaledDown !== undefined ? `; scaled down from ${scaledDown.from} ${Math.round((now - scaledDown.at) / MINUTE)} min ago` : ""}`,
    attrs: {
      ready: d.readyReplicas,
      memory_limit_mib: d.memoryLimitMib,
      cpu_limit_cores: d.cpuLimitCores,
      revision: d.currentRevision,
      change_cause: d.changeCause ?? "",
      // Its last scale says why it should stay so (maintenance, a migration's write freeze): policy denies scaling it (deliberateHold).
      held_on_purpose: isDeliberateHold(d.changeCause),
      scaled_down_from: scaledDown?.from ?? 0,
      scaled_down_minutes: scaledDown !== undefined ? Math.round((now - scaledDown.at) / MINUTE) : -1,
      // A scheduled scaler (kube-downscaler) parks it by its annotations: at 0 with the replicas it will restore recorded.
      schedule: d.schedule ?? "",
      parked_by_schedule: parked,
      // … when it had no real traffic to lose: a schedule that fits its users parks it then.
      parked_while_idle: parked && !trafficDropped(obs),
    },
  });
  const reasons = new Map<string, { count: number; revision: number; pod: string }>();
  const terminations = new Map<string, { count: number; exitCode: number }>();
  let restarts = 0;
  let notReady = 0;
  let notReadyRevision = -1;
  for (const pod of w.pods) {
    restarts += pod.restarts;
    if (pod.reason !== undefined) {
      const r = reasons.get(pod.reason) ?? { count: 0, revision: pod.revision, pod: pod.name };
      r.count += 1;
      reasons.set(pod.reason, r);
    }
    if (pod.lastTerminationReason !== undefined) {
      const t = terminations.get(pod.lastTerminationReason) ?? { count: 0, exitCode: pod.lastExitCode ?? -1 };
      t.count += 1;
      terminations.set(pod.lastTerminationReason, t);
    }
    // Running and not ready with nothing else wrong: its readiness probe fails.
    if (pod.phase === "Running" && !pod.ready && pod.reason === undefined) {
      notReady += 1;
      notReadyRevision = Math.max(notReadyRevision, pod.revision);
    }
  }
  facts.push({ key: "workload.kind", service: s, value: w.kind ?? "Deployment", summary: `${s} is a ${w.kind ?? "Deployment"}` });
  facts.push(...revisionCompareFacts(s, w), ...heldUpdateFacts(s, w));
  if (notReady > 0) {
    facts.push({
      key: "pod.not_ready",
      service: s,
      value: notReady,
      summary: `${notReady} ${s} pod(s) run but are not ready (readiness failing), newest revision ${notReadyRevision}`,
      attrs: { revision: notReadyRevision },
    });
  }
  for (const [reason, r] of [...reasons.entries()].sort()) {
    facts.push({
      key: "pod.reason",
      service: s,
      value: reason,
      summary: `${r.count} ${s} pod(s) in ${reason} (e.g. ${r.pod}, revision ${r.revision})`,
      attrs: { count: r.count, revision: r.revision },
    });
  }
  for (const [reason, t] of [...terminations.entries()].sort()) {
    facts.push({
      key: "pod.last_termination",
      service: s,
      value: reason,
      summary: `${t.count} ${s} pod(s) last terminated with ${reason}${t.exitCode >= 0 ? ` (exit code ${t.exitCode})` : ""}`,
      attrs: { count: t.count, exit_code: t.exitCode },
    });
  }
  facts.push({ key: "pod.restarts", service: s, value: restarts, summary: `${s} pods restarted ${restarts} times in total` });
  const events = new Map<string, { reason: string; type: string; message: string; count: number; last: number }>();
  for (const e of w.events) {
    const k = `${e.type}|${e.reason}`;
    const existing = events.get(k);
    if (existing === undefined) events.set(k, { reason: e.reason, type: e.type, message: e.message, count: e.count, last: e.t });
    else {
      existing.count += e.count;
      existing.last = Math.max(existing.last, e.t);
    }
  }
  for (const e of events.values()) {
    facts.push({
      key: "event.reason",
      service: s,
      value: e.reason,
      summary: `${e.type} event ${e.reason} on ${s} ×${e.count}: ${e.message}`,
      // How long ago it last happened: a scheduler that failed before a node joined has since succeeded.
      attrs: { type: e.type, message: e.message, count: e.count, minutes_since_last: Math.max(0, Math.round((now - e.last) / MINUTE)) },
    });
  }
  if (w.kubeService !== undefined) {
    const ks = w.kubeService;
    facts.push({
      key: "service.port_mismatch",
      service: s,
      value: ks.targetPort !== d.containerPort,
      summary:
        ks.targetPort !== d.containerPort
          ? `Service ${ks.name} targets port ${ks.targetPort} but ${s} containers listen on ${d.containerPort}`
          : `Service ${ks.name} targets container port ${ks.targetPort}`,
      attrs: { target_port: ks.targetPort, container_port: d.containerPort, port: ks.port },
    });
  }
  for (const np of w.networkPolicies) {
    const callers = np.allowIngressFrom;
    const blocksAlerting = s !== alertService && !callers.includes(alertService);
    facts.push({
      key: "netpol.ingress",
      service: s,
      value: np.name,
      summary: `NetworkPolicy ${np.name} selects ${s}, allows ingress from [${callers.join(", ")}], created ${Math.round((now - np.createdAt) / MINUTE)} min ago${np.managedBy ? `, managed by ${np.managedBy}` : ", applied by hand"}${np.containment ? `; a security containment (${np.containment})` : ""}`,
      attrs: {
        deny_all: callers.length === 0,
        blocks_alerting: blocksAlerting,
        selects_alerting: s === alertService,
        minutes_since: Math.round((now - np.createdAt) / MINUTE),
        managed_by: np.managedBy ?? "",
        containment: np.containment ?? "",
      },
    });
  }
  for (const cm of w.configMaps) {
    const previous = [...cm.history].filter((h) => h.version < cm.version).sort((a, b) => b.version - a.version)[0];
    if (previous === undefined) continue;
    const keys = changedKeys(previous.data, cm.data);
    facts.push({
      key: "config.changed",
      service: s,
      value: Math.round((now - cm.updatedAt) / MINUTE),
      summary: `ConfigMap ${cm.name} changed ${Math.round((now - cm.updatedAt) / MINUTE)} min ago (v${previous.version}→v${cm.version}, keys: ${keys.join(", ") || "none"})${onsetNote(cm.updatedAt, onset)}`,
      attrs: {
        configmap: cm.name,
        version: cm.version,
        previous_version: previous.version,
        keys: keys.join(","),
        changed_by: cm.history.find((h) => h.version === cm.version)?.changedBy ?? "unknown",
        ...onsetAttrs(cm.updatedAt, onset),
        ...plannedAttrs(cm, keys),
        // What the changed keys hold now (clipped, secrets redacted): an error quoting a new value points at the change.
        changed_values: keys.map((k) => redactSecrets(cm.data[k] ?? "").slice(0, 120)).join("\n"),
        feature_enabled: keys.some((k) => FEATURE_KEY.test(k) && TRUTHY.test(cm.data[k] ?? "") && !TRUTHY.test(previous.data[k] ?? "")),
      },
    });
  }
  for (const cb of w.circuitBreakers) {
    facts.push({
      key: "breaker.state",
      service: s,
      value: cb.state,
      summary: `circuit breaker ${cb.from}→${cb.to} is ${cb.state}${cb.openedAt !== undefined ? ` since ${Math.round((now - cb.openedAt) / MINUTE)} min` : ""}`,
      attrs: { dependency: cb.to },
    });
  }
  for (const disk of w.disks) {
    const top = [...disk.topPaths].sort((a, b) => b.gib - a.gib)[0];
    facts.push({
      key: "disk.usage_pct",
      service: s,
      value: round(disk.usedPct),
      summary: `${s} volume ${disk.mount} is ${round(disk.usedPct)}% full${top ? `; largest: ${top.path} (${round(top.gib)} GiB)` : ""}`,
      attrs: { mount: disk.mount, top_path: top?.path ?? "", top_path_gib: round(top?.gib ?? 0), size_gib: disk.sizeGib },
    });
  }
  for (const dep of w.dependencies) {
    facts.push({ key: "topology.calls", service: s, value: dep, summary: `${s} calls ${dep}` });
  }
  facts.push(...neighbourhoodFacts(w, s, now));
  return facts;
}

const selectorText = (selector: Record<string, string>): string =>
  Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Facts from the objects around a workload: its Services, its dependencies' Services, HPA, quotas, nodes. */
function neighbourhoodFacts(w: WorkloadDescription, s: string, now: number): FactDraft[] {
  const facts: FactDraft[] = [];
  const readyPods = w.pods.filter((p) => p.ready).length;
  for (const svc of w.services ?? []) {
    facts.push({
      key: "service.selects",
      service: s,
      value: svc.readyEndpoints,
      summary: `Service ${svc.name} (selector ${selectorText(svc.selector) || "none"}) selects ${svc.selectedPods} pod(s): ${svc.readyEndpoints} ready, ${svc.notReadyEndpoints} not-ready endpoint(s)${svc.selectsWorkload ? "" : `; its selector does not match ${s}'s pod template (${readyPods} ready pod(s))`}`,
      attrs: {
        kube_service: svc.name,
        selector: selectorText(svc.selector),
        selected_pods: svc.selectedPods,
        not_ready_endpoints: svc.notReadyEndpoints,
        selects_workload: svc.selectsWorkload,
        workload_ready_pods: readyPods,
        minutes_since_created: svc.createdAt > 0 ? Math.round((now - svc.createdAt) / MINUTE) : -1,
      },
    });
  }
  for (const dep of w.dependencyServices ?? []) {
    if (dep.exists) continue;
    facts.push({
      key: "dependency.service_missing",
      service: s,
      value: dep.dependency,
      summary: `${s} calls ${dep.dependency}, but Service ${dep.namespace}/${dep.service} does not exist`,
      attrs: { kube_service: dep.service, namespace: dep.namespace },
    });
  }
  const hpa = w.autoscaler;
  if (hpa !== undefined) {
    const minutesLimited = hpa.limitedSince > 0 ? Math.round((now - hpa.limitedSince) / MINUTE) : 0;
    facts.push({
      key: "hpa.state",
      service: s,
      value: hpa.currentReplicas,
      summary: `HorizontalPodAutoscaler ${hpa.name} scales ${s} between ${hpa.minReplicas} and ${hpa.maxReplicas}: ${hpa.currentReplicas} now, ${hpa.desiredReplicas} desired${hpa.scalingLimited ? `, ScalingLimited for ${minutesLimited} min` : ""}${hpa.scalingActive ? "" : `; cannot compute a replica count (${hpa.inactiveReason})`}`,
      attrs: {
        hpa: hpa.name,
        min: hpa.minReplicas,
        max: hpa.maxReplicas,
        desired: hpa.desiredReplicas,
        at_max: hpa.atMax,
        scaling_limited: hpa.scalingLimited,
        scaling_active: hpa.scalingActive,
        inactive_reason: hpa.inactiveReason,
      },
    });
    if (hpa.atMax) {
      facts.push({
        key: "hpa.at_max",
        service: s,
        value: minutesLimited,
        summary: `HorizontalPodAutoscaler ${hpa.name} holds ${s} at its maximum of ${hpa.maxReplicas} replicas${hpa.scalingLimited ? ` (ScalingLimited for ${minutesLimited} min)` : ""}`,
        attrs: {
          hpa: hpa.name,
          min: hpa.minReplicas,
          max: hpa.maxReplicas,
          current: hpa.currentReplicas,
          desired: hpa.desiredReplicas,
          scaling_limited: hpa.scalingLimited,
          pinned: hpa.minReplicas === hpa.maxReplicas,
          // Wants more than its maximum allows (ScalingLimited, or desired above max), unless pinned.
          wants_more: hpa.minReplicas !== hpa.maxReplicas && (hpa.scalingLimited || hpa.desiredReplicas > hpa.maxReplicas),
        },
      });
    }
  }
  for (const quota of w.quotas ?? []) {
    for (const r of quota.resources) {
      if (!r.full) continue;
      facts.push({
        key: "quota.exceeded",
        service: s,
        value: r.resource,
        summary: `ResourceQuota ${quota.name} in ${w.deployment.namespace} is used up for ${r.resource}: ${r.used} of ${r.hard}`,
        attrs: { quota: quota.name, used: r.used, hard: r.hard },
      });
    }
  }
  if (w.nodes !== undefined) {
    const unschedulable = w.pods.filter((p) => p.reason === "Unschedulable").length;
    const message = w.events.filter((e) => e.reason === "FailedScheduling").pop()?.message ?? "";
    facts.push({
      key: "pod.unschedulable",
      service: s,
      value: unschedulable,
      summary: `${unschedulable} ${s} pod(s) cannot be scheduled; ${w.nodes.total} node(s), cordoned: [${w.nodes.cordoned.join(", ")}], not ready: [${w.nodes.notReady.join(", ")}]${message !== "" ? `; scheduler: ${message}` : ""}`,
      attrs: {
        nodes: w.nodes.total,
        cordoned: w.nodes.cordoned.join(","),
        not_ready: w.nodes.notReady.join(","),
        cordoned_count: w.nodes.cordoned.length,
        not_ready_count: w.nodes.notReady.length,
        message,
      },
    });
  }
  return facts;
}

/**
 * The current revision's pods against the older revisions' still running: old healthy and new
 * failing (crash-looping, not ready, Pending, not pulling) is rollout evidence whatever field
 * the revision changed. Only when the current revision has pods and is not the first.
 */
function revisionCompareFacts(s: string, w: WorkloadDescription): FactDraft[] {
  const current = w.deployment.currentRevision;
  const fresh = w.pods.filter((p) => p.revision === current);
  const old = w.pods.filter((p) => p.revision < current);
  if (fresh.length === 0 || current <= 1) return [];
  const failing = fresh.filter((p) => !p.ready);
  const reasons = new Map<string, number>();
  for (const p of failing) {
    const reason = p.reason ?? (p.phase === "Running" ? "NotReady" : p.phase);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const reason = [...reasons].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
  const oldReady = old.filter((p) => p.ready).length;
  return [
    {
      key: "revision.compare",
      service: s,
      value: failing.length,
      summary:
        `${s} revision ${current}: ${fresh.length - failing.length} of ${fresh.length} pod(s) ready${reason !== "" ? ` (failing: ${reason})` : ""}; ` +
        `older revisions: ${oldReady} of ${old.length} ready`,
      attrs: {
        revision: current,
        new_pods: fresh.length,
        new_ready: fresh.length - failing.length,
        new_reason: reason,
        old_pods: old.length,
        old_ready: oldReady,
        old_healthy: old.length > 0 && oldReady === old.length,
      },
    },
  ];
}

/** How soon after a rollout symptoms must begin for that rollout to count as having started them. */
const SYMPTOMS_FOLLOW_ROLLOUT_MINUTES = 15;

/**
 * The revision a rollback should restore: the previous one, unless the symptoms began within
 * {@link SYMPTOMS_FOLLOW_ROLLOUT_MINUTES} after the previous revision's rollout and before the
 * current one's (a fix-forward rolled out on top of a bad release): then the revision before it,
 * the last one that ran before the symptoms.
 */
function rollbackTarget<R extends { revision: number; deployedAt: number }>(revisions: readonly R[], current: R, previous: R | undefined, onset: number | undefined): R | undefined {
  if (previous === undefined || onset === undefined) return previous;
  const afterPrevious = (onset - previous.deployedAt) / MINUTE;
  const afterCurrent = (onset - current.deployedAt) / MINUTE;
  if (afterPrevious < -2 || afterPrevious > SYMPTOMS_FOLLOW_ROLLOUT_MINUTES || afterCurrent >= -2) return previous;
  return revisions.filter((r) => r.revision < previous.revision).pop() ?? previous;
}

function deployFacts(obs: ServiceObservations, now: number, onset: number | undefined): FactDraft[] {
  const revisions = [...obs.deploys].sort((a, b) => a.revision - b.revision);
  const current = obs.workload ? revisions.find((r) => r.revision === obs.workload?.deployment.currentRevision) : revisions[revisions.length - 1];
  if (current === undefined) return [];
  const previous = revisions.filter((r) => r.revision < current.revision).pop();
  const restore = rollbackTarget(revisions, current, previous, onset);
  const minutes = Math.round((now - current.deployedAt) / MINUTE);
  const changes = previous ? changedFields(current, previous) : [];
  return [
    {
      key: "deploy.latest",
      service: obs.service,
      value: minutes,
      summary: `${obs.service} revision ${current.revision} (${current.image}) rolled out ${minutes} min ago${previous ? `, replacing ${previous.revision} (changed: ${changes.join(", ") || "nothing visible"})` : ""}${current.changeCause ? `; cause: ${current.changeCause}` : ""}${onsetNote(current.deployedAt, onset)}${
        restore !== undefined && restore !== previous ? `; the symptoms began with revision ${previous?.revision ?? ""}, so a rollback restores revision ${restore.revision} (${restore.image})` : ""
      }`,
      attrs: {
        revision: current.revision,
        previous_revision: previous?.revision ?? -1,
        // What a rollback restores: the previous revision, or the one before it when the symptoms began with the previous one.
        rollback_revision: restore?.revision ?? -1,
        has_previous: previous !== undefined,
        image: current.image,
        previous_image: previous?.image ?? "",
        changes: changes.join(","),
        memory_limit_mib: current.memoryLimitMib,
        // A limit the rollout lowered (not Suture's raise): OOM kills after it point at the change.
        memory_limit_cut: previous !== undefined && current.memoryLimitMib > 0 && previous.memoryLimitMib > current.memoryLimitMib,
        previous_memory_limit_mib: previous?.memoryLimitMib ?? 0,
        // A CPU limit the rollout lowered or introduced: throttling after it points at the change.
        cpu_limit_cut:
          previous !== undefined && (current.cpuLimitCores ?? 0) > 0 && previous.cpuLimitCores !== undefined && (previous.cpuLimitCores === 0 || previous.cpuLimitCores > (current.cpuLimitCores ?? 0)),
        previous_cpu_limit_cores: previous?.cpuLimitCores ?? 0,
        change_cause: current.changeCause ?? "",
        // Rolling this revision back would put a fixed vulnerability back (policy denies it: securityFixRollback).
        security_fix: isSecurityFix(current.changeCause),
        // Only a restart marker changed (a Secret or ConfigMap reloaded): rolling it back cannot undo what was reloaded (policy denies it: restartOnlyRollback).
        restart_only: restartMarkers(current, previous, changes).length > 0,
        restart_markers: restartMarkers(current, previous, changes).join(","),
        ...onsetAttrs(current.deployedAt, onset),
        // The same change scaled it down (a chart's values rename, an apply of a manifest with fewer
        // replicas): the ScalingReplicaSet event to today's count came with the rollout, and a
        // rollback restores the template, not the count.
        scaled_down_with_it: scaledDownWithRollout(obs, current.deployedAt),
      },
    },
  ];
}

function metricFacts(obs: ServiceObservations): { facts: FactDraft[]; signals: Signal[] } {
  const facts: FactDraft[] = [];
  const signals: Signal[] = [];
  for (const [metric, series] of Object.entries(obs.metrics)) {
    if (series === undefined) continue;
    const summary = summarizeSeries(series);
    if (summary === undefined) continue;
    signals.push({ service: obs.service, metric, current: summary.current, baseline: summary.baseline });
    const ratio = summary.baseline > 0 ? summary.current / summary.baseline : summary.current > 0 ? Infinity : 1;
    const anomalous = isAnomalous(metric, summary.current, summary.baseline);
    const attrs: Attrs = {
      baseline: round(summary.baseline),
      ratio: Number.isFinite(ratio) ? round(ratio) : 999,
      slope_per_min: round(summary.slopePerMin),
      max: round(summary.max),
      anomalous,
      role: obs.role,
    };
    facts.push({
      key: `metric.${metric}`,
      service: obs.service,
      value: round(summary.current),
      summary: `${obs.service} ${metric} ${round(summary.current)} (baseline ${round(summary.baseline)}, slope ${round(summary.slopePerMin)}/min)`,
      attrs,
    });
    if (anomalous) {
      facts.push({
        key: "metric.anomalous",
        service: obs.service,
        value: metric,
        summary: `${obs.service} ${metric} is abnormal: ${round(summary.current)} vs baseline ${round(summary.baseline)}`,
        attrs: { ...attrs, badness: round(badness(metric, summary.current, summary.baseline)) },
      });
    }
  }
  return { facts, signals };
}

/**
 * Memory climbing toward the containers' limit: the minutes left at the recent slope. A leak
 * shows here before the first OOM kill. Only when memory grows and a limit is set.
 */
function memoryTrendFacts(obs: ServiceObservations): FactDraft[] {
  const series = obs.metrics.memory_mib;
  const limit = obs.workload?.deployment.memoryLimitMib ?? 0;
  const summary = series !== undefined ? summarizeSeries(series) : undefined;
  if (summary === undefined || !(limit > 0)) return [];
  return [...memoryClimbFacts(obs.service, series?.points ?? [], limit), ...(summary.slopePerMin > 0 ? [memoryTrendFact(obs.service, summary, limit)] : [])];
}

/**
 * The longest steady climb of a workload's memory, when it rose at least 10 % of the limit: minutes
 * of climbing, its rate and how close to the limit it peaked. Many minutes of steady growth up to
 * the limit is a leak; a working set too big for its limit is reached within a warm-up.
 */
function memoryClimbFacts(service: string, points: MetricPoint[], limit: number): FactDraft[] {
  const climb = longestClimb(points, 0.1 * limit);
  if (climb === undefined) return [];
  const share = round(climb.peak / limit);
  return [
    {
      key: "memory.climb",
      service,
      value: round(climb.minutes),
      summary: `${service} memory climbed steadily for ${Math.round(climb.minutes)} min at ${round(climb.ratePerMin)} MiB/min, up to ${Math.round(share * 100)}% of its ${limit} MiB limit`,
      attrs: { rate_mib_per_min: round(climb.ratePerMin), peak_share_of_limit: share, limit_mib: limit },
    },
  ];
}

function memoryTrendFact(service: string, summary: MetricSummary, limit: number): FactDraft {
  const minutes = Math.max(0, Math.round((limit - summary.current) / summary.slopePerMin));
  const share = round(summary.current / limit);
  return {
    key: "memory.trend",
    service,
    value: minutes,
    summary: `${service} memory ${Math.round(summary.current)} MiB of its ${limit} MiB limit (${Math.round(share * 100)}%), climbing ${round(summary.slopePerMin)} MiB/min: the limit in ~${minutes} min`,
    attrs: { current_mib: Math.round(summary.current), limit_mib: limit, share_of_limit: share, slope_per_min: round(summary.slopePerMin), baseline_mib: round(summary.baseline) },
  };
}

/** CPU used against what the ready pods may use: a saturated workload queues requests. */
function saturationFacts(obs: ServiceObservations, signals: Signal[]): FactDraft[] {
  const cpu = signals.find((x) => x.metric === "cpu_cores");
  const d = obs.workload?.deployment;
  // Without a CPU limit (0: none set) there is no ceiling to be saturated against.
  if (cpu === undefined || d === undefined || d.readyReplicas === 0 || !(d.cpuLimitCores > 0)) return [];
  const limit = d.readyReplicas * d.cpuLimitCores;
  const saturation = round(cpu.current / limit);
  const demand = cpuDemand(
    cpu,
    signals.find((x) => x.metric === "request_rate"),
  );
  const scaleTo = Math.max(2 * d.desiredReplicas, Math.ceil(demand / (SCALED_CPU_SHARE * d.cpuLimitCores)));
  return [
    {
      key: "cpu.saturation",
      service: obs.service,
      value: saturation,
      summary:
        `${obs.service} uses ${round(cpu.current)} of ${round(limit)} CPU cores its ${d.readyReplicas} ready pods may use (${Math.round(saturation * 100)}%)` +
        (demand > cpu.current * 1.05 ? `; the request rate asks for ~${round(demand)} cores, ${scaleTo} replicas at ${Math.round(SCALED_CPU_SHARE * 100)}% of their limit` : ""),
      attrs: { cores: round(cpu.current), limit_cores: round(limit), demand_cores: round(demand), scale_to_replicas: scaleTo },
    },
  ];
}

/** The share of its CPU limit a scaled-out pod should use, leaving headroom for the next burst. */
const SCALED_CPU_SHARE = 0.7;

/**
 * The CPU the current load asks for: a saturated workload's usage is capped by its limit, so
 * its baseline CPU is scaled by how far the request rate rose above its baseline (never less
 * than what it uses now).
 */
function cpuDemand(cpu: Signal, requests: Signal | undefined): number {
  if (requests === undefined || !(requests.baseline > 0) || !(cpu.baseline > 0)) return cpu.current;
  return Math.max(cpu.current, cpu.baseline * (requests.current / requests.baseline));
}

function kafkaFacts(obs: ServiceObservations): FactDraft[] {
  return obs.consumerGroups.map((g) => {
    const worst = [...g.partitions].sort((a, b) => b.lag - a.lag)[0];
    const others = g.partitions.filter((p) => p !== worst);
    const othersMax = Math.max(0, ...others.map((p) => p.lag));
    return {
      key: "kafka.lag",
      service: obs.service,
      value: g.totalLag,
      summary: `${g.group} on ${g.topic}: lag ${g.totalLag}${worst ? `, worst partition ${worst.partition} (lag ${worst.lag}, committed offset ${worst.committedOffset})` : ""}, DLQ depth ${g.dlqDepth}`,
      attrs: {
        topic: g.topic,
        group: g.group,
        worst_partition: worst?.partition ?? -1,
        worst_offset: worst?.committedOffset ?? -1,
        worst_lag: worst?.lag ?? 0,
        others_max_lag: othersMax,
        dlq_depth: g.dlqDepth,
        has_dlq: g.dlqTopic !== undefined,
      },
    };
  });
}

function logFacts(obs: ServiceObservations, now: number): { facts: FactDraft[]; signatures: LogSignature[] } {
  // The Observer redacted the lines; redacting again costs little and keeps this safe for any caller.
  const lines = obs.logs.map((l) => ({ ...l, message: redactSecrets(l.message) }));
  const signatures = extractSignatures(lines);
  // Labels a host of this cluster starts with (`<service>.<namespace>…`): the workload, what it calls, their Services and namespaces.
  const inCluster = new Set([obs.service, ...(obs.workload?.dependencies ?? []), ...(obs.workload?.dependencyServices ?? []).flatMap((d) => [d.dependency, d.service, d.namespace])]);
  const facts: FactDraft[] = signatures.slice(0, 25).map((sig) => ({
    key: "log.signature",
    service: obs.service,
    value: sig.template,
    summary: `${obs.service} ${sig.level} ×${sig.count}: ${sig.template}`,
    attrs: {
      level: sig.level,
      count: sig.count,
      error_class: errorClass(`${sig.template}\n${sig.sample}`),
      external_host: externalHost(sig.sample, inCluster),
      sample: sig.sample.slice(0, 300),
      minutes_since_first: Math.round((now - sig.firstSeen) / MINUTE),
      // Minutes since the newest line: a burst that stopped reads differently from one still logged.
      minutes_since_last: Math.round((now - sig.lastSeen) / MINUTE),
    },
  }));
  // Secrets can be printed at any level, so every line counts, and only redacted text is kept:
  // the kinds come from the redaction (or from the line, if a caller passed raw lines).
  const exposures = new Map<string, { count: number; sample: string; first: number }>();
  for (const line of obs.logs) {
    for (const kind of line.redactedSecrets ?? secretKinds(line.message)) {
      const e = exposures.get(kind) ?? { count: 0, sample: redactSecrets(line.message).slice(0, 300), first: line.t };
      e.count += 1;
      exposures.set(kind, e);
    }
  }
  for (const signal of securitySignals(obs.logs)) {
    if (signal.refused) {
      // Probes the server turned away, every one: the background of any public endpoint, noted but not abuse.
      facts.push({
        key: "security.probes_refused",
        service: obs.service,
        value: signal.count,
        summary: `${obs.service} turned away ${signal.count} scanner probe(s) (e.g. ${signal.sample}); none was answered`,
        attrs: { sources: signal.sources, sample: signal.sample, minutes_since_first: Math.round((now - signal.firstSeen) / MINUTE) },
      });
      continue;
    }
    facts.push({
      key: "security.signal",
      service: obs.service,
      value: signal.kind,
      summary: `${obs.service} logs show suspected ${signal.kind} ×${signal.count}${signal.sources > 0 ? ` from ${signal.sources} source address(es)` : ""} (e.g. ${signal.sample})`,
      attrs: { count: signal.count, sources: signal.sources, sample: signal.sample, minutes_since_first: Math.round((now - signal.firstSeen) / MINUTE) },
    });
  }
  for (const [kind, e] of exposures) {
    facts.push({
      key: "log.secret_exposure",
      service: obs.service,
      value: kind,
      summary: `${obs.service} printed a ${kind} in its logs ×${e.count} (redacted: ${e.sample})`,
      attrs: { count: e.count, sample: e.sample, minutes_since_first: Math.round((now - e.first) / MINUTE) },
    });
  }
  return { facts, signatures };
}

/**
 * Credentials a workload's running pods may hold stale: the Secrets its template consumes (by
 * name; Suture never reads them) and how many of its pods started before its authentication
 * failures began. A pod reads a Secret (as env, and caches what it mounted) when it starts, so
 * failures that began after every pod started fit credentials changed underneath them.
 */
function credentialFacts(obs: ServiceObservations, signatures: LogSignature[], now: number): FactDraft[] {
  const secrets = obs.workload?.secretRefs ?? [];
  const pods = obs.workload?.pods ?? [];
  const auth = signatures.filter((sig) => errorClass(`${sig.template}\n${sig.sample}`) === "auth");
  if (secrets.length === 0 || pods.length === 0 || auth.length === 0) return [];
  const firstError = Math.min(...auth.map((sig) => sig.firstSeen));
  const startedBefore = pods.filter((p) => p.startedAt <= firstError).length;
  const minutes = Math.round((now - firstError) / MINUTE);
  return [
    {
      key: "secret.consumed",
      service: obs.service,
      value: secrets.length,
      summary: `${obs.service} consumes Secret(s) ${secrets.join(", ")}; ${startedBefore} of ${pods.length} pod(s) started before its authentication failures began ${minutes} min ago`,
      attrs: { secrets: secrets.join(","), pods: pods.length, started_before_auth_errors: startedBefore, all_started_before: startedBefore === pods.length, minutes_since_first_auth_error: minutes },
    },
  ];
}

/**
 * Warnings the cluster raised about a Secret the workload consumes (a sync from a vault that was
 * denied, a rotation that failed): the Secret the pods would re-read has not changed, so a restart
 * cannot bring new credentials. One fact per Secret, with its newest warning.
 */
function secretWarningFacts(obs: ServiceObservations, now: number): FactDraft[] {
  const newest = new Map<string, KubeEvent>();
  for (const e of obs.workload?.secretWarnings ?? []) {
    const secret = (obs.workload?.secretRefs ?? []).find((name) => e.message.includes(name) || e.object.endsWith(`/${name}`)) ?? "";
    newest.set(secret, e);
  }
  return [...newest].map(([secret, e]) => ({
    key: "secret.warning",
    service: obs.service,
    value: secret,
    summary: `Warning about Secret ${secret}, which ${obs.service} consumes: ${e.reason} on ${e.object} ×${e.count}: ${e.message.slice(0, 200)}`,
    attrs: { reason: e.reason, object: e.object, message: e.message.slice(0, 300), count: e.count, minutes_since: Math.max(0, Math.round((now - e.t) / MINUTE)) },
  }));
}

/** What other incidents did to these workloads lately: a fix someone else made is evidence too. */
function otherIncidentFacts(actions: OtherIncidentAction[], now: number): FactDraft[] {
  return actions.map((a) => {
    const minutes = a.at === null ? 0 : Math.max(0, Math.round((now - a.at) / MINUTE));
    const verdict = a.verdict ?? (a.status === "failed" ? "failed" : "pending");
    return {
      key: "remediation.recent",
      service: a.service,
      value: minutes,
      summary: `incident ${a.incidentId} ran ${a.kind === "rollback" ? "the rollback " : ""}${a.tool} on ${a.service} ${minutes} min ago (${a.status}; verify: ${verdict.replace("_", " ")})`,
      attrs: { incident: a.incidentId, tool: a.tool, kind: a.kind, status: a.status, verdict },
    };
  });
}

/** Everything perceive derives from the read tools: evidence facts, signatures, and signals. */
export interface ExtractedEvidence {
  evidence: Evidence[];
  signatures: Record<string, LogSignature[]>;
  signals: Signal[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Marks each `config.changed` fact with `named_in_logs`: whether an error line of the workload
 * (or of the alerting one) names the ConfigMap or one of the keys that changed — the errors
 * pointing at the change in their own words. Names shorter than 3 characters are ignored.
 */
function markChangesNamedInLogs(drafts: FactDraft[], signatures: Record<string, LogSignature[]>, alertService: string): void {
  for (const draft of drafts) {
    if (draft.key !== "config.changed" || draft.attrs === undefined) continue;
    const names = [String(draft.attrs.configmap ?? ""), ...String(draft.attrs.keys ?? "").split(",")].filter((n) => n.length >= 3);
    // A new value long enough to be specific (a URL, a host, an issuer): an error quoting it names the change.
    const values = String(draft.attrs.changed_values ?? "")
      .split("\n")
      .filter((v) => v.length >= 8 && !/^(true|false|\d+)$/i.test(v));
    const errors = [...(signatures[draft.service] ?? []), ...(draft.service === alertService ? [] : (signatures[alertService] ?? []))].filter((sig) => sig.level === "error" || sig.level === "fatal");
    const named =
      names.some((name) => {
        const pattern = new RegExp(`(^|[^A-Za-z0-9_])${escapeRegExp(name)}($|[^A-Za-z0-9_])`, "i");
        return errors.some((sig) => pattern.test(sig.template) || pattern.test(sig.sample));
      }) || values.some((value) => errors.some((sig) => sig.sample.includes(value)));
    draft.attrs = { ...draft.attrs, named_in_logs: named };
  }
}

/**
 * `dependency.blamed`: a workload's own error lines (≥ 10, error or fatal) name a service it calls
 * whose error rate or latency is abnormal too — the failures come from the callee, whatever the
 * caller changed. Value: the dependency; attrs: the caller's line and how many.
 */
function blamedDependencyFacts(observations: ServiceObservations[], signatures: Record<string, LogSignature[]>, drafts: FactDraft[]): FactDraft[] {
  const facts: FactDraft[] = [];
  const abnormal = new Set(drafts.filter((d) => d.key === "metric.anomalous" && (d.value === "error_rate" || d.value === "latency_p99_ms")).map((d) => d.service));
  for (const obs of observations) {
    const errors = (signatures[obs.service] ?? []).filter((sig) => (sig.level === "error" || sig.level === "fatal") && sig.count >= 10);
    for (const dependency of obs.workload?.dependencies ?? []) {
      if (!abnormal.has(dependency) || dependency.length < 3) continue;
      const pattern = new RegExp(`(^|[^A-Za-z0-9_-])${escapeRegExp(dependency)}($|[^A-Za-z0-9_-])`, "i");
      const sig = errors.find((s) => pattern.test(s.sample));
      if (sig === undefined) continue;
      facts.push({
        key: "dependency.blamed",
        service: obs.service,
        value: dependency,
        summary: `${obs.service}'s errors name ${dependency}, which is failing too (×${sig.count}: ${sig.sample.slice(0, 160)})`,
        attrs: { count: sig.count, sample: sig.sample.slice(0, 300) },
      });
    }
  }
  return facts;
}

/** The metrics an alert's own words point at, by the cause class they name. */
const CLASS_METRICS: Record<string, MetricName[]> = {
  latency: ["latency_p99_ms"],
  errors: ["error_rate"],
  saturation: ["cpu_cores"],
  memory: ["memory_mib"],
  lag: ["consumer_lag"],
  not_ready: ["ready_replicas"],
  replicas: ["ready_replicas"],
};

/** Longest abnormal stretch, in minutes, still read as a transient one. */
const TRANSIENT_MAX_MINUTES = 60;

/**
 * `alert.signal_recovered`: a metric the alert's words name (latency, errors, CPU…) went
 * abnormal for a while within the window and has been back at its baseline since — the symptom
 * the alert reports is over (a batch job's burst, a long alert window firing late). Value:
 * minutes since the last abnormal sample. Not emitted while the metric is abnormal now.
 */
function recoveredSignalFacts(obs: ServiceObservations, classes: string[], now: number): FactDraft[] {
  const facts: FactDraft[] = [];
  const metrics = new Set(classes.flatMap((c) => CLASS_METRICS[c] ?? []));
  for (const metric of metrics) {
    const series = obs.metrics[metric];
    const summary = series !== undefined ? summarizeSeries(series) : undefined;
    if (series === undefined || summary === undefined || isAnomalous(metric, summary.current, summary.baseline)) continue;
    const episodes = episodesOf(series.points, (v) => isAnomalous(metric, v, summary.baseline));
    const last = episodes[episodes.length - 1];
    if (last === undefined || last.ongoing) continue;
    const minutes = Math.round((now - last.end) / MINUTE);
    const lasted = Math.max(1, Math.round((last.end - last.start) / MINUTE));
    const peak = Math.max(...series.points.filter((p) => p.t >= last.start && p.t <= last.end).map((p) => p.v));
    facts.push({
      key: "alert.signal_recovered",
      service: obs.service,
      value: minutes,
      summary: `${obs.service} ${metric} was abnormal for ${lasted} min (peak ${round(peak)}, baseline ${round(summary.baseline)}) and has been back at baseline for ${minutes} min`,
      attrs: { metric, episode_minutes: lasted, transient: lasted <= TRANSIENT_MAX_MINUTES, peak: round(peak), baseline: round(summary.baseline), episodes: episodes.length },
    });
  }
  return facts;
}

/** Backlog metrics: what a consumer drains by itself once it consumes again. */
const BACKLOG_METRICS: readonly MetricName[] = ["consumer_lag"];

/**
 * `alert.backlog_draining`: a backlog the alert's words name (consumer lag) is above its baseline
 * but falling — every sample of the last 5 min lower than the one before it, most of the episode's
 * excess already gone — and at the last 5 minutes' pace reaches baseline within
 * {@link BURST_DRAIN_HORIZON_MINUTES} (rules decide how soon is soon enough). Value: the projected minutes; attrs: peak, current, baseline, the
 * share of the excess drained, how long the episode has lasted, and how many of the workload's
 * other metrics are abnormal.
 */
function drainingBacklogFacts(obs: ServiceObservations, classes: string[], now: number): FactDraft[] {
  const facts: FactDraft[] = [];
  const named = new Set(classes.flatMap((c) => CLASS_METRICS[c] ?? []));
  for (const metric of BACKLOG_METRICS.filter((m) => named.has(m))) {
    const series = obs.metrics[metric];
    const summary = series !== undefined ? summarizeSeries(series) : undefined;
    if (series === undefined || summary === undefined) continue;
    const latest = series.points[series.points.length - 1];
    if (latest === undefined || !isAnomalous(metric, latest.v, summary.baseline)) continue;
    const recent = series.points.filter((p) => p.t >= latest.t - 5 * MINUTE);
    const first = recent[0];
    if (first === undefined || recent.length < 3 || latest.t - first.t < 3 * MINUTE) continue;
    const falling = recent.every((p, i) => i === 0 || p.v < (recent[i - 1]?.v ?? Infinity));
    const pace = (first.v - latest.v) / ((latest.t - first.t) / MINUTE);
    if (!falling || pace <= 0) continue;
    const episodes = episodesOf(series.points, (v) => isAnomalous(metric, v, summary.baseline));
    const episode = episodes[episodes.length - 1];
    const start = episode?.start ?? series.points[0]?.t ?? now;
    const peak = Math.max(...series.points.filter((p) => p.t >= start).map((p) => p.v));
    const excess = peak - summary.baseline;
    const drained = excess > 0 ? (peak - latest.v) / excess : 0;
    const minutes = (latest.v - summary.baseline) / pace;
    if (minutes > BURST_DRAIN_HORIZON_MINUTES) continue;
    let others = 0;
    // The consumers working harder (more requests, more CPU) is the drain itself, not a symptom.
    let symptoms = 0;
    for (const [other, s] of Object.entries(obs.metrics)) {
      const sum = s !== undefined ? summarizeSeries(s) : undefined;
      if (other === metric || sum === undefined || !isAnomalous(other, sum.current, sum.baseline)) continue;
      others++;
      if (!(other === "cpu_cores" || (other === "request_rate" && sum.current > sum.baseline))) symptoms++;
    }
    const burst = burstShape(series.points, start, peak, summary.baseline);
    facts.push({
      key: "alert.backlog_draining",
      service: obs.service,
      value: Math.round(minutes * 10) / 10,
      summary: `${obs.service} ${metric} is ${round(latest.v)} (peak ${round(peak)}, baseline ${round(summary.baseline)}): ${Math.round(drained * 100)} % of the excess drained, falling ${round(pace)}/min for the last ${Math.round((latest.t - first.t) / MINUTE)} min, at baseline in ~${Math.ceil(minutes)} min at this pace`,
      attrs: {
        metric,
        peak: round(peak),
        current: round(latest.v),
        baseline: round(summary.baseline),
        drained_pct: Math.round(drained * 100),
        pace_per_min: round(pace),
        episode_minutes: Math.round((now - start) / MINUTE),
        others_abnormal: others,
        symptoms_abnormal: symptoms,
        arrived_in_minutes: burst.arrivedInMinutes,
        falling_since_peak: burst.fallingSincePeak,
      },
    });
  }
  return facts;
}

/** How far ahead the drain of a backlog that arrived in one burst may be projected (a nightly batch takes hours). */
const BURST_DRAIN_HORIZON_MINUTES = 240;

/**
 * The shape of a backlog episode: how many minutes it took from the episode's start to 80 % of
 * its peak excess (a producer's burst arrives in a minute or two; a consumer that stalls lets it
 * grow for as long as it stalls), and whether it has fallen over every 5-minute step since the peak.
 */
function burstShape(points: MetricPoint[], start: number, peak: number, baseline: number): { arrivedInMinutes: number; fallingSincePeak: boolean } {
  const episode = points.filter((p) => p.t >= start);
  const near = episode.find((p) => p.v - baseline >= 0.8 * (peak - baseline));
  const atPeak = episode.find((p) => p.v === peak);
  const arrivedInMinutes = near !== undefined ? Math.round((near.t - start) / MINUTE) : -1;
  if (atPeak === undefined) return { arrivedInMinutes, fallingSincePeak: false };
  const after = episode.filter((p) => p.t >= atPeak.t);
  const steps: number[] = [];
  for (let t = atPeak.t; t <= (after[after.length - 1]?.t ?? atPeak.t); t += 5 * MINUTE) {
    const at = after.find((p) => p.t >= t);
    if (at !== undefined) steps.push(at.v);
  }
  const last = after[after.length - 1];
  if (last !== undefined && steps[steps.length - 1] !== last.v) steps.push(last.v);
  const fallingSincePeak = steps.length >= 3 && steps.every((v, i) => i === 0 || v < (steps[i - 1] ?? Infinity));
  return { arrivedInMinutes, fallingSincePeak };
}

/**
 * `alert.recurrence`: earlier episodes of this alert that ended by themselves within the window
 * (value), the longest of them, how long this one has been firing, and how many of the workload's
 * metrics the alert's words do not name are abnormal now (`other_abnormal`): a pattern of short
 * self-ending episodes with nothing else wrong is a threshold in the metric's normal swing.
 */
function recurrenceFact(alert: Alert, recurrence: NonNullable<AlertHistorySummary["recurrence"]>, alerting: ServiceObservations | undefined, classes: string[], now: number): FactDraft {
  const named = new Set(classes.flatMap((c) => CLASS_METRICS[c] ?? []));
  let other = 0;
  for (const [metric, series] of Object.entries(alerting?.metrics ?? {})) {
    const summary = series !== undefined ? summarizeSeries(series) : undefined;
    if (summary !== undefined && !named.has(metric as MetricName) && isAnomalous(metric, summary.current, summary.baseline)) other++;
  }
  const current = Math.max(0, Math.round((now - Date.parse(alert.startsAt)) / MINUTE));
  const longest = Math.round(recurrence.longestMinutes);
  return {
    key: "alert.recurrence",
    service: alert.service,
    value: recurrence.episodes,
    summary: `${alert.name} fired and ended by itself ${recurrence.episodes} time(s) in the ${recurrence.windowMinutes} min before this episode (longest ${longest} min); this one has fired for ${current} min; ${other} other metric(s) of ${alert.service} abnormal`,
    attrs: { longest_minutes: longest, current_minutes: current, window_minutes: recurrence.windowMinutes, other_abnormal: other },
  };
}

/** Log lines of schema-migration tools applying a change (Flyway, Liquibase, Alembic, Rails, Django, Prisma, golang-migrate, Knex…). */
const MIGRATION_APPLIED =
  /\b(migrating schema|successfully applied \d+ migrations?|applying migration|running (?:database )?migrations?|alembic.*(?:upgrade|running upgrade)|liquibase.*(?:update|changeset)|migrations? (?:applied|ran|complete)|migrated \d+|schema (?:upgraded|migrated) to)\b/i;

/**
 * `log.schema_migration`: the workload's own logs show it applied a schema migration (value:
 * minutes since the first such line). Old code may not read the new schema, whatever the
 * rollout's change cause says, so rolling back is not the safe default.
 */
function migrationFacts(service: string, lines: LogLine[], now: number): FactDraft[] {
  // Any level: migration tools log at info.
  const applied = lines.filter((line) => MIGRATION_APPLIED.test(line.message));
  const first = applied.reduce((min, line) => Math.min(min, line.t), Infinity);
  if (applied.length === 0 || !Number.isFinite(first)) return [];
  const minutes = Math.round((now - first) / MINUTE);
  return [
    {
      key: "log.schema_migration",
      service,
      value: minutes,
      summary: `${service} logged a schema migration ${minutes} min ago: ${redactSecrets(applied[0]?.message ?? "").slice(0, 160)}`,
      attrs: { lines: applied.length },
    },
  ];
}

/**
 * A datastore's own maintenance announcing itself in its log (at any level): PostgreSQL's
 * autovacuum (an anti-wraparound one runs for hours and shows as the oldest transaction), a manual
 * VACUUM or REINDEX, an LSM store's compaction.
 */
const MAINTENANCE_STARTED =
  /\b(automatic (?:aggressive )?vacuum|autovacuum(?: worker)? (?:started|launched|running)|vacuum to prevent wraparound|to prevent wraparound|reindex(?:ing)? (?:started|table|index)|(?:major |full )?compaction (?:started|running|in progress)|compacting (?:large )?(?:partition|sstables?|table))\b/i;
/** The same maintenance reporting that it ended. */
const MAINTENANCE_ENDED = /\b(vacuum|reindex|compaction)\b.*\b(finished|completed?|done|ended)\b|\bfinished (?:vacuum|compaction)/i;

/**
 * `log.maintenance`: the workload's own log says a maintenance operation of the datastore started
 * (value: minutes since the first such line) and has not reported its end since. Such work holds a
 * snapshot or I/O for as long as it runs; an alert on the age of the oldest transaction counts it.
 */
function maintenanceFacts(service: string, lines: LogLine[], now: number): FactDraft[] {
  const started = lines.filter((line) => MAINTENANCE_STARTED.test(line.message)).sort((a, b) => a.t - b.t);
  const first = started[0];
  if (first === undefined) return [];
  const last = started[started.length - 1]?.t ?? first.t;
  if (lines.some((line) => line.t >= last && MAINTENANCE_ENDED.test(line.message))) return [];
  const minutes = Math.round((now - first.t) / MINUTE);
  return [
    {
      key: "log.maintenance",
      service,
      value: minutes,
      summary: `${service} logged its own maintenance starting ${minutes} min ago, not reported finished: ${redactSecrets(first.message).slice(0, 180)}`,
      attrs: { lines: started.length },
    },
  ];
}

/**
 * A replica, consumer or new cluster member saying, in its own log, that it is closing a gap it
 * had: catching up, lag shrinking, a new member joining and streaming its data (Cassandra's
 * bootstrap, MongoDB's initial sync, a replica's full resync, a follower syncing with its leader).
 */
const CATCHING_UP =
  /\bcatching up\b|\b(replay|replication|replica|apply|consumer)?[ _-]?lag(?: is)? (?:decreasing|shrinking|falling|dropping|going down)\b|\bcaught up\b|\bjoining\b.*\b(bootstrap|stream|sync)|\bstarting to bootstrap\b|\bbootstrap streaming\b|\bstreaming (?:session|progress)\b|\binitial sync\b|\bfull resync\b|\bsyncing with (?:the )?(?:leader|master|primary)\b/i;

/**
 * `log.catching_up`: the workload's own log said within the last 5 minutes that it is closing a
 * lag (value: how many such lines in the window read); `minutes_since_first`, `minutes_since_last`.
 */
function catchingUpFacts(service: string, lines: LogLine[], now: number): FactDraft[] {
  const said = lines.filter((line) => CATCHING_UP.test(line.message)).sort((a, b) => a.t - b.t);
  const first = said[0];
  const last = said[said.length - 1];
  if (first === undefined || last === undefined || now - last.t > 5 * MINUTE) return [];
  return [
    {
      key: "log.catching_up",
      service,
      value: said.length,
      summary: `${service} logged ${said.length} time(s) that it is catching up, the last ${Math.round((now - last.t) / MINUTE)} min ago: ${redactSecrets(last.message).slice(0, 160)}`,
      attrs: { minutes_since_first: Math.round((now - first.t) / MINUTE), minutes_since_last: Math.round((now - last.t) / MINUTE) },
    },
  ];
}

/** An access-log line's request and status: `GET /v1/passes/health 410`, `"GET /x HTTP/1.1" 404`. */
const ACCESS_LINE = /\b(?:GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS)\s+(\S+)(?:\s+HTTP\/[0-9.]+"?)?\s+([1-5]\d\d)\b/;

/**
 * `probe.path_status`: what the workload's own access log answers for the path a probe checks
 * (an `IngressHost` target's URL path), when it logs that path: the status of its latest such
 * line (value), how many lines, minutes since the last. Tells a probe of a route the service no
 * longer serves (410 Gone) from a service that fails.
 */
function probedPathFacts(alert: Alert, obs: ServiceObservations, now: number): FactDraft[] {
  const path = alert.target?.kind !== undefined && alert.target.path !== undefined ? alert.target.path : undefined;
  if (path === undefined || path === "/") return [];
  const hits = obs.logs
    .map((line) => ({ line, m: ACCESS_LINE.exec(line.message) }))
    .filter((h): h is { line: LogLine; m: RegExpExecArray } => h.m !== null && (h.m[1] ?? "").split("?")[0] === path)
    .sort((a, b) => a.line.t - b.line.t);
  const last = hits[hits.length - 1];
  if (last === undefined) return [];
  const status = Number(last.m[2]);
  return [
    {
      key: "probe.path_status",
      service: obs.service,
      value: status,
      summary: `${obs.service} answered the probed path ${path} with ${status} (${hits.length} line(s), the last ${Math.round((now - last.line.t) / MINUTE)} min ago): ${redactSecrets(last.line.message).slice(0, 160)}`,
      attrs: { path, lines: hits.length, minutes_since_last: Math.round((now - last.line.t) / MINUTE) },
    },
  ];
}

/** A replica configured to apply changes late on purpose, in its own words (PostgreSQL's recovery_min_apply_delay, MySQL's SOURCE_DELAY). */
const DELAYED_APPLY = /\brecovery_min_apply_delay\b|\bdelaying application of WAL\b|\b(?:SOURCE|MASTER)_DELAY\b|\bSQL_Delay\b|\bdelayed (?:replica|standby|replication)\b/i;

/** `log.delayed_replica`: the workload's own log (any level) says it is a replica that applies changes late by design; value: lines. */
function delayedReplicaFacts(service: string, lines: LogLine[], now: number): FactDraft[] {
  const said = lines.filter((line) => DELAYED_APPLY.test(line.message)).sort((a, b) => a.t - b.t);
  const last = said[said.length - 1];
  if (last === undefined) return [];
  return [
    {
      key: "log.delayed_replica",
      service,
      value: said.length,
      summary: `${service} says it applies changes late by design, the last time ${Math.round((now - last.t) / MINUTE)} min ago: ${redactSecrets(last.message).slice(0, 160)}`,
      attrs: { minutes_since_last: Math.round((now - last.t) / MINUTE) },
    },
  ];
}

/** Whole minutes since the alert started firing (its `startsAt`), never negative. */
function minutesFiring(alert: Alert, now: number): number {
  const started = Date.parse(alert.startsAt);
  return Number.isFinite(started) ? Math.max(0, Math.round((now - started) / 60_000)) : 0;
}

/**
 * Turns raw observations into facts a rule (or a person) can cite: pod reasons, events,
 * deploy and config changes, port and policy mismatches, abnormal metrics, log signatures.
 * Facts of the alerting service come first so rules bind to it before its dependencies.
 */
export function extractEvidence(
  alert: Alert,
  observations: ServiceObservations[],
  history: AlertHistorySummary,
  now: number,
  others: OtherIncidentAction[] = [],
  regression?: RegressionFinding,
): ExtractedEvidence {
  const drafts: FactDraft[] = [
    {
      key: "alert.firing",
      service: alert.service,
      value: alert.name,
      summary: `alert ${alert.name} (${alert.severity}) firing on ${alert.service !== "" ? alert.service : alert.target !== undefined ? describeTarget(alert.target) : "an unnamed target"} for ${minutesFiring(alert, now)} min`,
      attrs: { severity: alert.severity, minutes_firing: minutesFiring(alert, now) },
    },
    {
      key: "alert.flaps",
      service: alert.service,
      value: history.resolved,
      summary: `alert resolved and re-fired ${history.resolved} time(s) in the last ${history.windowMinutes} min`,
      attrs: { firing: history.firing, window_minutes: history.windowMinutes },
    },
  ];
  if (regression !== undefined) drafts.push(...regressionFacts(regression, alert.service, observations.find((o) => o.role === "alerting")?.deploys ?? []));
  for (const [label, value] of Object.entries(alert.labels).sort()) {
    drafts.push({ key: `alert.label.${label}`, service: alert.service, value, summary: `alert label ${label}=${value}` });
  }
  const signatures: Record<string, LogSignature[]> = {};
  const signals: Signal[] = [];
  const ordered = [...observations].sort((a, b) => (a.role === b.role ? 0 : a.role === "alerting" ? -1 : 1));
  for (const obs of ordered) {
    // When this workload's symptoms began: what its changes are compared against.
    const onset = symptomOnset(obs);
    drafts.push(...workloadFacts(obs, now, alert.service, onset), ...deployFacts(obs, now, onset), ...kafkaFacts(obs));
    const m = metricFacts(obs);
    drafts.push(...m.facts, ...saturationFacts(obs, m.signals), ...memoryTrendFacts(obs));
    signals.push(...m.signals);
    const l = logFacts(obs, now);
    drafts.push(
      ...l.facts,
      ...credentialFacts(obs, l.signatures, now),
      ...secretWarningFacts(obs, now),
      ...migrationFacts(obs.service, obs.logs, now),
      ...maintenanceFacts(obs.service, obs.logs, now),
      ...catchingUpFacts(obs.service, obs.logs, now),
      ...delayedReplicaFacts(obs.service, obs.logs, now),
    );
    signatures[obs.service] = l.signatures;
  }
  markChangesNamedInLogs(drafts, signatures, alert.service);
  drafts.push(...blamedDependencyFacts(ordered, signatures, drafts));
  drafts.push(...otherIncidentFacts(others, now));
  const alertText = alertTextFacts(alert);
  drafts.push(...alertText, ...alertClaimFacts(alert, drafts));
  const alerting = ordered.find((o) => o.role === "alerting" && o.service === alert.service);
  const classes = alertText.map((f) => String(f.value));
  if (alerting !== undefined) drafts.push(...recoveredSignalFacts(alerting, classes, now), ...drainingBacklogFacts(alerting, classes, now), ...probedPathFacts(alert, alerting, now));
  if (history.recurrence !== undefined && history.recurrence.episodes > 0) drafts.push(recurrenceFact(alert, history.recurrence, alerting, classes, now));
  return { evidence: withFacts([], drafts), signatures, signals };
}

/** `evidence` with `drafts` appended, numbered after it (`ev-<n>`, the ids rules and briefs cite). */
export function withFacts(evidence: Evidence[], drafts: Array<Omit<Evidence, "id" | "attrs"> & { attrs?: Evidence["attrs"] }>): Evidence[] {
  return [...evidence, ...drafts.map((d, i) => ({ ...d, id: `ev-${evidence.length + i + 1}`, attrs: d.attrs ?? {} }))];
}
