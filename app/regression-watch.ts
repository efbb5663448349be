import { parseAlertmanagerWebhook, type Alert } from "../domain/alerts/alert.js";
import { imageRunsVersion, workloadKey, type Build, type WorkloadRef } from "../domain/deploys.js";
import type { FlaggedSignature, RegressionFinding, WatchStatus } from "../domain/regressions.js";
import { redactSecrets } from "../domain/secrets.js";
import type { EnvironmentAdapter, LogLine } from "../environments/adapter.js";
import { logMessageText } from "../evidence/signatures.js";
import { Baseline, type BaselineOptionsInput } from "../regression/baseline.js";
import { detectRegression, parseDetectionConfig, type DetectionConfig, type DetectionConfigInput, type DetectionResult } from "../regression/detect.js";
import { opensIncident, triageDeploy, type TriageVerdict } from "../regression/triage.js";
import { SignatureVocabulary } from "../regression/vocabulary.js";
import { recordAlert } from "../store/alerts.js";
import { audit } from "../store/audit.js";
import { withTransaction } from "../store/database.js";
import type { StoredDeploy } from "../store/deploys.js";
import { createIncident, newIncidentId } from "../store/incidents.js";
import type { IncidentQueue } from "../store/queue.js";
import { recordLook } from "../store/regressions.js";
import { clusterEnvironmentId } from "./cluster.js";
import type { Suture } from "./suture.js";

const MINUTE = 60_000;
/** Log lines read per look: a busy workload writes a few hundred a minute. */
const LOG_LINES = 5000;
/** Levels whose lines are error signatures (info lines are traffic, not errors). */
const ERROR_LEVELS: ReadonlySet<LogLine["level"]> = new Set(["warn", "error", "fatal"]);
/** Exemplar lines kept per flagged signature (redacted, truncated): the brief and triage read them. */
const EXEMPLARS = 3;
const EXEMPLAR_CHARS = 1000;
/** The alert name a regression incident carries (its labels say which deploy; its content comes from the store). */
export const REGRESSION_ALERT = "DeployRegression";

/** How the watch runs: the detection config (issue 18 defaults) and the baseline's bucketing and window. */
export interface RegressionWatchOptions {
  detection?: DetectionConfigInput;
  baseline?: BaselineOptionsInput;
  /** Whose deploys and baselines: '' (default) for the cluster Suture runs against, a scenario run's own scope for a simulated world. */
  scope?: string;
}

/** What one look at a deploy decided. */
export interface LookResult {
  deployId: number;
  status: WatchStatus;
  reason: string;
  detection?: DetectionResult;
  finding?: RegressionFinding;
  /** The regression incident opened by this look. */
  incidentId?: string;
}

/** Where a regression incident runs: its world, and the queue to start it on (absent: the caller runs it). */
export interface OpenIn {
  environmentId: string | null;
  queue?: Pick<IncidentQueue, "enqueue">;
  /** A scenario's name, when the world is a scenario's. */
  scenario?: string;
  /** The incident id to use (a scenario's world is saved under it). */
  incidentId?: string;
}

/**
 * The regression watch as a use case (docs/regression-watch.md): counts a workload's error
 * signatures into its stored seasonal baseline, and looks at each deploy's first hour against it.
 * A flagged regression is triaged against the deploy's changed files; only a causal link above
 * low opens an incident (through the same graph and policy as an alert); everything else is
 * recorded with its evidence and left alone.
 */
export class RegressionWatcher {
  readonly detection: DetectionConfig;
  private readonly scope: string;

  constructor(
    private readonly suture: Pick<Suture, "db" | "store">,
    private readonly env: Pick<EnvironmentAdapter, "tailLogs">,
    private readonly options: RegressionWatchOptions = {},
  ) {
    this.detection = parseDetectionConfig(options.detection ?? {});
    this.scope = options.scope ?? "";
  }

