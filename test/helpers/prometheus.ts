import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

/** The real Prometheus server binary the end-to-end suites run. */
export const PROMETHEUS_BIN = process.env["PROMETHEUS_BIN"] ?? "/usr/bin/prometheus";
/** The single-node VictoriaMetrics binary. */
export const VICTORIA_METRICS_BIN = process.env["VICTORIA_METRICS_BIN"] ?? "/usr/bin/victoria-metrics";

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the Prometheus binary is installed (suites `describe.skipIf(!hasPrometheus)`). */
export const hasPrometheus = executable(PROMETHEUS_BIN);
/** Whether the VictoriaMetrics binary is installed. */
export const hasVictoriaMetrics = executable(VICTORIA_METRICS_BIN);

/** One scrape target: `host:port` and the path of its exposition. */
export interface ScrapeTarget {
  /** `127.0.0.1:9464`. */
  address: string;
  /** Default `/metrics`. */
  metricsPath?: string;
  /** The job label; default `suture-test`. */
  job?: string;
  /** Extra target labels. */
  labels?: Record<string, string>;
}

/** How to start a test Prometheus. */
export interface PrometheusOptions {
  targets?: ScrapeTarget[];
  /** Rule files (alerting or recording) to load, as paths. */
  ruleFiles?: string[];
  /** An Alertmanager to send alerts to, e.g. `http://127.0.0.1:9093`. */
  alertmanagerUrl?: string;
  /** Default `1s`. */
  scrapeInterval?: string;
  /** Default `1s`. */
  evaluationInterval?: string;
  /** More command-line flags. */
  extraFlags?: string[];
  /** Milliseconds to wait for `/-/ready`; default 30 s. */
  readyTimeoutMs?: number;
}

/** A running test server. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Its temporary folder (config, data), removed by stop(). */
  dir: string;
  /** What it wrote to stderr/stdout so far (for failure messages). */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its folder. */
  stop(): Promise<void>;
}

/** A free TCP port on loopback (the OS picks it; the tiny window before the server binds is acceptable in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The `scrape_configs` section for targets, as YAML lines (JSON is valid YAML). */
function scrapeConfigs(targets: ScrapeTarget[], interval: string): unknown[] {
  const byJob = new Map<string, ScrapeTarget[]>();
  for (const t of targets) {
    const key = `${t.job ?? "suture-test"}\u0000${t.metricsPath ?? "/metrics"}`;
    byJob.set(key, [...(byJob.get(key) ?? []), t]);
  }
  return [...byJob.values()].map((group, i) => {
    const first = group[0]!;
    return {
      job_name: first.job ?? (i === 0 ? "suture-test" : `suture-test-${i}`),
      metrics_path: first.metricsPath ?? "/metrics",
      scrape_interval: interval,
      static_configs: group.map((t) => ({ targets: [t.address], labels: t.labels ?? {} })),
    };
  });
}

async function waitReady(child: ChildProcess, url: string, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${url}: the server exited (code ${exited}) before it was ready:\n${log().slice(-2000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url}: not ready within ${timeoutMs} ms:\n${log().slice(-2000)}`);
}

function launch(binary: string, args: string[], dir: string, url: string, readyPath: string, port: number, timeoutMs: number): Promise<RunningServer> {
  const child = spawn(binary, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const append = (chunk: Buffer): void => {
    log = (log + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  return waitReady(child, `${url}${readyPath}`, () => log, timeoutMs).then(
    () => ({ url, port, dir, output: () => log, stop }),
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}

/**
 * Starts the real Prometheus on a free loopback port with a temporary config and TSDB: the given
 * scrape targets, rule files and Alertmanager, scraping and evaluating every second by default.
 * `--web.enable-lifecycle` is on, so a test may POST `/-/reload` after rewriting `dir/prometheus.yml`.
 */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<RunningServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-prometheus-"));
  const port = await freePort();
  const scrapeInterval = options.scrapeInterval ?? "1s";
  const alertmanager = options.alertmanagerUrl !== undefined ? new URL(options.alertmanagerUrl) : undefined;
  const config = {
    global: { scrape_interval: scrapeInterval, evaluation_interval: options.evaluationInterval ?? "1s" },
    scrape_configs: scrapeConfigs(options.targets ?? [], scrapeInterval),
    rule_files: options.ruleFiles ?? [],
    ...(alertmanager !== undefined
      ? {
          alerting: {
            alertmanagers: [{ scheme: alertmanager.protocol.replace(":", ""), path_prefix: alertmanager.pathname, static_configs: [{ targets: [alertmanager.host] }] }],
          },
        }
      : {}),
  };
  await writeFile(path.join(dir, "prometheus.yml"), JSON.stringify(config, null, 2));
  const args = [
    `--config.file=${path.join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-lifecycle",
    "--log.level=warn",
    ...(options.extraFlags ?? []),
  ];
  return launch(PROMETHEUS_BIN, args, dir, `http://127.0.0.1:${port}`, "/-/ready", port, options.readyTimeoutMs ?? 30_000);
}

/** How to start a test VictoriaMetrics. */
export interface VictoriaMetricsOptions {
  /** Targets it scrapes itself (`-promscrape.config`); none = samples are pushed (e.g. `/api/v1/import/prometheus`). */
  targets?: ScrapeTarget[];
  /** Default `1s`. */
  scrapeInterval?: string;
  extraFlags?: string[];
  readyTimeoutMs?: number;
}

/** Starts single-node VictoriaMetrics on a free loopback port with a temporary storage folder. */
export async function startVictoriaMetrics(options: VictoriaMetricsOptions = {}): Promise<RunningServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-victoria-"));
  const port = await freePort();
  const targets = options.targets ?? [];
  const scrape: string[] = [];
  if (targets.length > 0) {
    await writeFile(path.join(dir, "scrape.yml"), JSON.stringify({ scrape_configs: scrapeConfigs(targets, options.scrapeInterval ?? "1s") }, null, 2));
    scrape.push(`-promscrape.config=${path.join(dir, "scrape.yml")}`);
  }
  const args = [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${path.join(dir, "data")}`, "-retentionPeriod=1d", "-loggerLevel=WARN", ...scrape, ...(options.extraFlags ?? [])];
  return launch(VICTORIA_METRICS_BIN, args, dir, `http://127.0.0.1:${port}`, "/health", port, options.readyTimeoutMs ?? 30_000);
}

/** Polls an instant query until `accept` holds for its result (e.g. the first scrapes have landed); returns that result. */
export async function waitForQuery(
  baseUrl: string,
  query: string,
  accept: (result: Array<{ metric: Record<string, string>; value: [number, string] }>) => boolean = (r) => r.length > 0,
  timeoutMs = 30_000,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/api/v1/query?${new URLSearchParams({ query }).toString()}`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { status: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      last = JSON.stringify(body).slice(0, 300);
      if (body.status === "success" && body.data?.resultType === "vector" && accept(body.data.result)) return body.data.result;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${query} at ${baseUrl}: not as expected within ${timeoutMs} ms; last answer: ${last}`);
}
