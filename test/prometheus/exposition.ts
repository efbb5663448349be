import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Known metrics of a small cluster, in the names and labels of docs/metrics-contract (kube-state-metrics,
 * cAdvisor, kubelet, kafka_exporter, HTTP instrumentation). Counters grow linearly with the seconds
 * since `startMs`, so every rate and ratio below is exact whatever the scrape times.
 */
export const KNOWN = {
  /** Per pod of shop/checkout: requests per second by status code. */
  requestsPerSecondByCode: { "200": 8, "500": 1, "503": 1 },
  checkoutPods: ["checkout-7d9f8b6c5d-x2k4p", "checkout-7d9f8b6c5d-q8r2m"],
  /** A Deployment whose pods look like checkout's to a careless regex. */
  decoyPod: "checkout-v2-5f6d7c8b9-abcde",
  /** Error rate of the default template: 5xx share. */
  errorRate: 0.2,
  /** Error rate of the override used in the test: 503 share. */
  errorRate503: 0.1,
  /** Two pods × 10 req/s. */
  requestRate: 20,
  /** 98 of 100 observations ≤ 0.1 s, 2 in (0.25, 0.5]: p99 interpolates to 0.375 s. */
  latencyP99Ms: 375,
  /** Largest pod: 300 MiB (the other 200 + 56; the pod cgroup and the pause container are not counted). */
  memoryMib: 300,
  /** Two pods × 0.5 cores. */
  cpuCores: 1,
  /** 100 + 50 on orders, 7 on payments. */
  consumerLag: 157,
  /** checkout-data: 7.5 of 10 GiB. */
  diskUsagePct: 75,
  readyReplicas: 2,
  kafkaReadyReplicas: 3,
  /** data-kafka-0: 4 of 10 GiB. */
  kafkaDiskPct: 40,
} as const;

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
/** Cumulative observations per second per pod at each bucket (100 per second). */
const CUMULATIVE: Record<string, number> = { "0.005": 0, "0.01": 0, "0.025": 0, "0.05": 0, "0.1": 98, "0.25": 98, "0.5": 100, "1": 100, "2.5": 100, "5": 100, "10": 100, "+Inf": 100 };

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",")}}`;
}

/**
 * The exposition at `seconds` after the start, one line per sample; with `timestampMs` each line
 * carries it (the form VictoriaMetrics' /api/v1/import/prometheus takes).
 */
export function exposition(seconds: number, timestampMs?: number): string {
  const ts = timestampMs !== undefined ? ` ${timestampMs}` : "";
  const out: string[] = [];
  const sample = (name: string, l: Record<string, string>, v: number): void => {
    out.push(`${name}${labels(l)} ${v}${ts}`);
  };
  out.push("# TYPE http_requests_total counter");
  for (const pod of [...KNOWN.checkoutPods, KNOWN.decoyPod]) {
    const service = pod === KNOWN.decoyPod ? "checkout-v2" : "checkout";
    for (const [code, perSecond] of Object.entries(KNOWN.requestsPerSecondByCode)) {
      // The decoy fails everything: if its pods were counted, checkout's error rate would jump.
      const v = pod === KNOWN.decoyPod ? (code === "500" ? 50 : 0) : perSecond;
      sample("http_requests_total", { namespace: "shop", pod, container: "app", service, method: "GET", code }, v * seconds);
    }
  }
  out.push("# TYPE http_request_duration_seconds histogram");
  for (const pod of KNOWN.checkoutPods) {
    const base = { namespace: "shop", pod, container: "app", service: "checkout" };
    for (const le of BUCKETS) sample("http_request_duration_seconds_bucket", { ...base, le }, (CUMULATIVE[le] ?? 0) * seconds);
    sample("http_request_duration_seconds_sum", base, 8 * seconds);
    sample("http_request_duration_seconds_count", base, 100 * seconds);
  }
  out.push("# TYPE container_memory_working_set_bytes gauge");
  const [podA = "", podB = ""] = KNOWN.checkoutPods;
  sample("container_memory_working_set_bytes", { namespace: "shop", pod: podA, container: "app", image: "shop/checkout:1.4.2" }, 200 * MIB);
  sample("container_memory_working_set_bytes", { namespace: "shop", pod: podA, container: "envoy", image: "envoy:1.29" }, 56 * MIB);
  sample("container_memory_working_set_bytes", { namespace: "shop", pod: podB, container: "app", image: "shop/checkout:1.4.2" }, 300 * MIB);
  // The pod cgroup (container="") and the pause container: cAdvisor reports them, they are not containers.
  sample("container_memory_working_set_bytes", { namespace: "shop", pod: podB, container: "", image: "" }, 1000 * MIB);
  sample("container_memory_working_set_bytes", { namespace: "shop", pod: podB, container: "POD", image: "pause:3.9" }, 1 * MIB);
  sample("container_memory_working_set_bytes", { namespace: "shop", pod: KNOWN.decoyPod, container: "app", image: "shop/checkout:2.0.0" }, 4000 * MIB);
  out.push("# TYPE container_cpu_usage_seconds_total counter");
  for (const pod of KNOWN.checkoutPods) sample("container_cpu_usage_seconds_total", { namespace: "shop", pod, container: "app" }, 0.5 * seconds);
  sample("container_cpu_usage_seconds_total", { namespace: "shop", pod: KNOWN.decoyPod, container: "app" }, 3 * seconds);
  out.push("# TYPE kube_deployment_status_replicas_available gauge");
  sample("kube_deployment_status_replicas_available", { namespace: "shop", deployment: "checkout" }, KNOWN.readyReplicas);
  sample("kube_deployment_status_replicas_available", { namespace: "shop", deployment: "checkout-v2" }, 5);
  sample("kube_deployment_status_replicas_available", { namespace: "other", deployment: "checkout" }, 9);
  out.push("# TYPE kube_statefulset_status_replicas_ready gauge");
  sample("kube_statefulset_status_replicas_ready", { namespace: "shop", statefulset: "kafka" }, KNOWN.kafkaReadyReplicas);
  out.push("# TYPE kafka_consumergroup_lag gauge");
  sample("kafka_consumergroup_lag", { consumergroup: "checkout", topic: "orders", partition: "0" }, 100);
  sample("kafka_consumergroup_lag", { consumergroup: "checkout", topic: "orders", partition: "1" }, 50);
  sample("kafka_consumergroup_lag", { consumergroup: "checkout", topic: "payments", partition: "0" }, 7);
  sample("kafka_consumergroup_lag", { consumergroup: "checkout-audit", topic: "orders", partition: "0" }, 1000);
  out.push("# TYPE kubelet_volume_stats_capacity_bytes gauge");
  const volume = (claim: string, size: number, used: number): void => {
    sample("kubelet_volume_stats_capacity_bytes", { namespace: "shop", persistentvolumeclaim: claim }, size);
    sample("kubelet_volume_stats_used_bytes", { namespace: "shop", persistentvolumeclaim: claim }, used);
    sample("kubelet_volume_stats_available_bytes", { namespace: "shop", persistentvolumeclaim: claim }, size - used);
  };
  volume("checkout-data", 10 * GIB, 7.5 * GIB);
  volume("data-kafka-0", 10 * GIB, 4 * GIB);
  volume("billing-data", 10 * GIB, 9.9 * GIB);
  return `${out.join("\n")}\n`;
}

/** A tiny exposition server on loopback: `/metrics` answers {@link exposition} for the seconds since it started. */
export interface ExpositionServer {
  address: string;
  close(): Promise<void>;
}

/** Starts the exposition server. */
export async function startExposition(): Promise<ExpositionServer> {
  const start = Date.now();
  const server: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(exposition((Date.now() - start) / 1000));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
