import type { Alert } from "../domain/alerts/alert.js";
import type { Build, Deploy, WorkloadRef } from "../domain/deploys.js";
import type { IncidentStatus } from "../domain/incident.js";
import type { RegressionWatch } from "../domain/regressions.js";
import type { ToolObservation } from "../domain/model.js";
import * as actions from "./actions.js";
import * as alerts from "./alerts.js";
import * as approvals from "./approvals.js";
import * as audit from "./audit.js";
import * as deploys from "./deploys.js";
import { withTransaction, type Database, type Queryable } from "./database.js";
import * as environments from "./environments.js";
import * as incidents from "./incidents.js";
import * as modelUsage from "./model-usage.js";
import * as observations from "./observations.js";
import * as regressions from "./regressions.js";
import * as selfMetrics from "./self-metrics.js";
import * as selfRecoveries from "./self-recoveries.js";
import * as selfCalls from "./self-calls.js";
import * as memoryRows from "./memory.js";
import type { CallComponent, CallCount } from "../domain/self-calls.js";
import type { RateCount } from "../domain/self-health.js";
import { describeSelfRecovery } from "../domain/self-health.js";

/** The metric of a memory quarantine names the remembered incident: `memory:<incident>`. */
export const MEMORY_METRIC_PREFIX = "memory:";
/**
 * The store the graph's nodes and the use cases share: one object over the concern modules
 * (incidents, alerts, approvals, audit, actions, environments, model usage, deploys), each the only place
 * its SQL lives. Statements run on the pool unless a transaction's client is passed.
 */
export class IncidentStore {
  constructor(private readonly db: Database) {}

  /** Runs one query on the pool (the store is a {@link Queryable} for read-only ledgers). */
  query: Queryable["query"] = (text, values) => this.db.pool.query(text, values);

  /** Runs `work` in one transaction on one connection (rolled back if it throws). */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  /** Opens an incident (the single create path; see store/incidents.ts). */
  createIncident(input: incidents.NewIncident): Promise<string> {
    return incidents.createIncident(this.db.pool, input);
  }

  /** One incident, or an UnknownIncidentError. */
  getIncident(id: string): Promise<incidents.IncidentRow> {
    return incidents.getIncident(this.db.pool, id);
  }

  /** Most recent incidents first. */
  listIncidents(limit = 50): Promise<incidents.IncidentRow[]> {
    return incidents.recentIncidents(this.db.pool, limit);
  }

  /** Moves an incident to a status the status machine allows (and sets summary and brief when given). */
  /** Records the workload an incident's alert resolved to and the world it runs in. */
  setIncidentTarget(id: string, service: string, environmentId: string | null): Promise<void> {
    return incidents.setIncidentTarget(this.db.pool, id, service, environmentId);
  }

  setIncidentStatus(id: string, status: IncidentStatus, summary?: string, brief?: unknown): Promise<void> {
    return incidents.setIncidentStatus(this.db.pool, id, status, summary, brief);
  }

  /** Records an approval request once (a re-run step finds the existing one). */
  requestApproval(input: approvals.NewApprovalRequest): Promise<approvals.ApprovalRow> {
    return approvals.requestApproval(this.db.pool, input);
  }

  /** The newest approval request of an incident, decided or not. */
  latestApproval(incidentId: string): Promise<approvals.ApprovalRow | undefined> {
    return approvals.latestApproval(this.db.pool, incidentId);
  }

  /** Writes a decision on an undecided request of an incident awaiting approval (at most once). */
  decideApproval(requestKey: string, decision: "approved" | "rejected" | "expired", approver: string | null, note: string | null, approvedCall: unknown): Promise<approvals.ApprovalRow | undefined> {
    return approvals.decideApproval(this.db.pool, requestKey, decision, approver, note, approvedCall);
  }

  /** Undecided approval requests, oldest first, with their incidents. */
  pendingApprovals(): Promise<approvals.PendingApproval[]> {
    return approvals.pendingApprovals(this.db.pool);
  }

  /** Every approval of an incident, in order. */
  approvalsFor(incidentId: string): Promise<approvals.ApprovalRow[]> {
    return approvals.approvalsFor(this.db.pool, incidentId);
  }

  /** Stores one alert notification with its body, optionally attached to an incident. */
  recordAlert(input: { incidentId?: string; alert: Alert; rawBody: string; endsAt?: string }): Promise<number> {
    return alerts.recordAlert(this.db.pool, input);
  }

