import { readFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import type { Clock } from "../../domain/clock.js";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { rulesFromManifest, type PolicyRule } from "../../environments/cluster-api/rbac.js";
import { startClusterApiServer } from "../../environments/cluster-api/server.js";
import { KubernetesEnvironment, type KubernetesEnvironmentOptions } from "../../environments/kubernetes/kubernetes-environment.js";

/** "Now" in the fixture's world: a few minutes after checkout's bad rollout. */
export const NOW = Date.parse("2026-11-30T07:00:00Z");

/** A clock standing still at {@link NOW} (tests advance it by hand). */
export class FixedClock implements Clock {
  readonly realTime = false;

  constructor(public t = NOW) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

/** One HTTP request as it reached the API server. */
export interface SeenRequest {
  method: string;
  path: string;
  dryRun: boolean;
}

/** The RBAC manifest Suture ships, optionally edited (to take a verb away). */
export function shippedRules(edit: (yaml: string) => string = (y) => y): PolicyRule[] {
  return rulesFromManifest(edit(readFileSync("deploy/kubernetes/rbac.yaml", "utf8")));
}

/** The ServiceAccount user the shipped RBAC manifest binds. */
export const SUTURE_USER = "system:serviceaccount:suture-system:suture";

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  rules?: PolicyRule[];
  /** Called before a request is forwarded to the API server: to change the cluster "in between". */
  beforeRequest?: (request: SeenRequest) => void;
  /** Answers a request in the API server's place (e.g. a failure), or undefined to forward it. */
  answerInstead?: (request: SeenRequest) => { status: number; body: unknown } | undefined;
}

/**
 * The simulated API server on the adapter's fixture, behind a recording proxy: the real
 * client-node speaks HTTP to it, and the test sees every request (and can act before one).
 */
export async function startCluster(options: ClusterOptions = {}) {
  const backend = MemoryClusterBackend.fromManifests(readFileSync("test/fixtures/kubernetes/checkout-adapter.yaml", "utf8"), { now: () => new Date(NOW) });
  backend.setPodLog("prod", "checkout-6b7f9d5c48-x2x9p", "checkout", 'level=info msg="listening on :8080"\n{"level":"error","msg":"payment gateway timeout after 2000ms"}\n');
  backend.setPodLog("prod", "checkout-6b7f9d5c48-7kq4m", "checkout", "WARN pool nearly exhausted\n");
  const api = await startClusterApiServer({ backend, ...(options.rules !== undefined ? { rbac: { rules: options.rules, user: SUTURE_USER } } : {}) });
  const seen: SeenRequest[] = [];
  const target = new URL(api.url);
  const proxy = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? "/", api.url);
    const request: SeenRequest = { method: incoming.method ?? "GET", path: url.pathname, dryRun: url.searchParams.get("dryRun") === "All" };
    seen.push(request);
    options.beforeRequest?.(request);
    const instead = options.answerInstead?.(request);
    if (instead !== undefined) {
      incoming.resume();
      outgoing.writeHead(instead.status, { "content-type": "application/json" });
      outgoing.end(JSON.stringify(instead.body));
      return;
    }
    const forwarded = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(outgoing);
    });
    // A connection cut while the cluster closes is not a test failure.
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const kubeconfigText = (): string => {
    // The server's own kubeconfig, pointed at the recording proxy in front of it.
    const document = parse(api.kubeconfig({ namespace: "prod" })) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    for (const { cluster } of document.clusters) cluster["server"] = proxyUrl;
    return stringify(document);
  };
  const kubeConfig = (): KubeConfig => {
    const config = new KubeConfig();
    config.loadFromString(kubeconfigText());
    return config;
  };
  const clock = new FixedClock();
  /** A new adapter (a new process, as after SIGKILL): nothing shared with earlier ones but the cluster. */
  const adapter = (extra: Partial<KubernetesEnvironmentOptions> = {}): KubernetesEnvironment => new KubernetesEnvironment({ kubeConfig: kubeConfig(), namespace: "prod", clock, ...extra });
  return {
    backend,
    seen,
    clock,
    adapter,
    kubeConfig,
    /** The kubeconfig (YAML) pointing at the recording proxy. */
    kubeconfigText,
    /** Real (not dry-run) writes the API server received. */
    writes: () => seen.filter((r) => r.method !== "GET" && !r.dryRun),
    close: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await api.close();
    },
  };
}

/** What {@link startCluster} returns. */
export type TestCluster = Awaited<ReturnType<typeof startCluster>>;
