import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterConnection } from "../../app/cluster.js";
import { loadConfig } from "../../app/config.js";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { startClusterApiServer, type ClusterApiServer } from "../../environments/cluster-api/server.js";
import { InMemoryConfigMapHistory } from "../../environments/kubernetes/config-history.js";

/** A fake Prometheus that records each query and answers one series with one sample (the wiring test needs no TSDB). */
async function recordingPrometheus(): Promise<{ url: string; queries: string[]; authorization: Array<string | undefined>; close(): Promise<void> }> {
  const queries: string[] = [];
  const authorization: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      queries.push(new URLSearchParams(body).get("query") ?? "");
      authorization.push(req.headers["authorization"]);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "success", data: { resultType: "matrix", result: [{ metric: {}, values: [[1796040000, "42"]] }] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    authorization,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("PROMETHEUS_URL wires PrometheusMetrics into the cluster adapter", () => {
  let dir: string;
  let cluster: ClusterApiServer;
  let prometheus: Awaited<ReturnType<typeof recordingPrometheus>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-prom-wiring-"));
    cluster = await startClusterApiServer({ backend: MemoryClusterBackend.fromManifests(readFileSync("test/fixtures/kubernetes/checkout-adapter.yaml", "utf8")) });
    await writeFile(path.join(dir, "kubeconfig.yaml"), cluster.kubeconfig({ namespace: "prod" }));
    prometheus = await recordingPrometheus();
  });

  afterAll(async () => {
    await prometheus?.close();
    await cluster?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("Given PROMETHEUS_URL and a bearer token, When an incident's adapter reads a metric, Then the kind found on the cluster picks the template and the token is sent", async () => {
    const config = loadConfig({ SUTURE_KUBECONFIG: path.join(dir, "kubeconfig.yaml"), SUTURE_KUBE_NAMESPACES: "prod", PROMETHEUS_URL: prometheus.url, PROMETHEUS_BEARER_TOKEN: "wiring-token" });
    const connection = new ClusterConnection(config.cluster!, new InMemoryConfigMapHistory(), config.prometheus);
    const environment = await connection.environmentFor("prod");
    // ledger is a StatefulSet on the cluster; the alert names it by name only.
    const series = await environment.queryMetric("ledger", "ready_replicas", 5);
    expect(series.points).toEqual([{ t: 1796040000000, v: 42 }]);
    expect(prometheus.queries.at(-1)).toBe('sum(kube_statefulset_status_replicas_ready{namespace="prod", statefulset="ledger"})');
    expect(prometheus.authorization.at(-1)).toBe("Bearer wiring-token");
    const memory = await environment.queryMetric("checkout", "memory_mib", 5);
    expect(memory.points[0]?.v).toBe(42);
    expect(prometheus.queries.at(-1)).toContain('pod=~"checkout-[a-z0-9]+-[a-z0-9]+"');
  });

  it("Given no PROMETHEUS_URL, When a metric other than ready_replicas is read, Then the adapter says there is no metrics source", async () => {
    const config = loadConfig({ SUTURE_KUBECONFIG: path.join(dir, "kubeconfig.yaml"), SUTURE_KUBE_NAMESPACES: "prod" });
    const environment = await new ClusterConnection(config.cluster!, new InMemoryConfigMapHistory(), config.prometheus).environmentFor("prod");
    const before = prometheus.queries.length;
    await expect(environment.queryMetric("checkout", "memory_mib", 5)).rejects.toThrow(/no metrics source configured for memory_mib; set PROMETHEUS_URL/);
    expect(prometheus.queries.length).toBe(before);
  });
});
