import type pg from "pg";
import { parseAlertmanagerWebhook, type Alert } from "../domain/alerts/alert.js";
import { parseGenericAlert } from "../domain/alerts/generic.js";
import { parsePagerDutyEvent } from "../domain/alerts/pagerduty.js";
import { withTransaction, type Database } from "../store/database.js";
import { redactJsonText } from "../domain/secrets.js";
import { OPEN_STATUSES, type IncidentStatus } from "../store/incident-store.js";
import type { IncidentQueue } from "../store/queue.js";
import { newIncidentId, openWorldId } from "./incident-runner.js";

/** Where an alert came from. */
export type AlertSource = "alertmanager" | "pagerduty" | "generic";

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
export function parseNotifications(source: AlertSource, body: unknown, receivedAt: Date = new Date()): Notification[] {
  switch (source) {
    case "alertmanager":
      return parseAlertmanagerWebhook(body).alerts.map((alert) => ({ alert, kind: alert.status }));
    case "pagerduty": {
      const { action, alert } = parsePagerDutyEvent(body, receivedAt);
      return [{ alert, kind: action === "trigger" ? "firing" : action === "resolve" ? "resolved" : "acknowledge" }];
    }
    case "generic": {
      const alert = parseGenericAlert(body, receivedAt);
      return [{ alert, kind: alert.status }];
    }
  }
}

/** Arbitrary namespace for the per-fingerprint transaction lock (the second key is the fingerprint's hash). */
const FINGERPRINT_LOCK_SPACE = 727_002;

interface OpenIncident {
  id: string;
  status: IncidentStatus;
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
  ) {}

  /** Accepts one validated request. */
  async accept(source: AlertSource, contentType: string, rawBody: string, notifications: Notification[]): Promise<IntakeResult> {
    return withTransaction(this.db, async (client) => {
      const request = await client.query<{ id: string }>(
        "INSERT INTO intake_requests (source, content_type, raw_body) VALUES ($1, $2, $3) RETURNING id::text AS id",
        [source, contentType, redactJsonText(rawBody)],
      );
      const requestId = Number(request.rows[0]?.id);
      // Locks are taken in fingerprint order, so two requests with overlapping alerts cannot deadlock.
      const ordered = notifications.map((n, i) => ({ n, i })).sort((a, b) => (a.n.alert.fingerprint < b.n.alert.fingerprint ? -1 : a.n.alert.fingerprint > b.n.alert.fingerprint ? 1 : a.i - b.i));
      const results = new Map<number, IntakeResult["alerts"][number]>();
      for (const { n, i } of ordered) {
        results.set(i, { fingerprint: n.alert.fingerprint, status: n.kind, ...(await this.group(client, requestId, n)) });
      }
      return { requestId, alerts: notifications.map((_, i) => results.get(i)).filter((r) => r !== undefined) };
    });
  }

  private async group(client: pg.PoolClient, requestId: number, n: Notification): Promise<{ disposition: Disposition; incidentId: string | null }> {
    const { alert } = n;
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [FINGERPRINT_LOCK_SPACE, alert.fingerprint]);
    const open = (
      await client.query<OpenIncident>(
        `SELECT id, status FROM incidents WHERE fingerprint = $1 AND forked_from IS NULL AND status = ANY($2::text[])
         ORDER BY opened_at DESC LIMIT 1 FOR UPDATE`,
        [alert.fingerprint, OPEN_STATUSES],
      )
    ).rows[0];
    if (n.kind === "firing") {
      if (open !== undefined) {
        await this.recordAlert(client, requestId, alert, open.id);
        return { disposition: "attached", incidentId: open.id };
      }
      const episode = await client.query<{ incident_id: string }>(
        "SELECT incident_id FROM alerts WHERE fingerprint = $1 AND starts_at = $2 AND incident_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        [alert.fingerprint, alert.startsAt],
      );
      const closed = episode.rows[0]?.incident_id;
      if (closed !== undefined) {
        // Alertmanager repeats a firing alert until Prometheus sees it recover; the repeat is the
        // same episode, not a new problem. Said once on the incident, in case the fix did not hold.
        await this.recordAlert(client, requestId, alert, closed);
        await this.audit(client, closed, "still_firing", `${alert.source} still reports ${alert.name} (same episode, started ${alert.startsAt}) after the incident closed`, { requestId }, `${closed}:still-firing`);
        return { disposition: "renotified", incidentId: closed };
      }
      const incidentId = await this.open(client, alert);
      await this.recordAlert(client, requestId, alert, incidentId);
      return { disposition: "opened", incidentId };
    }
    await this.recordAlert(client, requestId, alert, open?.id ?? null);
    if (open === undefined) return { disposition: "stored", incidentId: null };
    if (n.kind === "resolved" && (open.status === "queued" || open.status === "awaiting_approval")) {
      const summary = `${alert.source} reports ${alert.name} on ${alert.service} resolved while the incident was ${open.status === "queued" ? "queued" : "awaiting approval"}; closed without action`;
      await client.query("UPDATE incidents SET status = 'resolved_by_source', summary = $2, updated_at = now(), closed_at = now() WHERE id = $1", [open.id, summary]);
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

  private async open(client: pg.PoolClient, alert: Alert): Promise<string> {
    const incidentId = newIncidentId();
    const route = await client.query<{ environment_id: string }>("SELECT environment_id FROM fleet_routes WHERE namespace = $1 AND service = $2", [alert.namespace, alert.service]);
    const environmentId = route.rows[0]?.environment_id ?? null;
    await client.query(
      `INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, environment_id, source)
       VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7)`,
      [incidentId, alert.fingerprint, alert.name, alert.service, alert.severity, environmentId, alert.source],
    );
    if (environmentId !== null) {
      // The world as the incident opened, kept for replays (`suture replay`).
      await client.query(`INSERT INTO environments (id, kind, spec, state) SELECT $2, kind, spec, state FROM environments WHERE id = $1`, [environmentId, openWorldId(incidentId)]);
    }
    await this.audit(
      client,
      incidentId,
      "opened",
      `opened from ${alert.source} alert ${alert.name} on ${alert.namespace}/${alert.service}${environmentId === null ? " (no environment knows this workload)" : ` in ${environmentId}`}; queued`,
      { fingerprint: alert.fingerprint },
    );
    await this.queue.enqueue({ incidentId, reason: "alert" }, client);
    return incidentId;
  }

  private async recordAlert(client: pg.PoolClient, requestId: number, alert: Alert, incidentId: string | null): Promise<void> {
    await client.query(
      `INSERT INTO alerts (incident_id, source, fingerprint, alert_name, status, starts_at, raw_body, normalized, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)`,
      [incidentId, alert.source, alert.fingerprint, alert.name, alert.status, alert.startsAt, JSON.stringify(alert), requestId],
    );
  }

  private async audit(client: pg.PoolClient, incidentId: string, kind: string, summary: string, detail: unknown, dedupeKey?: string): Promise<void> {
    await client.query(
      "INSERT INTO audit_log (incident_id, actor, kind, summary, detail, dedupe_key) VALUES ($1, 'intake', $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING",
      [incidentId, kind, summary, JSON.stringify(detail), dedupeKey ?? null],
    );
  }
}