  /** Error lines of a workload in [from, to), secrets redacted (they may become exemplars). */
  private async errorLines(workload: WorkloadRef, from: number, to: number): Promise<LogLine[]> {
    const lines = await this.env.tailLogs(workload.name, LOG_LINES);
    return lines.filter((l) => ERROR_LEVELS.has(l.level) && l.t >= from && l.t < to).map((l) => ({ ...l, message: redactSecrets(l.message) }));
  }

  /**
   * Counts the workload's error signatures into its baseline, one bucket at a time, up to `now`.
   * Not while a watch of the workload is open (a regression's lines must not become its own
   * baseline), and a regression's window is skipped once judged. Returns the buckets added.
   */
  async collect(workload: WorkloadRef, now: number): Promise<number> {
    const stored = await this.suture.store.loadSignatureBaseline(workload, this.scope);
    const baseline = stored !== undefined ? Baseline.fromJSON(stored.baseline) : new Baseline(workloadKey(workload), this.options.baseline ?? {});
    const vocabulary = stored !== undefined ? SignatureVocabulary.fromJSON(stored.vocabulary) : new SignatureVocabulary();
    const bucketMs = baseline.options.bucketMinutes * MINUTE;
    const lines = await this.env.tailLogs(workload.name, LOG_LINES);
    const oldest = lines[0]?.t;
    if (oldest === undefined) return 0;
    // A bucket counts only when every line of it is still retained: start at the first whole bucket.
    let from = Math.max(stored?.observedTo ?? 0, Math.ceil(oldest / bucketMs) * bucketMs);
    let until = Math.floor(now / bucketMs) * bucketMs;
    const watches = (await this.suture.store.recentRegressionWatches(200, this.scope)).filter((w) => workloadKey(w.workload) === workloadKey(workload));
    for (const w of watches) {
      const at = w.deployAt.getTime();
      if (w.status === "watching") until = Math.min(until, Math.floor(at / bucketMs) * bucketMs);
      else if (w.status !== "clean" && w.lastLookAt !== null && w.lastLookAt > from && at < until) from = Math.max(from, Math.ceil(w.lastLookAt / bucketMs) * bucketMs);
    }
    let added = 0;
    const errors = lines.filter((l) => ERROR_LEVELS.has(l.level));
    for (let start = from; start + bucketMs <= until; start += bucketMs) {
      const inBucket = errors.filter((l) => l.t >= start && l.t < start + bucketMs).map((l) => redactSecrets(l.message));
      const counts = new Map<string, number>();
      for (const s of vocabulary.signaturesOf(inBucket)) counts.set(s, (counts.get(s) ?? 0) + 1);
      baseline.observe(start, counts);
      added += 1;
    }
    if (added === 0 && stored !== undefined) return 0;
    await this.suture.store.saveSignatureBaseline(workload, { baseline: baseline.toJSON(), vocabulary: vocabulary.toJSON(), observedTo: Math.max(from, until) }, this.scope);
    return added;
  }

