import { z } from "zod";
import { InvalidInputError, NotFoundError, SutureError } from "../../domain/errors.js";
import { formatZodError } from "../../domain/problems.js";
import { SilenceMatcherSchema, SilenceRequestSchema, type SilenceMatcher, type SilenceRequest } from "./silence-request.js";

/** How Suture authenticates to Alertmanager (or to the reverse proxy in front of it). */
export type AlertmanagerAuth = { type: "bearer"; token: string } | { type: "basic"; username: string; password: string };

/** Where Alertmanager is and how to reach it. */
export interface AlertmanagerSilencesOptions {
  /** Alertmanager's base URL, e.g. `http://alertmanager.monitoring:9093` (a path prefix is kept). */
  url: string;
  auth?: AlertmanagerAuth;
  /** Milliseconds one request may take; 10 s by default. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A silence's state in Alertmanager. */
export type SilenceState = "active" | "pending" | "expired";

/** A silence as Alertmanager holds it. */
export interface Silence {
  id: string;
  state: SilenceState;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  createdBy: string;
  comment: string;
}

/** What expiring a silence did: `expired` it now, or found it `already-expired` or `not-found` (nothing to undo). */
export interface ExpireResult {
  id: string;
  outcome: "expired" | "already-expired" | "not-found";
}

/** Thrown when Alertmanager cannot be reached or answers with an error; the message has the status and Alertmanager's words. */
export class AlertmanagerError extends SutureError {
  constructor(
    message: string,
    /** Alertmanager's HTTP status; undefined when no answer came. */
    readonly status?: number,
  ) {
    super(message, 502, 1);
    this.name = "AlertmanagerError";
  }
}

/** Thrown when a silence id is unknown to Alertmanager. */
export class SilenceNotFoundError extends NotFoundError {
  constructor(url: string, id: string) {
    super(`Alertmanager at ${url} has no silence ${id} (it was never created there, or its data was lost with the storage)`);
    this.name = "SilenceNotFoundError";
  }
}

const GettableSilenceSchema = z.object({
  id: z.string(),
  status: z.object({ state: z.enum(["active", "pending", "expired"]) }),
  updatedAt: z.string(),
  matchers: z.array(SilenceMatcherSchema),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
});

const CreatedSchema = z.object({ silenceID: z.string().min(1) });
const StatusSchema = z.object({ versionInfo: z.object({ version: z.string() }) });

/** A UUID, which is what Alertmanager's silence ids are; anything else is refused before a request is sent. */
const SILENCE_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An answer from Alertmanager: status and body text. */
interface Answer {
  status: number;
  text: string;
}

/**
 * Creates, reads and expires silences through the Alertmanager API v2, so an alert Suture is
 * already acting on does not page anyone (or reopen the incident) while the action settles.
 */
export class AlertmanagerSilences {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly authorization?: string;
  private readonly secrets: string[];

