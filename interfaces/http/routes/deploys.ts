import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseBuild, parseDeploy } from "../../../domain/deploys.js";
import type { Recorded } from "../../../store/deploys.js";
import { requireIntakeToken } from "../auth.js";
import { parseJson } from "../request.js";
import type { ServerDeps } from "../deps.js";

/**
 * The regression watch's intake: deploy markers (`POST /v1/deploys`) and failed builds
 * (`POST /v1/builds`), with the alert intake's token and bounds. 201 with the stored id; 200 with
 * the first one's id when the same deploy or build was stored before, so a sender may retry freely.
 */
export function deployRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps.suture;
  const answer = (reply: FastifyReply, recorded: Recorded): FastifyReply => reply.status(recorded.duplicate ? 200 : 201).send(recorded);
  const body = (request: FastifyRequest): unknown => {
    requireIntakeToken(request, deps.intakeToken);
    return parseJson(typeof request.body === "string" ? request.body : "", false);
  };
  app.post("/v1/deploys", async (request, reply) => answer(reply, await store.recordDeploy(parseDeploy(body(request)))));
  app.post("/v1/builds", async (request, reply) => answer(reply, await store.recordBuild(parseBuild(body(request)))));
}
