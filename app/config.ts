import type { RunbookActionsFile } from "../environments/runbook-actions/declarations.js";
import type { PrometheusAuth } from "../environments/prometheus/client.js";
import type { SignalsFile } from "../environments/prometheus/signal-templates.js";
import type { AlertmanagerAuth } from "../environments/alertmanager/silences.js";
import path from "node:path";
import { z } from "zod";
import { formatZodError } from "../domain/problems.js";
import { InvalidInputError } from "../domain/errors.js";

/** Process configuration, from environment variables. */
export const ConfigSchema = z.object({
  /** PostgreSQL URL; unset = embedded PGlite under `home`. */
  DATABASE_URL: z.string().url("expected a postgres:// URL").optional(),
  /** Where the embedded database and notifications live. */
  SUTURE_HOME: z.string().min(1).default(".suture"),
  /** A policy YAML file; unset = the documented default policy. */
  SUTURE_POLICY: z.string().min(1).optional(),
  /** Folder of runbook rule files; unset = the shipped `rules/`. */
  SUTURE_RULES: z.string().min(1).optional(),
  /** A webhook that receives escalations (Slack-compatible JSON); unset = a JSON-lines file. */
  SUTURE_NOTIFY_WEBHOOK: z.string().url("expected an http(s) URL").optional(),
  /** Enables OpenAI (or OpenAI-compatible) embeddings for incident memory. */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** An OpenAI-compatible server, e.g. vLLM or Ollama. */
  OPENAI_BASE_URL: z.string().url("expected an http(s) URL").optional(),
  /** Chat model for the LLM reasoner (enabled when OPENAI_API_KEY is set). */
  SUTURE_LLM_MODEL: z.string().min(1).default("gpt-4o-mini"),
  /** A small, fast model that first picks the evidence that matters (unset = no classification step). */
  SUTURE_LLM_CLASSIFIER_MODEL: z.string().min(1).optional(),
  /** Structured output style: response_format JSON schema, or a forced tool call. */
  SUTURE_LLM_METHOD: z.enum(["jsonSchema", "functionCalling"], "expected jsonSchema or functionCalling").default("jsonSchema"),
  /** Milliseconds one model call may take before the offline reasoners decide alone. */
  SUTURE_LLM_TIMEOUT_MS: z.coerce.number().int("expected whole milliseconds").min(100).max(300_000).default(20_000),
  /** Prompt budget in estimated tokens. */
  SUTURE_LLM_TOKEN_BUDGET: z.coerce.number().int().min(1000).max(200_000).default(6000),
  /** Estimated USD per million tokens, for the incident's model budget. */
  SUTURE_LLM_USD_PER_MTOKENS: z.coerce.number().min(0).default(0),
  /** Embedding model (it must support 384 dimensions). */
  SUTURE_EMBEDDING_MODEL: z.string().min(1).optional(),
  /** Memory scope incidents are remembered and recalled in. */
  SUTURE_MEMORY_SCOPE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9:._-]*$/, "expected a lower-case scope name")
    .default("default"),
  /**
   * API tokens for `suture serve`: comma-separated `identity:token:role`, role `approve` (may
   * approve and reject) or `read`. Unset = read endpoints open, approvals over HTTP disabled.
   */
  SUTURE_API_TOKENS: z
    .string()
    .regex(
      /^[^:,\s]+:[^:,\s]{16,}:(approve|read)(,[^:,\s]+:[^:,\s]{16,}:(approve|read))*$/,
      "expected identity:token:role entries separated by commas (token at least 16 characters, role approve or read)",
    )
    .optional(),
  /** A bearer token alert sources must send to the intake endpoints; unset = intake open. */
  SUTURE_INTAKE_TOKEN: z.string().min(16, "expected a token of at least 16 characters").optional(),
  /** A kubeconfig file of the cluster Suture observes and acts on, or `in-cluster` for the pod's service account. */
  SUTURE_KUBECONFIG: z.string().min(1).optional(),
  /** The kubeconfig context to use; unset = its current context. */
  SUTURE_KUBE_CONTEXT: z.string().min(1).optional(),
  /** A runbook-actions file: how this cluster carries out the actions that are not Kubernetes API calls (docs/runbook-actions.md). */
  SUTURE_RUNBOOK_ACTIONS: z.string().min(1).optional(),
  /** A YAML file mapping alert labels to targets for anything custom (docs/alert-targets.md); it wins over the label conventions. */
  SUTURE_ALERT_TARGETS: z.string().min(1).optional(),
  /** Namespaces whose alerts Suture handles on the cluster, comma-separated. */
  SUTURE_KUBE_NAMESPACES: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(,[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "expected namespace names separated by commas")
    .default("default"),
  /** A Prometheus-compatible HTTP API (Prometheus, VictoriaMetrics, Thanos) Suture reads the cluster's signals from. */
  PROMETHEUS_URL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as http://prometheus.monitoring:9090" }).optional(),
  /** A bearer token sent to Prometheus (not with PROMETHEUS_USERNAME). */
  PROMETHEUS_BEARER_TOKEN: z.string().min(1).optional(),
  /** HTTP basic auth to Prometheus: the user name (with PROMETHEUS_PASSWORD). */
  PROMETHEUS_USERNAME: z.string().min(1).optional(),
  /** HTTP basic auth to Prometheus: the password (with PROMETHEUS_USERNAME). */
  PROMETHEUS_PASSWORD: z.string().min(1).optional(),
  /** The signal-templates file (PromQL per signal); unset = the shipped data/prometheus/signals.yaml. */
  SUTURE_PROMETHEUS_SIGNALS: z.string().min(1).optional(),
  /** Seconds between the points of a metric's range query. */
  SUTURE_PROMETHEUS_STEP_SECONDS: z.coerce.number("expected a number of seconds").int("expected whole seconds").min(1).max(3600).default(15),
  // Alertmanager write-back (silences while an action settles) and incident links.
  /** Alertmanager's base URL, for silencing an alert while Suture's action settles. */
  ALERTMANAGER_URL: z
    .string()
    .url("expected an http(s) URL")
    .refine((u) => /^https?:\/\//i.test(u), "expected an http(s) URL")
    .refine((u) => {
      const url = URL.parse(u);
      return url === null || (url.username === "" && url.password === "");
    }, "expected a URL without credentials (set ALERTMANAGER_USERNAME and ALERTMANAGER_PASSWORD instead)")
    .optional(),
  /** A bearer token for Alertmanager (or the reverse proxy in front of it). */
  ALERTMANAGER_BEARER_TOKEN: z.string().min(1).optional(),
  /** Basic-auth user for Alertmanager's reverse proxy (with ALERTMANAGER_PASSWORD). */
  ALERTMANAGER_USERNAME: z.string().min(1).optional(),
  /** Basic-auth password for Alertmanager's reverse proxy (with ALERTMANAGER_USERNAME). */
  ALERTMANAGER_PASSWORD: z.string().min(1).optional(),
  /** Silence an incident's alert while an action settles; default true when ALERTMANAGER_URL is set. */
  SUTURE_SILENCE_WHILE_SETTLING: z.enum(["true", "false"], "expected true or false").optional(),
  /** Suture's public base URL, for links to incidents (in silence comments). */
  SUTURE_PUBLIC_URL: z
    .string()
    .url("expected an http(s) URL")
    .refine((u) => /^https?:\/\//i.test(u), "expected an http(s) URL")
    .optional(),
});

/** A Kubernetes cluster Suture observes and acts on. */
export interface ClusterConfig {
  /** A kubeconfig file, or "in-cluster" for the pod's service account. */
  kubeconfig: string;
  context?: string;
  /** Alerts in these namespaces are handled on the cluster. */
  namespaces: string[];
  /** The runbook-actions file (`SUTURE_RUNBOOK_ACTIONS`); unset: actions that are not API calls are refused. */
  runbookActionsFile?: string;
  /** That file, read and validated when Suture opens. */
  runbookActions?: RunbookActionsFile;
}

/** The Prometheus-compatible API Suture reads metrics, consumer lag and volumes from. */
export interface PrometheusConfig {
  url: string;
  /** A bearer token or basic auth (never printed). */
  auth?: PrometheusAuth;
  /** The signal-templates file (`SUTURE_PROMETHEUS_SIGNALS`); unset: the shipped defaults. */
  signalsFile?: string;
  /** Seconds between range-query points. */
  stepSeconds: number;
  /** The templates file, read and validated when Suture opens. */
  signals?: SignalsFile;
}

/** An API identity: who a bearer token stands for and whether it may decide approvals. */
export interface ApiIdentity {
  identity: string;
  token: string;
  canApprove: boolean;
}

/** Resolved configuration. */
export interface Config {
  databaseUrl?: string;
  home: string;
  dataDir: string;
  policyFile?: string;
  rulesDir?: string;
  notifyWebhook?: string;
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  embeddingModel?: string;
  /** The LLM reasoner's settings (used when an API key is configured). */
  llm: { model: string; classifierModel?: string; method: "jsonSchema" | "functionCalling"; timeoutMs: number; tokenBudget: number; usdPerMillionTokens: number };
  memoryScope: string;
  apiTokens: ApiIdentity[];
  intakeToken?: string;
  /** The explicit alert-target mapping file (`SUTURE_ALERT_TARGETS`). */
  alertTargetsFile?: string;
  /** The cluster to observe and act on (unset: only fleet worlds and scenarios). */
  cluster?: ClusterConfig;
  /** Where the cluster's metrics come from (unset: only ready_replicas, from the API server). */
  prometheus?: PrometheusConfig;
  /** Alertmanager to write silences to (unset: no write-back). */
  alertmanager?: AlertmanagerConfig;
  /** Suture's public base URL (`SUTURE_PUBLIC_URL`), without a trailing slash. */
  publicUrl?: string;
}

/** The Alertmanager Suture writes silences to. */
export interface AlertmanagerConfig {
  url: string;
  auth?: AlertmanagerAuth;
  /** Whether an incident's alert is silenced while an action settles. */
  silenceWhileSettling: boolean;
}

/** Thrown when an environment variable is invalid. */
export class InvalidConfigError extends InvalidInputError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidConfigError";
  }
}

