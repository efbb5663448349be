import { parseAlertmanagerWebhook, type Alert } from "../domain/alerts/alert.js";
import { parseGenericAlert } from "../domain/alerts/generic.js";
import { parsePagerDutyEvent } from "../domain/alerts/pagerduty.js";
import { episodeIncident, lockFingerprint, recordAlert, recordIntakeRequest, type AlertSource } from "../store/alerts.js";
import { audit as appendAudit } from "../store/audit.js";
import { withTransaction, type Database, type Queryable } from "../store/database.js";
import { copyEnvironment, openWorldId, routeFor, worldOfNamespace, worldOfWorkloadName } from "../store/environments.js";
import { describeTarget, type TargetMapping } from "../domain/alerts/target.js";
import { clusterEnvironmentId, clusterNamespaceOf, type ClusterConnection } from "./cluster.js";
import { createIncident, openIncidentForUpdate, setIncidentStatus } from "../store/incidents.js";
import type { IncidentQueue } from "../store/queue.js";

export type { AlertSource } from "../store/alerts.js";

/** What a notification asks for: a problem is firing, it is acknowledged, or it is resolved. */
export type NotificationKind = "firing" | "acknowledge" | "resolved";

/** One notification, normalized, ready to group. */
export interface Notification {
  alert: Alert;
  kind: NotificationKind;
}

/** What intake did with one notification. */
export type Disposition =
  /** A new incident was opened and queued. */
  | "opened"
  /** It belongs to an open incident and was attached to it. */
  | "attached"
  /** A repeat of the episode (same fingerprint and start) an incident already closed; recorded on it, nothing reopened. */
  | "renotified"
  /** It was recorded on an open incident that is already being handled (acknowledge, or resolved while running). */
  | "annotated"
  /** The source resolved an incident that was still waiting (queued or awaiting approval); it is closed without action. */
  | "closed"
  /** No open incident has this fingerprint (e.g. a resolved for an incident already closed); stored only. */
  | "stored";

/** The outcome of one accepted request. */
export interface IntakeResult {
  requestId: number;
  alerts: Array<{ fingerprint: string; status: string; disposition: Disposition; incidentId: string | null }>;
}

/** Parses a request body of one source into notifications; throws InvalidAlertError naming the field. */
export function parseNotifications(source: AlertSource, body: unknown, receivedAt: Date = new Date(), mapping?: TargetMapping): Notification[] {
  switch (source) {
    case "alertmanager":
      return parseAlertmanagerWebhook(body, mapping).alerts.map((alert) => ({ alert, kind: alert.status }));
    case "pagerduty": {
      const { action, alert } = parsePagerDutyEvent(body, receivedAt, mapping);
      return [{ alert, kind: action === "trigger" ? "firing" : action === "resolve" ? "resolved" : "acknowledge" }];
    }
    case "generic": {
      const alert = parseGenericAlert(body, receivedAt, mapping);
      return [{ alert, kind: alert.status }];
    }
  }
}

/**
 * Alert intake: stores the request verbatim, then groups each notification onto the open
 * incident with its fingerprint or opens (and queues) a new one, all in one transaction, so an
 * accepted request is never half-applied and a job exists exactly when its incident does.
 */
export class Intake {
  constructor(
    private readonly db: Database,
    private readonly queue: IncidentQueue,
    /** The configured cluster: alerts in its namespaces without a fleet route are handled there. */
    private readonly cluster?: ClusterConnection,
    /** The explicit label mapping (`SUTURE_ALERT_TARGETS`): wins over the label conventions. */
    private readonly mapping?: TargetMapping,
  ) {}

  /** Parses a request body of one source with this intake's label mapping; throws InvalidAlertError naming the field. */
  parse(source: AlertSource, body: unknown, receivedAt: Date = new Date()): Notification[] {
    return parseNotifications(source, body, receivedAt, this.mapping);
  }

  /** Accepts one validated request. */
  async accept(source: AlertSource, contentType: string, rawBody: string, notifications: Notification[]): Promise<IntakeResult> {
    return withTransaction(this.db, async (client) => {
      const requestId = await recordIntakeRequest(client, source, contentType, rawBody);
      // Locks are taken in fingerprint order, so two requests with overlapping alerts cannot deadlock.
      const ordered = notifications.map((n, i) => ({ n, i })).sort((a, b) => (a.n.alert.fingerprint < b.n.alert.fingerprint ? -1 : a.n.alert.fingerprint > b.n.alert.fingerprint ? 1 : a.i - b.i));
      const results = new Map<number, IntakeResult["alerts"][number]>();
      for (const { n, i } of ordered) {
        results.set(i, { fingerprint: n.alert.fingerprint, status: n.kind, ...(await this.group(client, requestId, n)) });
      }
      return { requestId, alerts: notifications.map((_, i) => results.get(i)).filter((r) => r !== undefined) };
    });
  }

