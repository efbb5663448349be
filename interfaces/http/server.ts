import { timingSafeEqual } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { z } from "zod";
import type { ApiIdentity } from "../../app/config.js";
import { ForbiddenError, InvalidInputError, SutureError, UnauthorizedError } from "../../domain/errors.js";
import { formatZodError, formatZodPath } from "../../domain/problems.js";
import { storableInstant, storableText } from "../../domain/input.js";
import { identifier } from "../../domain/alerts/bounds.js";
import { listIncidents } from "../../store/incidents.js";
import { assertMigrated } from "../../store/migrate.js";
import { parseNotifications, type AlertSource, type Intake } from "../../app/intake.js";
import type { SutureMetrics } from "../metrics.js";
import type { IncidentQueue } from "../../store/queue.js";
import { recordDecision } from "../../app/approvals.js";
import { incidentHistory } from "../../app/history.js";
import { currentState } from "../../app/advance.js";
import type { Suture } from "../../app/suture.js";

/** Everything the HTTP server needs. */
export interface ServerDeps {
  suture: Suture;
  intake: Intake;
  queue: IncidentQueue;
  metrics: SutureMetrics;
  apiTokens: ApiIdentity[];
  intakeToken?: string;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
}


const ListQuerySchema = z
  .object({
    status: z.string().max(256).regex(/^[a-z_]+(,[a-z_]+)*$/, "expected statuses separated by commas").optional(),
    service: identifier("a workload name").optional(),
    since: storableInstant().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

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

const IncidentParamsSchema = z.object({ id: storableText(200, "an incident id").min(1) });

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
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(error);
}

/** Largest `content-type` header stored with an intake request. */
const CONTENT_TYPE_MAX = 256;

/** A key JSON.parse keeps as an own property but that sets an object's prototype when copied or merged. */
const PROTOTYPE_KEY = "__proto__";

/** How deep a request body may nest: real alert bodies nest a handful of levels. */
const MAX_BODY_DEPTH = 64;

/** A node of a parsed JSON value while it is walked: its key, its parent (for the path) and its depth. */
interface Visit {
  value: unknown;
  depth: number;
  key?: string | number;
  parent?: Visit;
}

/** The path of a visited node, `set.__proto__`. */
function pathOf(visit: Visit): string {
  const keys: Array<string | number> = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
  return formatZodPath(keys);
}

/**
 * What is wrong with a parsed body's shape, if anything: nesting deeper than
 * {@link MAX_BODY_DEPTH}, or a `__proto__` key (schemas silently drop it, so accepting it would
 * accept something then ignored). Iterative, so no body can exhaust the stack here.
 */
function shapeProblem(root: unknown): string | undefined {
  const pending: Visit[] = [{ value: root, depth: 0 }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { value, depth } = visit;
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_BODY_DEPTH) return `${pathOf(visit) || "body"}: nested more than ${MAX_BODY_DEPTH} levels deep`;
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((child: unknown, i) => [i, child]) : Object.entries(value);
    for (const [key, child] of entries) {
      const node = { value: child, depth: depth + 1, key, parent: visit };
      if (key === PROTOTYPE_KEY) return `${pathOf(node)}: a key may not be named "${PROTOTYPE_KEY}"`;
      pending.push(node);
    }
  }
  return undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** Parses a raw JSON body; an empty body is `{}` when `emptyIsObject`. Refuses a body {@link shapeProblem} finds fault with. */
function parseJson(raw: unknown, emptyIsObject: boolean): unknown {
  const text = typeof raw === "string" ? raw : "";
  if (emptyIsObject && text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`invalid JSON: ${(error as Error).message}`);
  }
  const problem = shapeProblem(value);
  if (problem !== undefined) throw new InvalidInputError(problem);
  return value;
}

/** Serves `/metrics` (Prometheus text) on `app`. */
export function addMetricsRoute(app: FastifyInstance, metrics: SutureMetrics): void {
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.header("content-type", contentType).send(body);
  });
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidInputError(formatZodError(parsed.error, where));
  return parsed.data;
}

