import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetricName } from "../../environments/adapter.js";
import type { WorkloadRef } from "../../environments/kubernetes/workload-ref.js";
import { PrometheusError } from "../../environments/prometheus/client.js";
import { PrometheusMetrics } from "../../environments/prometheus/prometheus-metrics.js";
import { loadSignalsFile, type SignalsFile } from "../../environments/prometheus/signal-templates.js";
import { hasPrometheus, hasVictoriaMetrics, PROMETHEUS_BIN, startPrometheus, startVictoriaMetrics, VICTORIA_METRICS_BIN, waitForQuery, type RunningServer } from "../helpers/prometheus.js";
import { exposition, KNOWN, startExposition, type ExpositionServer } from "./exposition.js";

const checkout: WorkloadRef = { namespace: "shop", kind: "Deployment", name: "checkout" };
const kafka: WorkloadRef = { namespace: "shop", kind: "StatefulSet", name: "kafka" };

/**
 * The shipped defaults plus the overrides these tests need, with a 10 s rate window: rate() divides
 * by the window, so a test that waits for a full window waits 10 s rather than the default 2 min.
 */
async function signalsWithOverrides(): Promise<SignalsFile> {
  const shipped = (await loadSignalsFile()).data;
  return {
    ...shipped,
    window: "10s",
    overrides: [
      // A workload elsewhere whose override must not reach shop/checkout.
      { namespace: "other", workload: "checkout", signals: { error_rate: "vector(0.99)" } },
      {
        namespace: "shop",
        workload: "checkout-503",
        signals: {
          error_rate: `sum(rate(http_requests_total{namespace="{{namespace}}", pod=~"checkout-[a-z0-9]+-[a-z0-9]+", code="503"}[{{window}}])) / sum(rate(http_requests_total{namespace="{{namespace}}", pod=~"checkout-[a-z0-9]+-[a-z0-9]+"}[{{window}}]))`,
        },
      },
      { namespace: "shop", workload: "broken", signals: { error_rate: "sum(rate(http_requests_total[{{window}}])" } },
    ],
  };
}

/** The last point of a signal's series over the last minute. */
async function latest(metrics: PrometheusMetrics, ref: WorkloadRef, metric: MetricName): Promise<number | undefined> {
  const series = await metrics.queryMetric(ref, metric, 1);
  return series.points.at(-1)?.v;
}

/** The assertions both back ends must pass: the known values of exposition.ts through the default templates. */
function knownValues(backend: () => PrometheusMetrics): void {
  it("Given known counters, gauges and a histogram, When each signal is read, Then it has the known value", async () => {
    const metrics = backend();
    expect(await latest(metrics, checkout, "error_rate")).toBeCloseTo(KNOWN.errorRate, 3);
    expect(await latest(metrics, checkout, "latency_p99_ms")).toBeCloseTo(KNOWN.latencyP99Ms, 0);
    expect(await latest(metrics, checkout, "request_rate")).toBeCloseTo(KNOWN.requestRate, 0);
    expect(await latest(metrics, checkout, "memory_mib")).toBe(KNOWN.memoryMib);
    expect(await latest(metrics, checkout, "cpu_cores")).toBeCloseTo(KNOWN.cpuCores, 2);
    expect(await latest(metrics, checkout, "disk_usage_pct")).toBeCloseTo(KNOWN.diskUsagePct, 6);
    expect(await latest(metrics, checkout, "consumer_lag")).toBe(KNOWN.consumerLag);
    expect(await latest(metrics, checkout, "ready_replicas")).toBe(KNOWN.readyReplicas);
    // A StatefulSet reads its own kube-state-metrics series and claims (data-kafka-0).
    expect(await latest(metrics, kafka, "ready_replicas")).toBe(KNOWN.kafkaReadyReplicas);
    expect(await latest(metrics, kafka, "disk_usage_pct")).toBeCloseTo(KNOWN.kafkaDiskPct, 6);
  });

  it("Given a one-minute window, When a signal is read, Then its points are epoch ms inside the window and the series names the workload", async () => {
    const before = Date.now();
    const series = await backend().queryMetric(checkout, "ready_replicas", 1);
    expect(series.service).toBe("shop/checkout");
    expect(series.metric).toBe("ready_replicas");
    expect(series.points.length).toBeGreaterThan(0);
    for (const p of series.points) {
      expect(p.t).toBeGreaterThanOrEqual(before - 61_000);
      expect(p.t).toBeLessThanOrEqual(Date.now() + 1000);
    }
  });

  it("Given kafka_exporter lag per partition, When consumer lag is read, Then each topic of the workload's group has its partitions and total", async () => {
    const groups = await backend().consumerLag(checkout);
    expect(groups.map((g) => ({ topic: g.topic, group: g.group, totalLag: g.totalLag, partitions: g.partitions.map((p) => [p.partition, p.lag, p.endOffset - p.committedOffset]) }))).toEqual([
      {
        topic: "orders",
        group: "checkout",
        totalLag: 150,
        partitions: [
          [0, 100, 100],
          [1, 50, 50],
        ],
      },
      { topic: "payments", group: "checkout", totalLag: 7, partitions: [[0, 7, 7]] },
    ]);
  });

  it("Given kubelet volume stats, When disks are read by the pvc regex or by claim names, Then only the workload's claims are reported with size and usage", async () => {
    const metrics = backend();
    expect(await metrics.disks(checkout)).toEqual([{ mount: "checkout-data", sizeGib: 10, usedPct: 75, topPaths: [] }]);
    expect(await metrics.disks(kafka)).toEqual([{ mount: "data-kafka-0", sizeGib: 10, usedPct: 40, topPaths: [] }]);
    expect((await metrics.disks(checkout, ["billing-data"])).map((d) => [d.mount, Math.round(d.usedPct)])).toEqual([["billing-data", 99]]);
    expect(await metrics.disks(checkout, [])).toEqual([]);
  });

  it('Given a workload name carrying PromQL (a"}or vector(1)), When its signals are read, Then the name is matched literally: no series, no error', async () => {
    const metrics = backend();
    for (const name of ['a"}or vector(1)', 'a"}) or vector(1) or sum(up{job="', "checkout|.*"]) {
      const ref: WorkloadRef = { namespace: "shop", kind: "Deployment", name };
      expect((await metrics.queryMetric(ref, "ready_replicas", 1)).points).toEqual([]);
      expect((await metrics.queryMetric(ref, "request_rate", 1)).points).toEqual([]);
      expect(await metrics.disks(ref)).toEqual([]);
    }
    // A namespace carrying PromQL is escaped the same way.
    expect((await metrics.queryMetric({ namespace: 'shop"} or vector(1) #', kind: "Deployment", name: "checkout" }, "ready_replicas", 1)).points).toEqual([]);
  });
}

