import { readFile } from "node:fs/promises";
import { rbacFromManifest } from "../environments/cluster-api/rbac.js";
import { startClusterApiServer, type ClusterApiServer } from "../environments/cluster-api/server.js";
import { InvalidInputError } from "../domain/errors.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import type { Scenario } from "./scenario.js";

const MINUTE = 60_000;

/** How to serve a scenario's world over the Kubernetes API. */
export interface SimulatedClusterOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Simulated seconds per wall-clock second (1 = real time). */
  speed?: number;
  /**
   * Start the world now at the scenario's minute 0 (its startTime = the wall clock) and follow
   * the wall clock at speed 1, so fault steps happen at their minutes in real time and a
   * Prometheus scraping `/metrics` sees the healthy baseline, then the fault.
   */
  realtime?: boolean;
  /** How often a realtime world catches up with the wall clock when nobody asks (default 1000 ms). */
  realtimeIntervalMs?: number;
  /** An RBAC manifest: every request must be allowed by the roles bound to its ServiceAccount. */
  rbacManifest?: string;
}

/** A scenario's world served over the Kubernetes API, its clock following the wall clock. */
export interface SimulatedCluster {
  server: ClusterApiServer;
  env: SimEnvironment;
  /** Where Prometheus scrapes the world's metrics (`<server>/metrics`). */
  metricsUrl: string;
  /** The scenario's namespaces, for the kubeconfig and what to print. */
  namespaces: string[];
  /** The RBAC user requests act as, when a manifest was given. */
  user?: string;
  close(): Promise<void>;
}

/**
 * Builds a scenario's world, runs it to the moment its alert fires, and serves it over the
 * Kubernetes API on loopback (`suture sim serve`), with its metrics on `/metrics`. From then on
 * the world's clock follows the wall clock at `speed`: before each request (a scrape too) it
 * catches up, so kubectl, Prometheus and Suture see controllers act, rollouts progress and pods
 * recover as time passes. With `realtime` the world starts now at minute 0 instead, follows the
 * wall clock at speed 1, and also catches up on a timer, so it moves when nobody asks.
 */
export async function startSimulatedCluster(scenario: Scenario, options: SimulatedClusterOptions = {}): Promise<SimulatedCluster> {
  const speed = options.speed ?? 1;
  const realtime = options.realtime === true;
  if (realtime && speed !== 1) {
    throw new InvalidInputError(`--realtime follows the wall clock at speed 1, got --speed ${speed}: drop --speed, or drop --realtime to start at the alert and run at --speed`);
  }
  // The alert fires now: kubectl computes some ages (describe's events) from its own clock. In
  // realtime the world's minute 0 is now, so its timestamps and Prometheus' scrape times agree.
  const alertMinute = realtime ? 0 : Math.max(0, ...scenario.alerts.filter((a) => a.status === "firing").map((a) => a.atMinutes));
  const startTime = new Date(Math.floor((Date.now() - alertMinute * MINUTE) / 1000) * 1000).toISOString();
  const env = SimEnvironment.create({ ...scenario.environment, startTime }, { metrics: true });
  const opensAt = env.startTime + alertMinute * MINUTE;
  await env.advanceTo(opensAt);
  // In realtime the world's clock is the wall clock itself (minute 0 = its startTime).
  const wallStart = realtime ? env.startTime : Date.now();
  const catchUp = (): Promise<void> => env.advanceTo(opensAt + (Date.now() - wallStart) * speed);
  const rbac = options.rbacManifest !== undefined ? rbacFromManifest(await readFile(options.rbacManifest, "utf8")) : undefined;
  const server = await startClusterApiServer({
    backend: env,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(rbac !== undefined ? { rbac } : {}),
    now: () => new Date(env.now()),
    beforeRequest: catchUp,
  });
  let timer: NodeJS.Timeout | undefined;
  if (realtime) {
    let failed = false;
    timer = setInterval(() => {
      catchUp().catch((error: unknown) => {
        // Said once: the next request's catch-up answers the same error to its client.
        if (!failed) console.error(`suture sim serve: the world could not catch up with the wall clock: ${error instanceof Error ? error.message : String(error)}`);
        failed = true;
      });
    }, options.realtimeIntervalMs ?? 1000);
    timer.unref();
  }
  const namespaceType = env.types().find((t) => t.plural === "namespaces");
  const namespaces = namespaceType === undefined ? [] : env.list(namespaceType, undefined).map((n) => n.metadata.name ?? "");
  return {
    server,
    env,
    metricsUrl: `${server.url}/metrics`,
    namespaces,
    ...(rbac !== undefined ? { user: rbac.user } : {}),
    close: () => {
      if (timer !== undefined) clearInterval(timer);
      return server.close();
    },
  };
}