/** One line saying which reasoners diagnose, for the start of long-running commands. */
export function describeReasoners(config: Config): string {
  if (config.openaiApiKey === undefined) return "reasoners: runbook rules + incident memory (no OPENAI_API_KEY: the LLM reasoner is off)";
  const classifier = config.llm.classifierModel !== undefined ? `, classification by ${config.llm.classifierModel}` : "";
  return `reasoners: runbook rules + incident memory + LLM ${config.llm.model} (${config.llm.method}${classifier}) at ${config.openaiBaseUrl ?? "api.openai.com"}`;
}

/** One line saying which cluster Suture acts on, if any, for the start of long-running commands. */
export function describeCluster(config: Config): string {
  const c = config.cluster;
  if (c === undefined) return "cluster: none (SUTURE_KUBECONFIG unset: alerts are handled in fleet worlds only)";
  const where = c.kubeconfig === "in-cluster" ? "in-cluster service account" : `kubeconfig ${c.kubeconfig}`;
  const runbook = c.runbookActionsFile !== undefined ? `; runbook actions from ${c.runbookActionsFile}` : "; no runbook actions (SUTURE_RUNBOOK_ACTIONS unset)";
  return `cluster: ${where}${c.context !== undefined ? `, context ${c.context}` : ""}; namespaces ${c.namespaces.join(", ")}${runbook}`;
}

