import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { currentState } from "../../../app/advance.js";
import { incidentHistory } from "../../../app/history.js";
import { identifier } from "../../../domain/alerts/bounds.js";
import { storableInstant } from "../../../domain/input.js";
import { listIncidents } from "../../../store/incidents.js";
import { identify } from "../auth.js";
import { IncidentParamsSchema, parseWith } from "../request.js";
import type { ServerDeps } from "../deps.js";

const ListQuerySchema = z
  .object({
    status: z
      .string()
      .max(256)
      .regex(/^[a-z_]+(,[a-z_]+)*$/, "expected statuses separated by commas")
      .optional(),
    service: identifier("a workload name").optional(),
    since: storableInstant().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** Incidents for people and tools: the list, one incident's brief and records, its checkpoint history. */
export function incidentRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { suture } = deps;
  app.get("/v1/incidents", async (request) => {
    identify(request, deps.apiTokens, false);
    const q = parseWith(ListQuerySchema, request.query, "query.");
    const incidents = await listIncidents(suture.db.pool, {
      limit: q.limit,
      ...(q.status !== undefined ? { statuses: q.status.split(",") } : {}),
      ...(q.service !== undefined ? { service: q.service } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
    });
    return { incidents };
  });

  app.get("/v1/incidents/:id", async (request) => {
    identify(request, deps.apiTokens, false);
    const { id } = parseWith(IncidentParamsSchema, request.params, "path.");
    const incident = await suture.store.getIncident(id);
    const { state, awaitingApproval, awaitingSettle } = await currentState(suture, id);
    return {
      incident,
      brief: incident.brief,
      timeline: state.timeline ?? [],
      awaitingApproval: awaitingApproval ?? null,
      awaitingSettle: awaitingSettle ?? null,
      actions: await suture.store.actionsFor(id),
      approvals: await suture.store.approvalsFor(id),
      audit: await suture.store.auditFor(id),
    };
  });

  app.get("/v1/incidents/:id/history", async (request) => {
    identify(request, deps.apiTokens, false);
    const { id } = parseWith(IncidentParamsSchema, request.params, "path.");
    await suture.store.getIncident(id);
    return incidentHistory(suture, id);
  });
}