  /**
   * One look at a deploy: its error signatures since the deploy against the baseline. A flagged
   * regression is triaged; a causal link above low opens a regression incident (returned), any
   * other candidate is recorded and left alone; a watch without one ends clean after watchMinutes.
   */
  async look(deploy: StoredDeploy, now: number, openIn: OpenIn): Promise<LookResult> {
    const watch = await this.suture.store.startRegressionWatch(deploy.id);
    if (watch.status !== "watching") return { deployId: deploy.id, status: watch.status, reason: watch.reason, ...(watch.incidentId !== null ? { incidentId: watch.incidentId } : {}) };
    const at = deploy.at.getTime();
    const end = at + this.detection.watchMinutes * MINUTE;
    const to = Math.min(now, end);
    if (to - at < MINUTE) return this.record(deploy.id, now, { status: "watching", reason: "less than a minute since the deploy" });
    const stored = await this.suture.store.loadSignatureBaseline(deploy.workload, this.scope);
    if (stored === undefined) return this.record(deploy.id, now, { status: "skipped", reason: `no baseline for ${workloadKey(deploy.workload)} yet: its error signatures were never counted` });
    const baseline = Baseline.fromJSON(stored.baseline);
    const vocabulary = SignatureVocabulary.fromJSON(stored.vocabulary);
    const lines = await this.errorLines(deploy.workload, at, to);
    const names = vocabulary.signaturesOf(lines.map((l) => l.message));
    const counts: Record<string, number> = {};
    const exemplars = new Map<string, string[]>();
    names.forEach((s, i) => {
      counts[s] = (counts[s] ?? 0) + 1;
      const list = exemplars.get(s) ?? [];
      // What the line says without its framing (a JSON or logfmt line's message and error, unescaped): what triage reads.
      const raw = lines[i]?.message;
      const line = raw === undefined ? undefined : logMessageText(raw);
      if (list.length < EXEMPLARS && line !== undefined && !list.includes(line)) list.push(line.slice(0, EXEMPLAR_CHARS));
      exemplars.set(s, list);
    });
    const detection = detectRegression({ workload: workloadKey(deploy.workload), version: deploy.version, at }, baseline, { from: at, to, counts }, this.detection);
    if (detection.status === "skipped") return { ...(await this.record(deploy.id, now, { status: "skipped", reason: detection.reason ?? "not judged" })), detection };
    const candidate = detection.candidate;
    if (candidate === undefined) {
      if (to < end) return { ...(await this.record(deploy.id, now, { status: "watching", reason: `no signature rose in ${Math.round((to - at) / MINUTE)} min` })), detection };
      return {
        ...(await this.record(deploy.id, now, { status: "clean", reason: `no error signature rose in the ${this.detection.watchMinutes}-minute watch (${detection.tests.length} tested)` })),
        detection,
      };
    }
    const flagged: FlaggedSignature[] = candidate.signatures.map((t) => ({
      signature: t.signature,
      observed: t.observed,
      expected: t.expected,
      rateRatio: t.rateRatio,
      p: t.p,
      q: t.q,
      seenBefore: t.seenBefore,
      exemplars: exemplars.get(t.signature) ?? [],
    }));
    const triage = triageDeploy({ changedFiles: deploy.changedFiles, ...(deploy.migration !== null ? { migration: deploy.migration } : {}) }, flagged);
    const finding: RegressionFinding = {
      deployId: deploy.id,
      workload: deploy.workload,
      version: deploy.version,
      deployAt: deploy.at.toISOString(),
      window: { from: at, to },
      flagged,
      triage: {
        isRuntimeChange: triage.isRuntimeChange,
        causalLink: triage.causalLink,
        confidence: triage.confidence,
        score: triage.score,
        evidence: triage.evidence,
        migration: triage.migration,
        contractChange: triage.contractChange,
        rollbackSafe: triage.rollbackSafe,
        suspects: triage.suspects,
      },
    };
    const rose = `${flagged.length} error signature(s) rose after ${deploy.version} (${flagged.map((f) => `${f.observed} vs ${f.expected.toFixed(1)} expected${f.seenBefore ? "" : ", new"}`).join("; ")})`;
    if (!opensIncident(triage)) {
      const why = !triage.isRuntimeChange
        ? "the deploy changed no runtime code"
        : `triage found ${triage.confidence === "none" ? "no" : `only a ${triage.confidence}-confidence`} link between the changed files and the errors`;
      return { ...(await this.record(deploy.id, now, { status: "recorded", reason: `${rose}; ${why}: recorded, not acted on`, finding })), detection, finding };
    }
    const incidentId = await this.openIncident(deploy, finding, now, `${rose}; triage: ${triage.confidence} confidence (${triage.evidence[0] ?? ""})`, openIn);
    if (incidentId === undefined) {
      const current = await this.suture.store.regressionWatch(deploy.id);
      return { deployId: deploy.id, status: current?.status ?? "regression", reason: current?.reason ?? "judged by another look", ...(current?.incidentId ? { incidentId: current.incidentId } : {}) };
    }
    return { deployId: deploy.id, status: "regression", reason: rose, detection, finding, incidentId };
  }