/** One line saying where the cluster's metrics come from (never a credential), for the start of long-running commands. */
export function describeMetrics(config: Config): string {
  const p = config.prometheus;
  if (p === undefined) return "metrics: none (PROMETHEUS_URL unset: only ready_replicas, from the API server)";
  const auth = p.auth === undefined ? "no auth" : p.auth.kind === "bearer" ? "bearer token" : `basic auth as ${p.auth.username}`;
  const unused = config.cluster === undefined ? " — unused: SUTURE_KUBECONFIG is unset, so there is no cluster to read it for" : "";
  return `metrics: Prometheus API at ${p.url} (${auth}); signal templates ${p.signalsFile ?? "shipped defaults"}; step ${p.stepSeconds}s${unused}`;
}

/** The Prometheus settings, with their auth checked: one kind of credentials, and basic auth complete. */
function prometheusConfig(c: z.infer<typeof ConfigSchema>): PrometheusConfig | undefined {
  const basic = c.PROMETHEUS_USERNAME !== undefined || c.PROMETHEUS_PASSWORD !== undefined;
  if (c.PROMETHEUS_BEARER_TOKEN !== undefined && basic) {
    throw new InvalidConfigError("environment variable PROMETHEUS_BEARER_TOKEN: set either a bearer token or PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD, not both");
  }
  if (c.PROMETHEUS_USERNAME !== undefined && c.PROMETHEUS_PASSWORD === undefined)
    throw new InvalidConfigError("environment variable PROMETHEUS_PASSWORD: expected a password with PROMETHEUS_USERNAME");
  if (c.PROMETHEUS_PASSWORD !== undefined && c.PROMETHEUS_USERNAME === undefined)
    throw new InvalidConfigError("environment variable PROMETHEUS_USERNAME: expected a user name with PROMETHEUS_PASSWORD");
  if (c.PROMETHEUS_URL === undefined) {
    const orphan = [
      c.PROMETHEUS_BEARER_TOKEN !== undefined ? "PROMETHEUS_BEARER_TOKEN" : undefined,
      c.PROMETHEUS_USERNAME !== undefined ? "PROMETHEUS_USERNAME" : undefined,
      c.SUTURE_PROMETHEUS_SIGNALS !== undefined ? "SUTURE_PROMETHEUS_SIGNALS" : undefined,
    ].filter((v) => v !== undefined);
    if (orphan.length > 0) throw new InvalidConfigError(`environment variable PROMETHEUS_URL: expected with ${orphan.join(", ")} (they configure the Prometheus it names)`);
    return undefined;
  }
  const url = new URL(c.PROMETHEUS_URL);
  if (url.username !== "" || url.password !== "")
    throw new InvalidConfigError("environment variable PROMETHEUS_URL: expected no credentials in the URL; use PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD or PROMETHEUS_BEARER_TOKEN");
  const auth: PrometheusAuth | undefined =
    c.PROMETHEUS_BEARER_TOKEN !== undefined
      ? { kind: "bearer", token: c.PROMETHEUS_BEARER_TOKEN }
      : c.PROMETHEUS_USERNAME !== undefined && c.PROMETHEUS_PASSWORD !== undefined
        ? { kind: "basic", username: c.PROMETHEUS_USERNAME, password: c.PROMETHEUS_PASSWORD }
        : undefined;
  return {
    url: c.PROMETHEUS_URL,
    ...(auth !== undefined ? { auth } : {}),
    ...(c.SUTURE_PROMETHEUS_SIGNALS !== undefined ? { signalsFile: c.SUTURE_PROMETHEUS_SIGNALS } : {}),
    stepSeconds: c.SUTURE_PROMETHEUS_STEP_SECONDS,
  };
}