/**
 * Builds the HTTP API: alert intake (Alertmanager v4, PagerDuty Events v2, generic JSON), the
 * incident API for people and tools, `/metrics`, `/healthz` and `/readyz`.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { suture, intake, queue, metrics } = deps;
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
    const source = request.url.startsWith("/v1/alerts") ? sourceOf(request.url) : undefined;
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

  const requireIntakeToken = (request: FastifyRequest): void => {
    if (deps.intakeToken === undefined) return;
    const token = bearer(request);
    if (token === undefined || !sameToken(token, deps.intakeToken)) throw new UnauthorizedError("missing or wrong bearer token for alert intake (SUTURE_INTAKE_TOKEN)");
  };

  /** The caller's identity; reads are open when no tokens are configured. */
  const identify = (request: FastifyRequest, needApprove: boolean): ApiIdentity | undefined => {
    const token = bearer(request);
    if (deps.apiTokens.length === 0) {
      if (needApprove) throw new ForbiddenError("approvals over HTTP are disabled: no API tokens are configured (SUTURE_API_TOKENS)");
      return undefined;
    }
    if (token === undefined) throw new UnauthorizedError("missing bearer token: send Authorization: Bearer <token>");
    const who = deps.apiTokens.find((t) => sameToken(t.token, token));
    if (who === undefined) throw new UnauthorizedError("unknown bearer token");
    if (needApprove && !who.canApprove) throw new ForbiddenError(`${who.identity} may read incidents but not approve or reject`);
    return who;
  };

  const ingest = async (source: AlertSource, request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    requireIntakeToken(request);
    const raw = typeof request.body === "string" ? request.body : "";
    const body = parseJson(raw, false);
    const notifications = parseNotifications(source, body);

    const contentType = String(request.headers["content-type"] ?? "");
    if (contentType.length > CONTENT_TYPE_MAX) throw new InvalidInputError(`headers.content-type: expected at most ${CONTENT_TYPE_MAX} characters`);
    const result = await intake.accept(source, contentType, raw, notifications);
    for (const a of result.alerts) metrics.alertsReceived.inc({ source, status: a.status });
    if (source === "pagerduty") {
      // PagerDuty's own response shape, so senders built for its API accept ours.
      return reply.status(202).send({ status: "success", message: "Event processed", dedup_key: result.alerts[0]?.fingerprint, incident_id: result.alerts[0]?.incidentId ?? null });
    }
    return reply.status(202).send(result);
  };

  app.post("/v1/alerts/alertmanager", (request, reply) => ingest("alertmanager", request, reply));
  app.post("/v1/alerts/pagerduty", (request, reply) => ingest("pagerduty", request, reply));
  app.post("/v1/alerts", (request, reply) => ingest("generic", request, reply));

  app.get("/v1/incidents", async (request) => {
    identify(request, false);
    const q = parseWith(ListQuerySchema, request.query, "query.");
    const incidents = await listIncidents(suture.db.pool, { limit: q.limit, ...(q.status !== undefined ? { statuses: q.status.split(",") } : {}), ...(q.service !== undefined ? { service: q.service } : {}), ...(q.since !== undefined ? { since: q.since } : {}) });
    return { incidents };
  });

  app.get("/v1/incidents/:id", async (request) => {
    identify(request, false);
    const { id } = parseWith(IncidentParamsSchema, request.params, "path.");
    const incident = await suture.store.getIncident(id);
    const { state, awaitingApproval } = await currentState(suture, id);
    return {
      incident,
      brief: incident.brief,
      timeline: state.timeline ?? [],
      awaitingApproval: awaitingApproval ?? null,
      actions: await suture.store.actionsFor(id),
      approvals: await suture.store.approvalsFor(id),
      audit: await suture.store.auditFor(id),
    };
  });

  app.get("/v1/incidents/:id/history", async (request) => {
    identify(request, false);
    const { id } = parseWith(IncidentParamsSchema, request.params, "path.");
    await suture.store.getIncident(id);
    return incidentHistory(suture, id);
  });

  const decideRoute = (decision: "approved" | "rejected") => async (request: FastifyRequest, reply: FastifyReply) => {
    const who = identify(request, true);
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
    await recordDecision(suture, id, { decision, approver: who.identity, ...(note !== undefined ? { note } : {}), set });
    await queue.enqueue({ incidentId: id, reason: "approval" });
    return reply.status(202).send({ incidentId: id, decision, by: who.identity, next: "queued: a worker resumes the incident from its checkpoint" });
  };
  app.post("/v1/incidents/:id/approve", decideRoute("approved"));
  app.post("/v1/incidents/:id/reject", decideRoute("rejected"));

  addMetricsRoute(app, metrics);
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await assertMigrated(suture.db);
      await queue.depth();
      return { status: "ready" };
    } catch (error) {
      return reply.status(503).send({ status: "not ready", error: (error as Error).message });
    }
  });

  return app;
}

function sourceOf(url: string): AlertSource {
  if (url.startsWith("/v1/alerts/alertmanager")) return "alertmanager";
  if (url.startsWith("/v1/alerts/pagerduty")) return "pagerduty";
  return "generic";
}