  private async record(deployId: number, now: number, u: { status: WatchStatus; reason: string; finding?: RegressionFinding }): Promise<LookResult> {
    await this.suture.store.recordRegressionLook(deployId, { status: u.status, lookAt: now, reason: u.reason, ...(u.finding !== undefined ? { finding: u.finding } : {}) });
    return { deployId, status: u.status, reason: u.reason, ...(u.finding !== undefined ? { finding: u.finding } : {}) };
  }

  /**
   * Opens the regression incident, its alert, the watch's verdict, the audit entry and (with a
   * queue) its job in one transaction: a look that loses a race to another rolls back and opens nothing.
   */
  private async openIncident(deploy: StoredDeploy, finding: RegressionFinding, now: number, reason: string, openIn: OpenIn): Promise<string | undefined> {
    const { alert, rawBody } = regressionAlert(deploy, finding, now);
    const id = openIn.incidentId ?? newIncidentId();
    try {
      return await withTransaction(this.suture.db, async (client) => {
        const incidentId = await createIncident(client, {
          id,
          alert,
          environmentId: openIn.environmentId,
          source: alert.source,
          ...(openIn.scenario !== undefined ? { scenario: openIn.scenario } : {}),
        });
        await recordAlert(client, { incidentId, alert, rawBody });
        const won = await recordLook(client, deploy.id, { status: "regression", lookAt: now, reason, finding, incidentId });
        if (!won) throw new LostRace();
        await audit(client, {
          incidentId,
          actor: "regression-watch",
          kind: "opened",
          summary: `opened from the regression watch: ${reason}`,
          detail: { deployId: deploy.id, version: deploy.version, flagged: finding.flagged.map((f) => f.signature), triage: finding.triage },
          envTime: now,
        });
        await openIn.queue?.enqueue({ incidentId, reason: "regression" }, client);
        return incidentId;
      });
    } catch (e) {
      if (e instanceof LostRace) return undefined;
      throw e;
    }
  }
}

/** Another look gave the deploy its verdict first. */
class LostRace extends Error {}

/**
 * The alert a regression incident carries: an Alertmanager-shaped notification naming the
 * workload and the deploy. Its words are only a label; perceive reads the finding from the store.
 */
export function regressionAlert(deploy: StoredDeploy, finding: RegressionFinding, now: number): { alert: Alert; rawBody: string } {
  const labels = {
    alertname: REGRESSION_ALERT,
    namespace: deploy.workload.namespace,
    deployment: deploy.workload.name,
    severity: "warning",
    deploy_id: String(deploy.id),
  };
  const first = finding.flagged[0];
  const annotations = {
    summary: `${finding.flagged.length} error signature(s) rose after deploy ${deploy.version} of ${workloadKey(deploy.workload)}`,
    description: first === undefined ? "" : `${first.signature} (${first.observed} seen, ${first.expected.toFixed(1)} expected); triage: ${finding.triage.confidence} confidence`,
  };
  const startsAt = new Date(now).toISOString();
  const body = {
    version: "4",
    groupKey: `{}:{alertname="${REGRESSION_ALERT}"}`,
    status: "firing",
    receiver: "suture",
    groupLabels: { alertname: REGRESSION_ALERT },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: "suture://regression-watch",
    alerts: [{ status: "firing", labels, annotations, startsAt, endsAt: "0001-01-01T00:00:00Z", generatorURL: `suture://regression-watch/deploys/${deploy.id}` }],
  };
  const parsed = parseAlertmanagerWebhook(body).alerts[0];
  if (parsed === undefined) throw new Error("the regression alert did not parse");
  return { alert: { ...parsed, source: "regression-watch" }, rawBody: JSON.stringify(body) };
}

/** How far apart a cluster revision and a webhook deploy of the same version may be and still be one deploy. */
const SAME_DEPLOY_MS = 10 * MINUTE;

/**
 * Deploy markers from the cluster: a workload's newest revision, rolled out within the watch
 * window, becomes a deploy (source `cluster`, version = its image) unless a deploy of the same
 * version near the same time is already stored (the webhook's, which has the changed files).
 * Returns the deploys recorded (each with its watch started).
 */
