import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { SutureError } from "../../domain/errors.js";
import type { ServerDeps } from "./deps.js";
import { alertRoutes, sourceOf } from "./routes/alerts.js";
import { approvalRoutes } from "./routes/approvals.js";
import { deployRoutes } from "./routes/deploys.js";
import { incidentRoutes } from "./routes/incidents.js";
import { operationRoutes } from "./routes/operations.js";

/** Longest path segment (an incident id) a route accepts. */
const MAX_PARAM_LENGTH = 200;

/**
 * Answers a request Node's HTTP parser refused (headers too large, a malformed request line) in
 * the documented `{"error": "<one line>"}` shape, as Fastify's default handler would otherwise not.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "request: the client took too long to send it"]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "headers: larger than the server accepts (16 KiB)"]
        : [400, `request: not a valid HTTP request (${error.code ?? error.message})`];
  const body = JSON.stringify({ error: message });
  if (socket.writable)
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(error);
}

/**
 * Builds the HTTP API: alert intake (Alertmanager v4, PagerDuty Events v2, generic JSON), deploy
 * markers and failed builds for the regression watch, the
 * incident API for people and tools, `/metrics`, `/healthz` and `/readyz`.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { metrics } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // Errors Fastify raises before a route runs (bad URL encoding, an over-long path segment)
    // get the same one-line shape as every other error.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? `path: a path segment is longer than ${MAX_PARAM_LENGTH} characters` : `path: ${error.message}`;
      void reply.status(error.statusCode ?? 400).send({ error: message });
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler: answerClientError,
  });

  // Bodies stay raw text: intake stores them verbatim and parses them itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: { statusCode?: number; message: string; code?: string }, request, reply) => {
    // A value PostgreSQL refuses (SQLSTATE class 22, data exception) came from the request: it is
    // the client's error, not ours. Every field is validated first, so this is a last resort,
    // logged because it means a schema missed a bound.
    const unstorable = !(error instanceof SutureError) && typeof error.code === "string" && /^22[0-9A-Z]{3}$/.test(error.code);
    if (unstorable) process.stderr.write(`suture serve: ${request.method} ${request.url.slice(0, 200)}: a value reached the database unvalidated: ${error.message}\n`);
    const fastifyStatus = error.statusCode;
    const status = error instanceof SutureError ? error.httpStatus : unstorable ? 400 : fastifyStatus !== undefined && fastifyStatus >= 400 && fastifyStatus < 500 ? fastifyStatus : 500;
    const source = sourceOf(request.url);
    if (source !== undefined) metrics.alertsRejected.inc({ source, code: String(status) });
    const message =
      error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
        ? `unsupported content type ${JSON.stringify(request.headers["content-type"] ?? "(none)")}; expected application/json`
        : error.code === "FST_ERR_CTP_BODY_TOO_LARGE"
          ? `request body is larger than ${deps.bodyLimit ?? 1024 * 1024} bytes`
          : status === 500
            ? "internal error; the request was not applied"
            : unstorable
              ? `request: a value cannot be stored (${error.message}); nothing was written`
              : (error.message.split("\n")[0] ?? "");
    if (status === 500) process.stderr.write(`suture serve: ${request.method} ${request.url}: ${error.message}\n`);
    void reply.status(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `no route ${request.method} ${request.url.split("?")[0] ?? ""}` });
  });

  alertRoutes(app, deps);
  deployRoutes(app, deps);
  incidentRoutes(app, deps);
  approvalRoutes(app, deps);
  operationRoutes(app, deps);

  return app;
}