  /** Notifications for one fingerprint whose alert started at or after `since`, oldest first. */
  alertHistory(fingerprint: string, since: Date): Promise<Array<{ status: string; startsAt: Date; endsAt: Date | null }>> {
    return alerts.alertHistory(this.db.pool, fingerprint, since);
  }

  /** Stores a deploy marker once per (workload, version, time); a retry gets the first one's id with `duplicate`. */
  recordDeploy(deploy: Deploy): Promise<deploys.Recorded> {
    return deploys.recordDeploy(this.db.pool, deploy);
  }

  /** Stores a deploy marker and starts its regression watch, in one transaction (a retry finds both). */
  recordDeployAndWatch(deploy: Deploy, scope = ""): Promise<deploys.Recorded> {
    return withTransaction(this.db, async (client) => {
      const recorded = await deploys.recordDeploy(client, deploy, scope);
      await regressions.startWatch(client, recorded.id);
      return recorded;
    });
  }

  /** Stores a failed build once per (workload, commit, time), its log tail redacted. */
  recordBuild(build: Build): Promise<deploys.Recorded> {
    return deploys.recordBuild(this.db.pool, build);
  }

  /** The newest deploys of every workload, newest first. */
  recentDeploys(limit = 50): Promise<deploys.StoredDeploy[]> {
    return deploys.recentDeploys(this.db.pool, limit);
  }

  /** One workload's deploys at or after `since`, oldest first. */
  deploysOf(workload: WorkloadRef, since: Date, scope = ""): Promise<deploys.StoredDeploy[]> {
    return deploys.deploysOf(this.db.pool, workload, since, scope);
  }

  /** One deploy by id, or undefined. */
  deployById(id: number): Promise<deploys.StoredDeploy | undefined> {
    return deploys.deployById(this.db.pool, id);
  }

  /** The newest failed builds, newest first. */
  recentBuilds(limit = 50): Promise<deploys.StoredBuild[]> {
    return deploys.recentBuilds(this.db.pool, limit);
  }

  /** A workload's error-signature baseline, or undefined before its first bucket. */
  loadSignatureBaseline(workload: WorkloadRef, scope = ""): Promise<regressions.StoredBaseline | undefined> {
    return regressions.loadBaseline(this.db.pool, workload, scope);
  }

  /** Writes a workload's error-signature baseline. */
  saveSignatureBaseline(workload: WorkloadRef, stored: regressions.StoredBaseline, scope = ""): Promise<void> {
    return regressions.saveBaseline(this.db.pool, workload, stored, scope);
  }

  /** Starts watching a deploy for regressions (once per deploy). */
  startRegressionWatch(deployId: number): Promise<RegressionWatch> {
    return regressions.startWatch(this.db.pool, deployId);
  }

  /** One deploy's regression watch, or undefined. */
  regressionWatch(deployId: number): Promise<RegressionWatch | undefined> {
    return regressions.watchOf(this.db.pool, deployId);
  }

  /** Records a look at a deploy; false when another look already gave it a final verdict. */
  recordRegressionLook(deployId: number, update: regressions.WatchUpdate): Promise<boolean> {
    return regressions.recordLook(this.db.pool, deployId, update);
  }

  /** Each self-metric's events and trials in a window and in the baseline before it. */
  selfRateCounts(windows: selfMetrics.SelfMetricWindows): ReturnType<typeof selfMetrics.selfRateCounts> {
    return selfMetrics.selfRateCounts(this.db.pool, windows);
  }

  /** Failures among the last calls of a component (adapter reads, adapter mutations, the model). */
  recentCallCounts(component: CallComponent, lastCalls: number): Promise<RateCount> {
    return selfMetrics.recentCallCounts(this.db.pool, component, lastCalls);
  }

  /** Opens a self-recovery (unless one of its kind is in force for the metric) and audits it, in one transaction; undefined when one was in force. */
  openSelfRecovery(input: Parameters<typeof selfRecoveries.openSelfRecovery>[1], afterInsert?: () => Promise<void>): Promise<selfRecoveries.SelfRecoveryRow | undefined> {
    return withTransaction(this.db, async (q) => {
      const row = await selfRecoveries.openSelfRecovery(q, input);
      if (row !== undefined) {
        await afterInsert?.();
        await audit.audit(q, {
          incidentId: null,
          actor: "self-health",
          kind: "self_recovery",
          summary: `self-recovery #${row.id}: ${describeSelfRecovery(row)} until a human restores it (suture health restore ${row.id}); ${row.reason}`,
          detail: { id: row.id, kind: row.kind, metric: row.metric, autonomy: row.autonomy, evidence: input.evidence },
          dedupeKey: `self-recovery:${row.id}`,
        });
      }
      return row;
    });
  }