export async function recordClusterDeploys(
  suture: Pick<Suture, "store">,
  env: Pick<EnvironmentAdapter, "deployHistory">,
  workload: WorkloadRef,
  now: number,
  watchMinutes: number,
): Promise<StoredDeploy[]> {
  const history = await env.deployHistory(workload.name);
  const latest = [...history].sort((a, b) => b.revision - a.revision)[0];
  // The first revision is how the workload was created, not a deploy to compare against anything.
  if (latest === undefined || history.length < 2 || now - latest.deployedAt > watchMinutes * MINUTE || latest.deployedAt > now) return [];
  const known = await suture.store.deploysOf(workload, new Date(latest.deployedAt - SAME_DEPLOY_MS));
  if (known.some((d) => Math.abs(d.at.getTime() - latest.deployedAt) <= SAME_DEPLOY_MS && (imageRunsVersion(latest.image, d.version) || d.version === latest.image))) return [];
  const recorded = await suture.store.recordDeployAndWatch({
    workload,
    version: latest.image,
    changedFiles: [],
    author: "cluster",
    at: new Date(latest.deployedAt).toISOString(),
    source: "cluster",
  });
  const deploy = await suture.store.deployById(recorded.id);
  return recorded.duplicate || deploy === undefined ? [] : [deploy];
}

/** What one pass of the watch did. */
export interface WatchPass {
  workloads: number;
  buckets: number;
  clusterDeploys: number;
  looks: LookResult[];
}

/**
 * One pass of the regression watch over the configured cluster (the worker runs it every
 * minute, one worker at a time): per handled namespace and workload, record new revisions as
 * deploys, count finished buckets into the baseline, and look at every open watch. A regression
 * incident is queued like an alert's.
 */
export async function regressionPass(suture: Suture, queue: Pick<IncidentQueue, "enqueue">, now: number, options: RegressionWatchOptions = {}): Promise<WatchPass> {
  const pass: WatchPass = { workloads: 0, buckets: 0, clusterDeploys: 0, looks: [] };
  const cluster = suture.cluster;
  if (cluster === undefined) return pass;
  for (const namespace of cluster.namespaces) {
    const env = await cluster.environmentFor(namespace);
    const watcher = new RegressionWatcher(suture, env, options);
    // Bare names are this namespace's Deployments (StatefulSets have no revisions to mark).
    for (const name of (await env.listServices()).filter((n) => !n.includes("/"))) {
      const workload = { namespace, name };
      pass.workloads += 1;
      pass.clusterDeploys += (await recordClusterDeploys(suture, env, workload, now, watcher.detection.watchMinutes)).length;
      pass.buckets += await watcher.collect(workload, now);
    }
    for (const w of await suture.store.openRegressionWatches()) {
      if (w.workload.namespace !== namespace) continue;
      const deploy = await suture.store.deployById(w.deployId);
      if (deploy !== undefined) pass.looks.push(await watcher.look(deploy, now, { environmentId: clusterEnvironmentId(namespace), queue }));
    }
  }
  return pass;
}

/** A failed build's triage brief: the error lines of its log tail against its changed files. */
export interface BuildTriage {
  errors: string[];
  triage: TriageVerdict;
}

/** Lines of a build log that read as errors (compiler, test runner, linter output). */
const BUILD_ERROR = /\b(error|failed|failure|fatal|exception|traceback|panic|assert(ion)?|expected .* (got|received))\b/i;

/** Triages a failed build the way a regression is triaged: do its errors name the files it changed? */
export function triageBuild(build: Pick<Build, "logTail" | "changedFiles">): BuildTriage {
  const errors = build.logTail
    .split("\n")
    .filter((l) => BUILD_ERROR.test(l))
    .slice(-50);
  const triage = triageDeploy({ changedFiles: build.changedFiles }, errors.length > 0 ? [{ signature: "build errors", exemplars: errors, seenBefore: false }] : []);
  return { errors, triage };
}