/** Reads configuration from environment variables (empty strings count as unset). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) throw new InvalidConfigError(formatZodError(parsed.error, "environment variable "));
  const c = parsed.data;
  const home = path.resolve(c.SUTURE_HOME);
  const prometheus = prometheusConfig(c);
  return {
    ...(c.DATABASE_URL !== undefined ? { databaseUrl: c.DATABASE_URL } : {}),
    home,
    dataDir: path.join(home, "pgdata"),
    ...(c.SUTURE_POLICY !== undefined ? { policyFile: c.SUTURE_POLICY } : {}),
    ...(c.SUTURE_RULES !== undefined ? { rulesDir: c.SUTURE_RULES } : {}),
    ...(c.SUTURE_NOTIFY_WEBHOOK !== undefined ? { notifyWebhook: c.SUTURE_NOTIFY_WEBHOOK } : {}),
    ...(c.SUTURE_ALERT_TARGETS !== undefined ? { alertTargetsFile: c.SUTURE_ALERT_TARGETS } : {}),
    ...(c.OPENAI_API_KEY !== undefined ? { openaiApiKey: c.OPENAI_API_KEY } : {}),
    ...(c.OPENAI_BASE_URL !== undefined ? { openaiBaseUrl: c.OPENAI_BASE_URL } : {}),
    ...(c.SUTURE_EMBEDDING_MODEL !== undefined ? { embeddingModel: c.SUTURE_EMBEDDING_MODEL } : {}),
    llm: {
      model: c.SUTURE_LLM_MODEL,
      ...(c.SUTURE_LLM_CLASSIFIER_MODEL !== undefined ? { classifierModel: c.SUTURE_LLM_CLASSIFIER_MODEL } : {}),
      method: c.SUTURE_LLM_METHOD,
      timeoutMs: c.SUTURE_LLM_TIMEOUT_MS,
      tokenBudget: c.SUTURE_LLM_TOKEN_BUDGET,
      usdPerMillionTokens: c.SUTURE_LLM_USD_PER_MTOKENS,
    },
    memoryScope: c.SUTURE_MEMORY_SCOPE,
    apiTokens: (c.SUTURE_API_TOKENS ?? "")
      .split(",")
      .filter((e) => e !== "")
      .map((entry) => {
        const [identity = "", token = "", role = ""] = entry.split(":");
        return { identity, token, canApprove: role === "approve" };
      }),
    ...(c.SUTURE_INTAKE_TOKEN !== undefined ? { intakeToken: c.SUTURE_INTAKE_TOKEN } : {}),
    ...(c.SUTURE_KUBECONFIG !== undefined
      ? {
          cluster: {
            kubeconfig: c.SUTURE_KUBECONFIG,
            ...(c.SUTURE_KUBE_CONTEXT !== undefined ? { context: c.SUTURE_KUBE_CONTEXT } : {}),
            namespaces: [...new Set(c.SUTURE_KUBE_NAMESPACES.split(","))],
            ...(c.SUTURE_RUNBOOK_ACTIONS !== undefined ? { runbookActionsFile: c.SUTURE_RUNBOOK_ACTIONS } : {}),
          },
        }
      : {}),
    ...(prometheus !== undefined ? { prometheus } : {}),
    ...alertmanagerConfig(c),
  };
}

/**
 * The Alertmanager settings: the URL, at most one kind of credential (a bearer token, or a user
 * and password together) and whether to silence while settling. Credentials or the silence switch
 * without a URL are refused rather than ignored, since the operator evidently meant to configure
 * write-back. Messages name the variables, never their values.
 */
