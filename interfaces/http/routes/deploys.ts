import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseBuild, parseDeploy } from "../../../domain/deploys.js";
import type { Recorded } from "../../../store/deploys.js";
import { z } from "zod";
import { identify, requireIntakeToken } from "../auth.js";
import { parseJson, parseWith } from "../request.js";
import type { ServerDeps } from "../deps.js";

const RegressionsQuerySchema = z
  .object({ limit: z.coerce.number("expected a number").int("expected a whole number").min(1, "expected at least 1").max(500, "expected at most 500").default(50) })
  .strict();

/**
 * The regression watch's intake: deploy markers (`POST /v1/deploys`, each starting a watch) and failed builds
 * (`POST /v1/builds`), with the alert intake's token and bounds. 201 with the stored id; 200 with
 * the first one's id when the same deploy or build was stored before, so a sender may retry freely.
 */
export function deployRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps.suture;
  const answer = (reply: FastifyReply, kind: "deploy" | "build", recorded: Recorded): FastifyReply => {
    deps.metrics.deploysReceived.inc({ kind, result: recorded.duplicate ? "duplicate" : "new" });
    return reply.status(recorded.duplicate ? 200 : 201).send(recorded);
  };
  const body = (request: FastifyRequest): unknown => {
    requireIntakeToken(request, deps.intakeToken);
    return parseJson(typeof request.body === "string" ? request.body : "", false);
  };
  // A deploy starts its regression watch at once; the worker's watch pass looks at it every minute.
  app.post("/v1/deploys", async (request, reply) => answer(reply, "deploy", await store.recordDeployAndWatch(parseDeploy(body(request)))));
  // The watches of recent deploys with their verdicts and evidence (what `suture regressions` shows).
  app.get("/v1/regressions", async (request) => {
    identify(request, deps.apiTokens, false);
    const q = parseWith(RegressionsQuerySchema, request.query, "query.");
    return { regressions: await store.recentRegressionWatches(q.limit) };
  });
  app.post("/v1/builds", async (request, reply) => answer(reply, "build", await store.recordBuild(parseBuild(body(request)))));
}
