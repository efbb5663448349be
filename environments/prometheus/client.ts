import { z } from "zod";
import { SutureError } from "../../domain/errors.js";

/** How Suture authenticates to Prometheus: a bearer token or HTTP basic auth, never both. */
export type PrometheusAuth = { kind: "bearer"; token: string } | { kind: "basic"; username: string; password: string };

/** Where a Prometheus-compatible HTTP API is and how to call it. */
export interface PrometheusClientOptions {
  /** Base URL, e.g. `http://prometheus.monitoring:9090` (a path prefix such as `/prom` is kept). */
  url: string;
  auth?: PrometheusAuth;
  /** Milliseconds one request may take; default 10 s. */
  timeoutMs?: number;
  /** The fetch to use (tests); default the global fetch. */
  fetch?: typeof fetch;
}

/** One series of a range query: its labels and its samples (`t` epoch ms). */
export interface RangeSeries {
  labels: Record<string, string>;
  points: Array<{ t: number; v: number }>;
}

/** One sample of an instant query. */
export interface InstantSample {
  labels: Record<string, string>;
  t: number;
  v: number;
}

/**
 * A Prometheus request that failed: unreachable, timed out, an HTTP error or an error answer. The
 * message names the endpoint, the status and Prometheus' own `errorType: error`, never a credential.
 * 502: the fault is upstream of Suture.
 */
export class PrometheusError extends SutureError {
  constructor(
    message: string,
    /** The HTTP status Prometheus answered (0 when it did not answer). */
    readonly status: number,
    /** Prometheus' `errorType` (bad_data, execution, timeout…), when it sent one. */
    readonly errorType?: string,
  ) {
    super(message, 502, 1);
    this.name = "PrometheusError";
  }
}

const SampleValue = z.string();
const Labels = z.record(z.string(), z.string());

const ErrorBody = z.object({ status: z.literal("error"), errorType: z.string().optional(), error: z.string().optional() });

const MatrixBody = z.object({
  status: z.literal("success"),
  data: z.object({ resultType: z.literal("matrix"), result: z.array(z.object({ metric: Labels, values: z.array(z.tuple([z.number(), SampleValue])) })) }),
});

const VectorBody = z.object({
  status: z.literal("success"),
  data: z.union([
    z.object({ resultType: z.literal("vector"), result: z.array(z.object({ metric: Labels, value: z.tuple([z.number(), SampleValue]) })) }),
    z.object({ resultType: z.literal("scalar"), result: z.tuple([z.number(), SampleValue]) }),
  ]),
});

const BuildInfoBody = z.object({ status: z.literal("success"), data: z.object({ version: z.string() }).loose() });

/** Prometheus encodes samples as strings ("NaN", "+Inf" included); only finite numbers are kept. */
function finite(text: string): number | undefined {
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * A small client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`,
 * `/api/v1/status/buildinfo`), which VictoriaMetrics and Thanos serve too. Queries are POSTed as a
 * form, so long PromQL never hits a URL length limit.
 */
export class PrometheusClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly authorization: string | undefined;

  constructor(options: PrometheusClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new PrometheusError(`Prometheus URL must be http(s), got ${url.protocol}`, 0);
    // Credentials in the URL would leak into every error message that names it.
    if (url.username !== "" || url.password !== "") throw new PrometheusError("Prometheus URL must not hold credentials; set PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD or PROMETHEUS_BEARER_TOKEN", 0);
    this.base = url.toString().replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    const auth = options.auth;
    this.authorization = auth === undefined ? undefined : auth.kind === "bearer" ? `Bearer ${auth.token}` : `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`;
  }

  /** The base URL requests go to (no credentials in it). */
  get url(): string {
    return this.base;
  }

  /** A range query: every series the expression yields between `startMs` and `endMs`, one sample per `stepSeconds`. NaN and ±Inf samples are dropped. */
  async queryRange(query: string, startMs: number, endMs: number, stepSeconds: number): Promise<RangeSeries[]> {
    const body = await this.call("/api/v1/query_range", { query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepSeconds) });
    const parsed = MatrixBody.safeParse(body);
    if (!parsed.success) throw this.unexpected("/api/v1/query_range", "a matrix result");
    return parsed.data.data.result.map((series) => ({
      labels: series.metric,
      points: series.values.flatMap(([t, text]) => {
        const v = finite(text);
        return v !== undefined ? [{ t: Math.round(t * 1000), v }] : [];
      }),
    }));
  }

  /** An instant query at `timeMs` (default: Prometheus' now). A scalar result is one sample without labels. */
  async query(query: string, timeMs?: number): Promise<InstantSample[]> {
    const body = await this.call("/api/v1/query", { query, ...(timeMs !== undefined ? { time: String(timeMs / 1000) } : {}) });
    const parsed = VectorBody.safeParse(body);
    if (!parsed.success) throw this.unexpected("/api/v1/query", "a vector or scalar result");
    const data = parsed.data.data;
    const samples = data.resultType === "scalar" ? [{ metric: {}, value: data.result }] : data.result;
    return samples.flatMap(({ metric, value: [t, text] }) => {
      const v = finite(text);
      return v !== undefined ? [{ labels: metric, t: Math.round(t * 1000), v }] : [];
    });
  }

  /** The server's version (`/api/v1/status/buildinfo`). */
  async buildInfo(): Promise<{ version: string }> {
    const body = await this.call("/api/v1/status/buildinfo");
    const parsed = BuildInfoBody.safeParse(body);
    if (!parsed.success) throw this.unexpected("/api/v1/status/buildinfo", "a version");
    return { version: parsed.data.data.version };
  }

  private unexpected(endpoint: string, expected: string): PrometheusError {
    return new PrometheusError(`Prometheus at ${this.base} answered ${endpoint} with a body that is not ${expected}; is PROMETHEUS_URL a Prometheus-compatible API?`, 200);
  }

  /** One request: POST with a form when there are parameters, else GET; the parsed JSON body of a 2xx answer. */
  private async call(endpoint: string, form?: Record<string, string>): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.authorization !== undefined) headers["authorization"] = this.authorization;
    if (form !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    let response: Response;
    try {
      response = await this.fetch(`${this.base}${endpoint}`, {
        method: form !== undefined ? "POST" : "GET",
        headers,
        ...(form !== undefined ? { body: new URLSearchParams(form).toString() } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const e = error as Error;
      const why = e.name === "TimeoutError" || e.name === "AbortError" ? `no answer within ${this.timeoutMs} ms` : `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ""}`;
      throw new PrometheusError(`Prometheus at ${this.base} unreachable for ${endpoint}: ${why}`, 0);
    }
    const text = await response.text().catch(() => "");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const failure = ErrorBody.safeParse(body);
    if (!response.ok || failure.success) {
      const detail = failure.success ? `${failure.data.errorType ?? "error"}: ${failure.data.error ?? "(no message)"}` : text.trim().slice(0, 200) || response.statusText;
      const hint = response.status === 401 || response.status === 403 ? " (check PROMETHEUS_BEARER_TOKEN or PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD)" : "";
      throw new PrometheusError(
        `Prometheus at ${this.base} refused ${endpoint}: HTTP ${response.status}${detail !== "" ? ` — ${detail}` : ""}${hint}`,
        response.status,
        failure.success ? failure.data.errorType : undefined,
      );
    }
    if (body === undefined) throw this.unexpected(endpoint, "JSON");
    return body;
  }
}