  /** Remembered incidents that later verified attempts contradicted at least `min` times, more often than they confirmed them. */
  contradictedMemories(min: number): Promise<memoryRows.ContradictedMemory[]> {
    return memoryRows.contradictedMemories(this.db.pool, min);
  }

  /**
   * Quarantines a remembered incident as a self-recovery (metric `memory:<incident>`): it stays
   * stored but is no longer recalled nor counted, until a human restores it; the recovery, the
   * quarantine and the audit entry in one transaction. Undefined when it was already quarantined.
   */
  quarantineMemory(entry: memoryRows.ContradictedMemory, reason: string, evidence: Record<string, unknown>): Promise<selfRecoveries.SelfRecoveryRow | undefined> {
    return withTransaction(this.db, async (q) => {
      const row = await selfRecoveries.openSelfRecovery(q, { kind: "memory_quarantine", metric: `${MEMORY_METRIC_PREFIX}${entry.incidentId}`, autonomy: null, reason, evidence });
      if (row === undefined) return undefined;
      await memoryRows.setMemoryQuarantine(q, entry.incidentId, reason);
      await audit.audit(q, {
        incidentId: null,
        actor: "self-health",
        kind: "self_recovery",
        summary: `self-recovery #${row.id}: ${describeSelfRecovery(row)} until a human restores it (suture health restore ${row.id}); ${reason}`,
        detail: { id: row.id, kind: row.kind, metric: row.metric, autonomy: null, evidence },
        dedupeKey: `self-recovery:${row.id}`,
      });
      return row;
    });
  }

  /** Counts of one incident run's (or diagnosis round's) calls to the adapter or the model. */
  recordSelfCalls(incidentId: string | null, counts: readonly CallCount[]): Promise<void> {
    return selfCalls.recordSelfCalls(this.db.pool, incidentId, counts);
  }

  /** Every adapter and model call counted so far, per operation and outcome. */
  selfCallTotals(): ReturnType<typeof selfCalls.selfCallTotals> {
    return selfCalls.selfCallTotals(this.db.pool);
  }

  /** Self-recoveries in force, oldest first. */
  activeSelfRecoveries(): Promise<selfRecoveries.SelfRecoveryRow[]> {
    return selfRecoveries.activeSelfRecoveries(this.db.pool);
  }

  /** Ends a self-recovery in force on a human's word and audits it; undefined when none with that id is in force. */
  restoreSelfRecovery(id: number, by: string, reason: string): Promise<selfRecoveries.SelfRecoveryRow | undefined> {
    return withTransaction(this.db, async (q) => {
      const row = await selfRecoveries.restoreSelfRecovery(q, id, by, reason);
      if (row !== undefined) {
        if (row.kind === "memory_quarantine") await memoryRows.setMemoryQuarantine(q, row.metric.slice(MEMORY_METRIC_PREFIX.length), null);
        await audit.audit(q, {
          incidentId: null,
          actor: by,
          kind: "self_recovery_restored",
          summary: `self-recovery #${row.id} (${row.kind} on ${row.metric}) restored by ${by}: ${reason}`,
          detail: { id: row.id, metric: row.metric, by, reason },
          dedupeKey: `self-recovery-restored:${row.id}`,
        });
      }
      return row;
    });
  }

  /** Regression watches still looking, oldest deploy first. */
  openRegressionWatches(scope = ""): Promise<RegressionWatch[]> {
    return regressions.openWatches(this.db.pool, scope);
  }

  /** The newest regression watches, newest deploy first. */
  recentRegressionWatches(limit = 50, scope?: string): Promise<RegressionWatch[]> {
    return regressions.recentWatches(this.db.pool, limit, scope);
  }

  /** The regression watch an incident was opened from, or undefined. */
  regressionOfIncident(incidentId: string): Promise<RegressionWatch | undefined> {
    return regressions.regressionOfIncident(this.db.pool, incidentId);
  }

  /** Regression watches by status. */
  regressionWatchesByStatus(): Promise<Array<{ status: RegressionWatch["status"]; n: number }>> {
    return regressions.watchesByStatus(this.db.pool);
  }

  /** Appends to the audit log; an entry whose dedupe key already exists is not written again. */
  audit(entry: audit.AuditEntry): Promise<void> {
    return audit.audit(this.db.pool, entry);
  }

  /** Entries of one kind about no single incident (e.g. `clock_skew`), newest first, since `since`. */
  recentAuditOfKind(kind: string, since: Date): Promise<audit.AuditRow[]> {
    return audit.recentAuditOfKind(this.db.pool, kind, since);
  }

