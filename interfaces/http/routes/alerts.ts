import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AlertSource } from "../../../app/intake.js";
import { InvalidInputError } from "../../../domain/errors.js";
import { requireIntakeToken } from "../auth.js";
import { parseJson } from "../request.js";
import type { ServerDeps } from "../deps.js";

/** Largest `content-type` header stored with an intake request. */
const CONTENT_TYPE_MAX = 256;

/** Alert intake: Alertmanager v4, PagerDuty Events v2 and Suture's generic shape. */
export function alertRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const ingest = async (source: AlertSource, request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    requireIntakeToken(request, deps.intakeToken);
    const raw = typeof request.body === "string" ? request.body : "";
    const notifications = deps.intake.parse(source, parseJson(raw, false));
    const contentType = String(request.headers["content-type"] ?? "");
    if (contentType.length > CONTENT_TYPE_MAX) throw new InvalidInputError(`headers.content-type: expected at most ${CONTENT_TYPE_MAX} characters`);
    const result = await deps.intake.accept(source, contentType, raw, notifications);
    for (const a of result.alerts) deps.metrics.alertsReceived.inc({ source, status: a.status });
    if (source === "pagerduty") {
      // PagerDuty's own response shape, so senders built for its API accept ours.
      return reply.status(202).send({ status: "success", message: "Event processed", dedup_key: result.alerts[0]?.fingerprint, incident_id: result.alerts[0]?.incidentId ?? null });
    }
    return reply.status(202).send(result);
  };
  app.post("/v1/alerts/alertmanager", (request, reply) => ingest("alertmanager", request, reply));
  app.post("/v1/alerts/pagerduty", (request, reply) => ingest("pagerduty", request, reply));
  app.post("/v1/alerts", (request, reply) => ingest("generic", request, reply));
}

/** Which intake route a URL is (for the rejected-requests metric), if it is one. */
export function sourceOf(url: string): AlertSource | undefined {
  if (!url.startsWith("/v1/alerts")) return undefined;
  if (url.startsWith("/v1/alerts/alertmanager")) return "alertmanager";
  if (url.startsWith("/v1/alerts/pagerduty")) return "pagerduty";
  return "generic";
}