  constructor(options: AlertmanagerSilencesOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new AlertmanagerError(`Alertmanager URL is not a URL; expected http(s)://host:port`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new AlertmanagerError(`Alertmanager URL must be http or https, not ${url.protocol}`);
    if (url.username !== "" || url.password !== "")
      throw new AlertmanagerError("Alertmanager URL must not carry credentials; give them as basic auth (ALERTMANAGER_USERNAME and ALERTMANAGER_PASSWORD)");
    this.base = url.toString().replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
    const auth = options.auth;
    if (auth?.type === "bearer") {
      this.authorization = `Bearer ${auth.token}`;
      this.secrets = [auth.token];
    } else if (auth?.type === "basic") {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
      this.authorization = `Basic ${encoded}`;
      this.secrets = [auth.password, encoded];
    } else {
      this.secrets = [];
    }
  }

  /** Creates a silence and returns its id. */
  async create(request: SilenceRequest): Promise<string> {
    const parsed = SilenceRequestSchema.safeParse(request);
    if (!parsed.success) throw new InvalidInputError(`silence not created (nothing was sent to Alertmanager): ${formatZodError(parsed.error, "silence ")}`);
    const answer = await this.send("POST", "/api/v2/silences", parsed.data);
    if (answer.status !== 200) throw this.failure("POST /api/v2/silences", answer);
    return this.parse("POST /api/v2/silences", answer, CreatedSchema).silenceID;
  }

  /** Reads one silence. Throws {@link SilenceNotFoundError} when Alertmanager does not know the id. */
  async get(id: string): Promise<Silence> {
    const route = `/api/v2/silence/${this.checkedId(id)}`;
    const answer = await this.send("GET", route);
    if (answer.status === 404) throw new SilenceNotFoundError(this.base, id);
    if (answer.status !== 200) throw this.failure(`GET ${route}`, answer);
    const s = this.parse(`GET ${route}`, answer, GettableSilenceSchema);
    return { id: s.id, state: s.status.state, matchers: s.matchers, startsAt: s.startsAt, endsAt: s.endsAt, updatedAt: s.updatedAt, createdBy: s.createdBy, comment: s.comment };
  }

  /**
   * Expires a silence. A silence already expired (by someone, or by its end time) or unknown to
   * Alertmanager is reported in the result rather than thrown: the alert is unmuted either way,
   * which is all an incident needs. Alertmanager 0.25 answers 200 to a second expiry and 500
   * "silence not found" to an unknown id (later versions 404 and 500 "already expired"), so the
   * silence is read first and both spellings of either answer are recognised.
   */
  async expire(id: string): Promise<ExpireResult> {
    let current: Silence;
    try {
      current = await this.get(id);
    } catch (error) {
      if (error instanceof SilenceNotFoundError) return { id, outcome: "not-found" };
      throw error;
    }
    if (current.state === "expired") return { id, outcome: "already-expired" };
    const route = `/api/v2/silence/${this.checkedId(id)}`;
    const answer = await this.send("DELETE", route);
    if (answer.status === 200) return { id, outcome: "expired" };
    const message = answer.text.toLowerCase();
    if (answer.status === 404 || message.includes("not found")) return { id, outcome: "not-found" };
    if (message.includes("already expired")) return { id, outcome: "already-expired" };
    throw this.failure(`DELETE ${route}`, answer);
  }

  /** Alertmanager's version (`versionInfo.version` of `/api/v2/status`): a cheap check that the URL and credentials work. */
  async version(): Promise<string> {
    const answer = await this.send("GET", "/api/v2/status");
    if (answer.status !== 200) throw this.failure("GET /api/v2/status", answer);
    return this.parse("GET /api/v2/status", answer, StatusSchema).versionInfo.version;
  }

  private checkedId(id: string): string {
    if (!SILENCE_ID.test(id)) throw new AlertmanagerError(`"${id.slice(0, 64)}" is not an Alertmanager silence id; expected a UUID as returned when the silence was created`);
    return id;
  }

  private async send(method: string, route: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": "suture" };
    if (this.authorization !== undefined) headers["authorization"] = this.authorization;
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      const response = await this.fetchFn(`${this.base}${route}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: "error",
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : [e.message, e.cause?.code ?? e.cause?.message].filter((x) => x !== undefined).join(": ");
      throw new AlertmanagerError(`${method} ${this.base}${route} failed: ${this.redact(why)}; is Alertmanager running at ${this.base}?`);
    }
  }

  private parse<T>(what: string, answer: Answer, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw new AlertmanagerError(`${what} at ${this.base} answered ${answer.status} with a body that is not JSON: ${this.excerpt(answer.text)}; is the URL Alertmanager's?`, answer.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new AlertmanagerError(`${what} at ${this.base} answered an unexpected body: ${formatZodError(parsed.error)}`, answer.status);
    return parsed.data;
  }

  private failure(what: string, answer: Answer): AlertmanagerError {
    const hint =
      answer.status === 401 || answer.status === 403
        ? `; check ALERTMANAGER_BEARER_TOKEN or ALERTMANAGER_USERNAME/ALERTMANAGER_PASSWORD (${this.authorization === undefined ? "none is set" : "the one set was refused"})`
        : "";
    return new AlertmanagerError(`${what} at ${this.base} answered ${answer.status}: ${this.excerpt(answer.text)}${hint}`, answer.status);
  }

  /** Alertmanager's message, unquoted (it answers JSON strings or `{code, message}`), short and without our credential. */
  private excerpt(text: string): string {
    let message = text.trim();
    try {
      const json: unknown = JSON.parse(message);
      if (typeof json === "string") message = json;
      else if (typeof json === "object" && json !== null && "message" in json && typeof json.message === "string") message = json.message;
    } catch {
      // not JSON: a proxy's HTML or plain text, shown as is
    }
    if (message === "") return "(empty body)";
    return this.redact(message.length > 300 ? `${message.slice(0, 300)}…` : message);
  }

  /** A reverse proxy may echo request headers back; never let a credential into an error. */
  private redact(text: string): string {
    return this.secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join("[redacted]"), text);
  }
}
