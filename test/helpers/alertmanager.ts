import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";

/** Where Debian/Ubuntu install Alertmanager, then the upstream binary's name on PATH. */
const CANDIDATES = ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager"];

/** The Alertmanager binary on this machine (`ALERTMANAGER_BIN` first), or undefined when there is none. */
export function alertmanagerBinary(): string | undefined {
  const fromEnv = process.env["ALERTMANAGER_BIN"];
  if (fromEnv !== undefined && fromEnv !== "") return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((c) => existsSync(c));
}

/** How a test Alertmanager routes and where it sends notifications. */
export interface AlertmanagerOptions {
  /** A webhook receiving every alert (e.g. `suture serve`'s `/v1/alerts/alertmanager`); unset = a receiver that sends nothing. */
  webhookUrl?: string;
  /** The bearer token Alertmanager sends to the webhook, written to a credentials file (mode 0600) as a real setup does. */
  webhookBearerToken?: string;
  /** Labels alerts are grouped by; `[namespace, alertname]` by default. */
  groupBy?: string[];
  /** Alertmanager durations (`"100ms"`, `"1s"`, `"5m"`): short by default so a test sees notifications quickly. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** How long an alert without an end time stays firing after its last update. */
  resolveTimeout?: string;
}

/** A running Alertmanager and how to stop it. */
export interface RunningAlertmanager {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** The config file it was started with. */
  configFile: string;
  /** The credentials file holding the webhook's bearer token, when one was given. */
  credentialsFile?: string;
  /** Everything it printed so far, for a failing test's message. */
  output: () => string;
  /** Kills the process and removes its temporary directory. */
  stop: () => Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The Alertmanager config a test runs with: one route to one receiver. */
export function alertmanagerConfig(options: AlertmanagerOptions, credentialsFile?: string): Record<string, unknown> {
  const receiver =
    options.webhookUrl !== undefined
      ? {
          name: "suture",
          webhook_configs: [
            {
              url: options.webhookUrl,
              send_resolved: true,
              max_alerts: 0,
              ...(credentialsFile !== undefined ? { http_config: { authorization: { type: "Bearer", credentials_file: credentialsFile } } } : {}),
            },
          ],
        }
      : { name: "null" };
  return {
    global: { resolve_timeout: options.resolveTimeout ?? "5m" },
    route: {
      receiver: receiver.name,
      group_by: options.groupBy ?? ["namespace", "alertname"],
      group_wait: options.groupWait ?? "100ms",
      group_interval: options.groupInterval ?? "1s",
      repeat_interval: options.repeatInterval ?? "1h",
    },
    receivers: [receiver],
  };
}

/**
 * Starts Alertmanager on a free loopback port with a temporary config and storage, clustering
 * off (`--cluster.listen-address=` — otherwise it binds 0.0.0.0:9094 and a second one fails),
 * and resolves once `/-/ready` answers 200. Throws with its output when it exits or is not ready
 * within 20 s. Always `stop()` it in afterAll.
 */
export async function startAlertmanager(options: AlertmanagerOptions = {}): Promise<RunningAlertmanager> {
  const binary = alertmanagerBinary();
  if (binary === undefined) throw new Error(`no Alertmanager binary (looked for ALERTMANAGER_BIN, ${CANDIDATES.join(", ")})`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-am-"));
  let credentialsFile: string | undefined;
  if (options.webhookBearerToken !== undefined) {
    credentialsFile = path.join(dir, "suture-intake-token");
    await writeFile(credentialsFile, options.webhookBearerToken, { mode: 0o600 });
  }
  const configFile = path.join(dir, "alertmanager.yml");
  await writeFile(configFile, stringify(alertmanagerConfig(options, credentialsFile)));
  // A port picked free can be taken before Alertmanager binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      [`--config.file=${configFile}`, `--storage.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=warn"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(child, url, () => out);
      return {
        url,
        configFile,
        ...(credentialsFile !== undefined ? { credentialsFile } : {}),
        output: () => out,
        stop: async () => {
          await kill(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await kill(child);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitReady(child: ChildProcess, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Alertmanager exited (${child.exitCode ?? child.signalCode}) before it was ready: ${output()}`);
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Alertmanager at ${url} was not ready within 20 s: ${output()}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