describe.skipIf(!hasPrometheus)(`PrometheusMetrics against a real Prometheus scraping known metrics${hasPrometheus ? "" : ` (skipped: ${PROMETHEUS_BIN} is not installed)`}`, () => {
  let target: ExpositionServer;
  let prometheus: RunningServer;
  let metrics: PrometheusMetrics;

  beforeAll(async () => {
    target = await startExposition();
    prometheus = await startPrometheus({ targets: [{ address: target.address }], scrapeInterval: "1s" });
    metrics = new PrometheusMetrics({ url: prometheus.url, signals: await signalsWithOverrides(), stepSeconds: 5, defaultNamespace: "default" });
    // Wait until the scrapes fill more than one rate window (10 s at one scrape a second).
    await waitForQuery(prometheus.url, 'count_over_time(http_requests_total{pod="checkout-7d9f8b6c5d-x2k4p", code="200"}[1m])', (r) => Number(r[0]?.value[1] ?? 0) >= 13);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await target?.close();
  });

  knownValues(() => metrics);

  it("Given an override for namespace shop and workload checkout-503, When its error rate is read, Then the override's 503-only query answers, and another namespace's override does not reach shop/checkout", async () => {
    expect(await latest(metrics, { namespace: "shop", kind: "Deployment", name: "checkout-503" }, "error_rate")).toBeCloseTo(KNOWN.errorRate503, 3);
    expect(await latest(metrics, checkout, "error_rate")).toBeCloseTo(KNOWN.errorRate, 3);
    expect(await latest(metrics, { namespace: "other", kind: "Deployment", name: "checkout" }, "error_rate")).toBeCloseTo(0.99, 6);
  });

  it("Given an override with invalid PromQL, When the signal is read, Then the error names the signal, the workload and Prometheus' own message", async () => {
    const error = await metrics.queryMetric({ namespace: "shop", kind: "Deployment", name: "broken" }, "error_rate", 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PrometheusError);
    const message = (error as Error).message;
    expect(message).toContain("error_rate of shop/broken");
    expect(message).toContain("HTTP 400");
    expect(message).toContain("bad_data");
    expect(message).toMatch(/parse error/);
    expect((error as PrometheusError).errorType).toBe("bad_data");
  });

  it("Given the real server, When its build info is read, Then it reports the installed version", async () => {
    expect((await metrics.client.buildInfo()).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("Given a Prometheus that is not listening, When a signal is read, Then the error says it is unreachable and names the signal", async () => {
    const down = new PrometheusMetrics({ url: "http://127.0.0.1:9", signals: await signalsWithOverrides(), timeoutMs: 2000 });
    await expect(down.queryMetric(checkout, "memory_mib", 5)).rejects.toThrow(/memory_mib of shop\/checkout: Prometheus at http:\/\/127\.0\.0\.1:9 unreachable/);
  });
});

describe.skipIf(!hasVictoriaMetrics)(`PrometheusMetrics against VictoriaMetrics with imported samples${hasVictoriaMetrics ? "" : ` (skipped: ${VICTORIA_METRICS_BIN} is not installed)`}`, () => {
  let vm: RunningServer;
  let metrics: PrometheusMetrics;

  beforeAll(async () => {
    // The latency offset hides the newest 30 s by default; the imported samples end at "now".
    vm = await startVictoriaMetrics({ extraFlags: ["-search.latencyOffset=0s", "-search.disableCache"] });
    const now = Date.now();
    const lines: string[] = [];
    // Five minutes of samples every 5 s, as if scraped, with their timestamps.
    for (let s = 0; s <= 300; s += 5) lines.push(exposition(s, now - (300 - s) * 1000).replace(/^#.*\n/gm, ""));
    const res = await fetch(`${vm.url}/api/v1/import/prometheus`, { method: "POST", body: lines.join("") });
    expect(res.status).toBe(204);
    await fetch(`${vm.url}/internal/force_flush`);
    await waitForQuery(vm.url, "kube_statefulset_status_replicas_ready");
    metrics = new PrometheusMetrics({ url: vm.url, signals: (await loadSignalsFile()).data, stepSeconds: 5 });
  }, 60_000);

  afterAll(async () => {
    await vm?.stop();
  });

  knownValues(() => metrics);
});

/** A fake Prometheus that records request headers and answers a fixed status (for the auth tests only). */
async function headerRecorder(status: number): Promise<{ url: string; headers: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const headers: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    req.on("end", () => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        status === 200
          ? JSON.stringify({
              status: "success",
              data: {
                resultType: "matrix",
                result: [
                  {
                    metric: {},
                    values: [
                      [1700000000, "1"],
                      [1700000015, "NaN"],
                      [1700000030, "+Inf"],
                      [1700000045, "2"],
                    ],
                  },
                ],
              },
            })
          : JSON.stringify({ status: "error", errorType: "unauthorized", error: "bad credentials" }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    headers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("PrometheusMetrics credentials", () => {
  it("Given a bearer token, When a signal is read, Then the request carries Authorization: Bearer and NaN/Inf samples are dropped", async () => {
    const fake = await headerRecorder(200);
    try {
      const metrics = new PrometheusMetrics({ url: fake.url, auth: { kind: "bearer", token: "s3cret-token-value" }, signals: (await loadSignalsFile()).data });
      const series = await metrics.queryMetric(checkout, "memory_mib", 5);
      expect(fake.headers[0]?.["authorization"]).toBe("Bearer s3cret-token-value");
      expect(series.points).toEqual([
        { t: 1700000000000, v: 1 },
        { t: 1700000045000, v: 2 },
      ]);
    } finally {
      await fake.close();
    }
  });

  it("Given basic auth, When a signal is read, Then the request carries Authorization: Basic user:password", async () => {
    const fake = await headerRecorder(200);
    try {
      const metrics = new PrometheusMetrics({ url: fake.url, auth: { kind: "basic", username: "suture", password: "pa:ss" }, signals: (await loadSignalsFile()).data });
      await metrics.queryMetric(checkout, "cpu_cores", 5);
      expect(fake.headers[0]?.["authorization"]).toBe(`Basic ${Buffer.from("suture:pa:ss").toString("base64")}`);
    } finally {
      await fake.close();
    }
  });

  it("Given credentials Prometheus refuses, When a signal is read, Then the error gives the status and Prometheus' message but never the credential", async () => {
    const fake = await headerRecorder(401);
    try {
      const metrics = new PrometheusMetrics({ url: fake.url, auth: { kind: "bearer", token: "s3cret-token-value" }, signals: (await loadSignalsFile()).data });
      const error = await metrics.queryMetric(checkout, "request_rate", 5).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toContain("request_rate of shop/checkout");
      expect(error?.message).toContain("HTTP 401");
      expect(error?.message).toContain("unauthorized: bad credentials");
      expect(error?.message).toContain("PROMETHEUS_BEARER_TOKEN");
      expect(error?.message).not.toContain("s3cret");
    } finally {
      await fake.close();
    }
  });
});
