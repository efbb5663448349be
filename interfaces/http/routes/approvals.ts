import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { recordDecision } from "../../../app/approvals.js";
import { ForbiddenError } from "../../../domain/errors.js";
import { storableText } from "../../../domain/input.js";
import { identify } from "../auth.js";
import { IncidentParamsSchema, parseJson, parseWith } from "../request.js";
import type { ServerDeps } from "../deps.js";

const ApproveBodySchema = z
  .object({
    note: storableText(4096).optional(),
    /** Parameter overrides, checked against the tool's schema and the policy again. */
    set: z
      .record(storableText(128, "a parameter name").regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected a parameter name (letters, digits, _)"), z.union([storableText(4096), z.number(), z.boolean()]))
      .optional(),
  })
  .strict();

const RejectBodySchema = z.object({ reason: storableText(4096).min(1, "expected the reason for rejecting") }).strict();

/** A human decision on an incident awaiting approval; a worker resumes it from its checkpoint. */
export function approvalRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const decideRoute = (decision: "approved" | "rejected") => async (request: FastifyRequest, reply: FastifyReply) => {
    const who = identify(request, deps.apiTokens, true);
    if (who === undefined) throw new ForbiddenError("approvals need an identity");
    const { id } = parseWith(IncidentParamsSchema, request.params, "path.");
    const body = parseJson(request.body, true);
    let note: string | undefined;
    let set: string[] = [];
    if (decision === "approved") {
      const b = parseWith(ApproveBodySchema, body, "body.");
      note = b.note;
      set = Object.entries(b.set ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    } else {
      note = parseWith(RejectBodySchema, body, "body.").reason;
    }
    await recordDecision(deps.suture, id, { decision, approver: who.identity, ...(note !== undefined ? { note } : {}), set });
    await deps.queue.enqueue({ incidentId: id, reason: "approval" });
    return reply.status(202).send({ incidentId: id, decision, by: who.identity, next: "queued: a worker resumes the incident from its checkpoint" });
  };
  app.post("/v1/incidents/:id/approve", decideRoute("approved"));
  app.post("/v1/incidents/:id/reject", decideRoute("rejected"));
}
