import type { FastifyInstance } from "fastify";
import { assertMigrated } from "../../../store/migrate.js";
import type { SutureMetrics } from "../../metrics.js";
import type { ServerDeps } from "../deps.js";

/** Serves `/metrics` (Prometheus text) on `app`. */
export function metricsRoute(app: FastifyInstance, metrics: SutureMetrics): void {
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.header("content-type", contentType).send(body);
  });
}

/** Liveness (the process answers) and readiness (the database and the queue answer), and `/metrics`. */
export function operationRoutes(app: FastifyInstance, deps: ServerDeps): void {
  metricsRoute(app, deps.metrics);
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await assertMigrated(deps.suture.db);
      await deps.queue.depth();
      return { status: "ready" };
    } catch (error) {
      return reply.status(503).send({ status: "not ready", error: (error as Error).message });
    }
  });
}