function alertmanagerConfig(c: z.infer<typeof ConfigSchema>): Pick<Config, "alertmanager" | "publicUrl"> {
  const publicUrl = c.SUTURE_PUBLIC_URL !== undefined ? { publicUrl: c.SUTURE_PUBLIC_URL.replace(/\/+$/, "") } : {};
  const hasBasic = c.ALERTMANAGER_USERNAME !== undefined || c.ALERTMANAGER_PASSWORD !== undefined;
  if (c.ALERTMANAGER_URL === undefined) {
    const stray = [
      c.ALERTMANAGER_BEARER_TOKEN !== undefined ? "ALERTMANAGER_BEARER_TOKEN" : undefined,
      c.ALERTMANAGER_USERNAME !== undefined ? "ALERTMANAGER_USERNAME" : undefined,
      c.ALERTMANAGER_PASSWORD !== undefined ? "ALERTMANAGER_PASSWORD" : undefined,
      c.SUTURE_SILENCE_WHILE_SETTLING === "true" ? "SUTURE_SILENCE_WHILE_SETTLING=true" : undefined,
    ].filter((v) => v !== undefined);
    if (stray.length > 0) throw new InvalidConfigError(`environment variable ${stray.join(", ")} set without ALERTMANAGER_URL; set ALERTMANAGER_URL to Alertmanager's base URL or unset them`);
    return publicUrl;
  }
  if (c.ALERTMANAGER_BEARER_TOKEN !== undefined && hasBasic)
    throw new InvalidConfigError("environment variable ALERTMANAGER_BEARER_TOKEN and ALERTMANAGER_USERNAME/ALERTMANAGER_PASSWORD are both set; set one kind of credential for Alertmanager");
  if (hasBasic && (c.ALERTMANAGER_USERNAME === undefined || c.ALERTMANAGER_PASSWORD === undefined))
    throw new InvalidConfigError(
      `environment variable ${c.ALERTMANAGER_USERNAME === undefined ? "ALERTMANAGER_USERNAME" : "ALERTMANAGER_PASSWORD"}: expected it too (basic auth to Alertmanager needs a user and a password)`,
    );
  const auth: AlertmanagerAuth | undefined =
    c.ALERTMANAGER_BEARER_TOKEN !== undefined
      ? { type: "bearer", token: c.ALERTMANAGER_BEARER_TOKEN }
      : c.ALERTMANAGER_USERNAME !== undefined && c.ALERTMANAGER_PASSWORD !== undefined
        ? { type: "basic", username: c.ALERTMANAGER_USERNAME, password: c.ALERTMANAGER_PASSWORD }
        : undefined;
  return {
    ...publicUrl,
    alertmanager: { url: c.ALERTMANAGER_URL, ...(auth !== undefined ? { auth } : {}), silenceWhileSettling: c.SUTURE_SILENCE_WHILE_SETTLING !== "false" },
  };
}

/** One line saying where Suture writes silences, if anywhere, for the start of long-running commands (never a credential). */
export function describeAlertmanager(config: Config): string {
  const am = config.alertmanager;
  if (am === undefined) return "alertmanager: none (ALERTMANAGER_URL unset: alerts are not silenced while actions settle)";
  const auth = am.auth === undefined ? "no auth" : am.auth.type === "bearer" ? "bearer token" : `basic auth as ${am.auth.username}`;
  return `alertmanager: ${am.url} (${auth}); ${am.silenceWhileSettling ? "silences alerts while actions settle" : "no silences (SUTURE_SILENCE_WHILE_SETTLING=false)"}`;
}