  /** The audit trail of one incident, in order. */
  auditFor(incidentId: string): Promise<audit.AuditRow[]> {
    return audit.auditFor(this.db.pool, incidentId);
  }

  /** Records what one reasoner's model calls cost in one diagnosis round (once). */
  recordModelUsage(incidentId: string, round: number, reasoner: string, usage: { model: string; modelTokens: number; modelCostUsd: number }): Promise<void> {
    return modelUsage.recordModelUsage(this.db.pool, incidentId, round, reasoner, usage);
  }

  /** Model tokens and estimated cost of one incident, per model. */
  modelUsageFor(incidentId: string): Promise<Array<{ model: string; rounds: number; tokens: number; costUsd: number }>> {
    return modelUsage.modelUsageFor(this.db.pool, incidentId);
  }

  /** The action registered under an idempotency key, if any. */
  findActionByKey(key: string, db: Queryable = this.db.pool): Promise<actions.ActionRow | undefined> {
    return actions.findActionByKey(db, key);
  }

  /** Registers an action unless its key exists (a cancelled one is registered anew); returns the row. */
  registerAction(action: actions.NewAction, db: Queryable = this.db.pool): Promise<actions.ActionRow> {
    return actions.registerAction(db, action);
  }

  /** Cancels a granted action that has not started. */
  cancelAction(key: string): Promise<void> {
    return actions.cancelAction(this.db.pool, key);
  }

  /** The newest action id recorded so far (0 when none). */
  latestActionId(): Promise<number> {
    return actions.latestActionId(this.db.pool);
  }

  /** Actions other incidents ran on these workloads of one environment, newest first. */
  foreignActions(q: Parameters<typeof actions.foreignActions>[1]): Promise<actions.ForeignAction[]> {
    return actions.foreignActions(this.db.pool, q);
  }

  /** Actions other incidents have under way in one namespace of an environment. */
  unsettledForeignActions(q: Parameters<typeof actions.unsettledForeignActions>[1]): Promise<actions.ForeignAction[]> {
    return actions.unsettledForeignActions(this.db.pool, q);
  }

  /** Other open incidents' executed, not yet verified actions on one workload. */
  settlingForeignActions(q: Parameters<typeof actions.settlingForeignActions>[1]): Promise<actions.SettlingAction[]> {
    return actions.settlingForeignActions(this.db.pool, q);
  }

  /** The actions with these ids as they stand now. */
  actionsByIds(ids: readonly number[]): Promise<actions.ForeignAction[]> {
    return actions.actionsByIds(this.db.pool, ids);
  }

  /** Marks an action as about to run. */
  markExecuting(id: number): Promise<void> {
    return actions.markExecuting(this.db.pool, id);
  }

  /** Records the end of an action. */
  markFinished(id: number, status: "succeeded" | "failed", error?: string): Promise<void> {
    return actions.markFinished(this.db.pool, id, status, error);
  }

  /** Records the signals verify read after an action settled, with its verdict. */
  setAfterSignals(id: number, after: unknown, verdict?: "recovered" | "not_recovered" | "worse"): Promise<void> {
    return actions.setAfterSignals(this.db.pool, id, after, verdict);
  }

  /** Records the signals read just before a granted action runs. */
  setBeforeSignals(id: number, before: unknown): Promise<void> {
    return actions.setBeforeSignals(this.db.pool, id, before);
  }

  /** All actions of an incident, in order. */
  actionsFor(incidentId: string): Promise<actions.ActionRow[]> {
    return actions.actionsFor(this.db.pool, incidentId);
  }

  /** Stores one perception's read-tool results once; returns their references for the checkpoint. */
  recordObservations(incidentId: string, perception: number, made: ToolObservation[]): Promise<string[]> {
    return observations.recordObservations(this.db.pool, incidentId, perception, made);
  }

  /** Every read-tool result recorded for an incident, in order. */
  observationsFor(incidentId: string): Promise<observations.StoredObservation[]> {
    return observations.observationsFor(this.db.pool, incidentId);
  }

  /** Saves a simulated environment's snapshot. */
  saveEnvironment(id: string, kind: string, spec: unknown, state: unknown): Promise<void> {
    return environments.saveEnvironment(this.db.pool, id, kind, spec, state);
  }

  /** Loads a simulated environment's snapshot. */
  loadEnvironment(id: string): Promise<{ kind: string; spec: unknown; state: unknown } | undefined> {
    return environments.loadEnvironment(this.db.pool, id);
  }
}
