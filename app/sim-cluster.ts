import { readFile } from "node:fs/promises";
import { rbacFromManifest } from "../environments/cluster-api/rbac.js";
import { startClusterApiServer, type ClusterApiServer } from "../environments/cluster-api/server.js";
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
  /** An RBAC manifest: every request must be allowed by the roles bound to its ServiceAccount. */
  rbacManifest?: string;
}

/** A scenario's world served over the Kubernetes API, its clock following the wall clock. */
export interface SimulatedCluster {
  server: ClusterApiServer;
  env: SimEnvironment;
  /** The scenario's namespaces, for the kubeconfig and what to print. */
  namespaces: string[];
  /** The RBAC user requests act as, when a manifest was given. */
  user?: string;
  close(): Promise<void>;
}

/**
 * Builds a scenario's world, runs it to the moment its alert fires, and serves it over the
 * Kubernetes API on loopback (`suture sim serve`). From then on the world's clock follows the
 * wall clock at `speed`: before each request it catches up, so kubectl and Suture see
 * controllers act, rollouts progress and pods recover as time passes.
 */
export async function startSimulatedCluster(scenario: Scenario, options: SimulatedClusterOptions = {}): Promise<SimulatedCluster> {
  // The alert fires now: kubectl computes some ages (describe's events) from its own clock.
  const alertMinute = Math.max(0, ...scenario.alerts.filter((a) => a.status === "firing").map((a) => a.atMinutes));
  const startTime = new Date(Math.floor((Date.now() - alertMinute * MINUTE) / 1000) * 1000).toISOString();
  const env = SimEnvironment.create({ ...scenario.environment, startTime });
  const opensAt = env.startTime + alertMinute * MINUTE;
  await env.advanceTo(opensAt);
  const speed = options.speed ?? 1;
  const wallStart = Date.now();
  const rbac = options.rbacManifest !== undefined ? rbacFromManifest(await readFile(options.rbacManifest, "utf8")) : undefined;
  const server = await startClusterApiServer({
    backend: env,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(rbac !== undefined ? { rbac } : {}),
    now: () => new Date(env.now()),
    beforeRequest: () => env.advanceTo(opensAt + (Date.now() - wallStart) * speed),
  });
  const namespaceType = env.types().find((t) => t.plural === "namespaces");
  const namespaces = namespaceType === undefined ? [] : env.list(namespaceType, undefined).map((n) => n.metadata.name ?? "");
  return { server, env, namespaces, ...(rbac !== undefined ? { user: rbac.user } : {}), close: () => server.close() };
}
