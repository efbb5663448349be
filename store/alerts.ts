import type { Alert } from "../domain/alerts/alert.js";
import { redactJsonText } from "../domain/secrets.js";
import type { Queryable } from "./database.js";

/** Arbitrary namespace for the per-fingerprint transaction lock (the second key is the fingerprint's hash). */
const FINGERPRINT_LOCK_SPACE = 727_002;

/** Serializes intake of one fingerprint until the caller's transaction ends. */
export async function lockFingerprint(q: Queryable, fingerprint: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [FINGERPRINT_LOCK_SPACE, fingerprint]);
}

/** Which way a notification reached Suture. */
export type AlertSource = "alertmanager" | "pagerduty" | "generic";

/**
 * Stores one intake request as it was sent (but for redacted secrets), before anything it causes;
 * returns its id.
 */
export async function recordIntakeRequest(q: Queryable, source: AlertSource, contentType: string, rawBody: string): Promise<number> {
  const request = await q.query<{ id: string }>("INSERT INTO intake_requests (source, content_type, raw_body) VALUES ($1, $2, $3) RETURNING id::text AS id", [
    source,
    contentType,
    redactJsonText(rawBody),
  ]);
  return Number(request.rows[0]?.id);
}

/**
 * Stores one alert notification, optionally attached to an incident: with its own raw body (a
 * scenario or an import; verbatim but for redacted secrets) or pointing at the intake request that
 * carried it.
 */
export async function recordAlert(q: Queryable, input: { incidentId?: string | null; alert: Alert; rawBody?: string; requestId?: number; endsAt?: string }): Promise<number> {
  const result = await q.query<{ id: number }>(
    `INSERT INTO alerts (incident_id, source, fingerprint, alert_name, status, starts_at, ends_at, raw_body, normalized, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id::int AS id`,
    [
      input.incidentId ?? null,
      input.alert.source,
      input.alert.fingerprint,
      input.alert.name,
      input.alert.status,
      input.alert.startsAt,
      input.endsAt ?? null,
      input.rawBody !== undefined ? redactJsonText(input.rawBody) : null,
      JSON.stringify(input.alert),
      input.requestId ?? null,
    ],
  );
  const row = result.rows[0];
  if (row === undefined) throw new Error("alert insert returned no id");
  return row.id;
}

/**
 * Notifications for one fingerprint whose alert started at or after `since`, oldest first. A
 * resolved one has `endsAt`: the end it carried, else when it was received (Alertmanager sends the
 * resolution within a group interval of it); null for firing ones.
 */
export async function alertHistory(q: Queryable, fingerprint: string, since: Date): Promise<Array<{ status: string; startsAt: Date; endsAt: Date | null }>> {
  const result = await q.query<{ status: string; starts_at: Date; ends_at: Date | null }>(
    `SELECT status, starts_at, CASE WHEN status = 'resolved' THEN COALESCE(ends_at, received_at) END AS ends_at FROM alerts WHERE fingerprint = $1 AND starts_at >= $2 ORDER BY starts_at, id`,
    [fingerprint, since],
  );
  return result.rows.map((r) => ({ status: r.status, startsAt: r.starts_at, endsAt: r.ends_at }));
}

/** The incident that already handled this episode of an alert (same fingerprint and start), if any. */
export async function episodeIncident(q: Queryable, fingerprint: string, startsAt: string): Promise<string | undefined> {
  const episode = await q.query<{ incident_id: string }>("SELECT incident_id FROM alerts WHERE fingerprint = $1 AND starts_at = $2 AND incident_id IS NOT NULL ORDER BY id DESC LIMIT 1", [
    fingerprint,
    startsAt,
  ]);
  return episode.rows[0]?.incident_id;
}

/** The normalized first firing alert of an incident (what its graph starts from). */
export async function firstFiringAlert(q: Queryable, incidentId: string): Promise<unknown> {
  const row = await q.query<{ normalized: unknown }>("SELECT normalized FROM alerts WHERE incident_id = $1 AND status = 'firing' ORDER BY id LIMIT 1", [incidentId]);
  return row.rows[0]?.normalized;
}

/** Every alert of an incident in order, each with the body that carried it (its own, or its request's). */
export async function alertsWithBodies(q: Queryable, incidentId: string): Promise<Array<{ source: string; status: string; rawBody: string; normalized: unknown }>> {
  const rows = await q.query<{ source: string; status: string; raw_body: string; normalized: unknown }>(
    `SELECT a.source, a.status, COALESCE(a.raw_body, r.raw_body) AS raw_body, a.normalized
     FROM alerts a LEFT JOIN intake_requests r ON r.id = a.request_id WHERE a.incident_id = $1 ORDER BY a.id`,
    [incidentId],
  );
  return rows.rows.map((a) => ({ source: a.source, status: a.status, rawBody: a.raw_body, normalized: a.normalized }));
}