  private async group(client: Queryable, requestId: number, n: Notification): Promise<{ disposition: Disposition; incidentId: string | null }> {
    const { alert } = n;
    await lockFingerprint(client, alert.fingerprint);
    const open = await openIncidentForUpdate(client, alert.fingerprint);
    if (n.kind === "firing") {
      if (open !== undefined) {
        await recordAlert(client, { incidentId: open.id, alert, requestId });
        return { disposition: "attached", incidentId: open.id };
      }
      const closed = await episodeIncident(client, alert.fingerprint, alert.startsAt);
      if (closed !== undefined) {
        // Alertmanager repeats a firing alert until Prometheus sees it recover; the repeat is the
        // same episode, not a new problem. Said once on the incident, in case the fix did not hold.
        await recordAlert(client, { incidentId: closed, alert, requestId });
        await this.audit(
          client,
          closed,
          "still_firing",
          `${alert.source} still reports ${alert.name} (same episode, started ${alert.startsAt}) after the incident closed`,
          { requestId },
          `${closed}:still-firing`,
        );
        return { disposition: "renotified", incidentId: closed };
      }
      const incidentId = await this.open(client, alert);
      await recordAlert(client, { incidentId, alert, requestId });
      return { disposition: "opened", incidentId };
    }
    await recordAlert(client, { incidentId: open?.id ?? null, alert, requestId });
    if (open === undefined) return { disposition: "stored", incidentId: null };
    if (n.kind === "resolved" && (open.status === "queued" || open.status === "awaiting_approval")) {
      const summary = `${alert.source} reports ${alert.name} on ${alert.service} resolved while the incident was ${open.status === "queued" ? "queued" : "awaiting approval"}; closed without action`;
      await setIncidentStatus(client, open.id, "resolved_by_source", summary);
      await this.audit(client, open.id, "resolved_by_source", summary, { requestId, previousStatus: open.status });
      return { disposition: "closed", incidentId: open.id };
    }
    const summary =
      n.kind === "resolved"
        ? `${alert.source} reports ${alert.name} resolved while the incident is ${open.status}; the verification step decides from the signals`
        : `${alert.source}: ${alert.name} acknowledged`;
    await this.audit(client, open.id, n.kind === "resolved" ? "source_resolved" : "acknowledged", summary, { requestId });
    return { disposition: "annotated", incidentId: open.id };
  }

  private async open(client: Queryable, alert: Alert): Promise<string> {
    const environmentId = await this.environmentOf(client, alert);
    const incidentId = await createIncident(client, { alert, environmentId, source: alert.source });
    // The world as the incident opened, kept for replays (`suture replay`).
    if (environmentId !== null && clusterNamespaceOf(environmentId) === undefined) await copyEnvironment(client, environmentId, openWorldId(incidentId));
    await this.audit(
      client,
      incidentId,
      "opened",
      `opened from ${alert.source} alert ${alert.name} on ${alert.target !== undefined ? describeTarget(alert.target) : `${alert.namespace}/${alert.service}`}${environmentId === null ? " (no environment knows this target)" : ` in ${environmentId}`}; queued`,
      { fingerprint: alert.fingerprint, ...(alert.target !== undefined ? { target: alert.target } : {}) },
    );
    await this.queue.enqueue({ incidentId, reason: "alert" }, client);
    return incidentId;
  }

  /**
   * The world an alert's incident runs in: the fleet world that owns its workload, else the
   * cluster when it handles the alert's namespace. A target still to be looked up goes to the
   * world that can look it up: a fleet world with that workload name (or with workloads in that
   * namespace), else the cluster (searching every namespace it handles when the alert named none).
   */
  private async environmentOf(client: Queryable, alert: Alert): Promise<string | null> {
    const target = alert.target;
    if (target?.state === "unresolved") return null;
    const name = alert.service !== "" ? alert.service : target?.name;
    const namespace = alert.namespace !== "" ? alert.namespace : undefined;
    if (name !== undefined && namespace !== undefined) {
      const routed = await routeFor(client, namespace, name);
      if (routed !== undefined) return routed;
    }
    if (namespace !== undefined) {
      const world = await worldOfNamespace(client, namespace);
      if (world !== undefined && alert.service === "") return world;
      return this.cluster?.handles(namespace) === true ? clusterEnvironmentId(namespace) : null;
    }
    if (name !== undefined) {
      const world = await worldOfWorkloadName(client, name);
      if (world !== undefined) return world;
    }
    const first = this.cluster?.namespaces[0];
    return first !== undefined ? clusterEnvironmentId(first) : null;
  }

  private async audit(client: Queryable, incidentId: string, kind: string, summary: string, detail: unknown, dedupeKey?: string): Promise<void> {
    await appendAudit(client, { incidentId, actor: "intake", kind, summary, detail, ...(dedupeKey !== undefined ? { dedupeKey } : {}) });
  }
}
