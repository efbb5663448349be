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

/**
 * A fake Prometheus (the wiring test needs no TSDB) that records each query: a range query gets one
 * sample of 42, an instant query on kubelet volume stats a 10 GiB claim half full, anything else nothing.
 */
async function recordingPrometheus(): Promise<{ url: string; queries: string[]; authorization: Array<string | undefined>; emptyRanges: boolean; close(): Promise<void> }> {
  const queries: string[] = [];
  const state = { emptyRanges: false };
  const authorization: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const query = new URLSearchParams(body).get("query") ?? "";
      queries.push(query);
      authorization.push(req.headers["authorization"]);
      res.writeHead(200, { "content-type": "application/json" });
      if (req.url === "/api/v1/query_range") {
        res.end(JSON.stringify({ status: "success", data: { resultType: "matrix", result: state.emptyRanges ? [] : [{ metric: {}, values: [[1796040000, "42"]] }] } }));
        return;
      }
      const claim = /persistentvolumeclaim=~"([^"]*)"/.exec(query)?.[1];
      const value = query.startsWith("kubelet_volume_stats_capacity_bytes") ? 10 * 2 ** 30 : query.startsWith("kubelet_volume_stats_used_bytes") ? 5 * 2 ** 30 : undefined;
      const result = claim !== undefined && value !== undefined ? [{ metric: { namespace: "prod", persistentvolumeclaim: claim }, value: [1796040000, String(value)] }] : [];
      res.end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    authorization,
    get emptyRanges() {
      return state.emptyRanges;
    },
    set emptyRanges(value: boolean) {
      state.emptyRanges = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The adapter fixture with ledger-0 mounting its StatefulSet claim, as a volumeClaimTemplate would have it. */
function fixtureWithClaim(): string {
  const yaml = readFileSync("test/fixtures/kubernetes/checkout-adapter.yaml", "utf8");
  const withClaim = yaml.replace(
    "spec:\n  nodeName: node-1\n  containers:\n    - name: ledger\n",
    "spec:\n  nodeName: node-1\n  volumes:\n    - { name: data, persistentVolumeClaim: { claimName: data-ledger-0 } }\n  containers:\n    - name: ledger\n",
  );
  if (withClaim === yaml) throw new Error("the fixture's ledger-0 pod changed; update fixtureWithClaim");
  return withClaim;
}

describe("PROMETHEUS_URL wires PrometheusMetrics into the cluster adapter", () => {
  let dir: string;
  let cluster: ClusterApiServer;
  let prometheus: Awaited<ReturnType<typeof recordingPrometheus>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-prom-wiring-"));
    cluster = await startClusterApiServer({ backend: MemoryClusterBackend.fromManifests(fixtureWithClaim()) });
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

  it("Given a StatefulSet pod mounting a claim, When the workload is described, Then its disks come from Prometheus for exactly the claims its pods mount", async () => {
    const config = loadConfig({ SUTURE_KUBECONFIG: path.join(dir, "kubeconfig.yaml"), SUTURE_KUBE_NAMESPACES: "prod", PROMETHEUS_URL: prometheus.url });
    const environment = await new ClusterConnection(config.cluster!, new InMemoryConfigMapHistory(), config.prometheus).environmentFor("prod");
    const description = await environment.describeWorkload("ledger");
    expect(description.disks).toEqual([{ mount: "data-ledger-0", sizeGib: 10, usedPct: 50, topPaths: [] }]);
    expect(prometheus.queries).toContain('kubelet_volume_stats_capacity_bytes{namespace="prod", persistentvolumeclaim=~"data-ledger-0"}');
    // No Prometheus source of breakers; dependencies from the (default, empty) signals file.
    expect(description.circuitBreakers).toEqual([]);
    expect(description.dependencies).toEqual([]);
  });

  it("Given a Prometheus without kube-state-metrics, When ready_replicas is read, Then the API server's count answers instead of an empty series", async () => {
    const config = loadConfig({ SUTURE_KUBECONFIG: path.join(dir, "kubeconfig.yaml"), SUTURE_KUBE_NAMESPACES: "prod", PROMETHEUS_URL: prometheus.url });
    const environment = await new ClusterConnection(config.cluster!, new InMemoryConfigMapHistory(), config.prometheus).environmentFor("prod");
    prometheus.emptyRanges = true;
    try {
      const series = await environment.queryMetric("ledger", "ready_replicas", 5);
      expect(series.points.map((p) => p.v)).toEqual([1]);
      expect(prometheus.queries.at(-1)).toContain("kube_statefulset_status_replicas_ready");
      // Other signals stay empty: only the replica count has a second source.
      expect((await environment.queryMetric("ledger", "memory_mib", 5)).points).toEqual([]);
    } finally {
      prometheus.emptyRanges = false;
    }
  });

  it("Given no PROMETHEUS_URL, When a metric other than ready_replicas is read, Then the adapter says there is no metrics source", async () => {
    const config = loadConfig({ SUTURE_KUBECONFIG: path.join(dir, "kubeconfig.yaml"), SUTURE_KUBE_NAMESPACES: "prod" });
    const environment = await new ClusterConnection(config.cluster!, new InMemoryConfigMapHistory(), config.prometheus).environmentFor("prod");
    const before = prometheus.queries.length;
    await expect(environment.queryMetric("checkout", "memory_mib", 5)).rejects.toThrow(/no metrics source configured for memory_mib; set PROMETHEUS_URL/);
    expect(prometheus.queries.length).toBe(before);
  });
});
