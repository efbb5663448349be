import { WallClock, type Clock } from "../../domain/clock.js";
import type { CircuitBreakerState, ConsumerGroupState, DiskState, MetricName, MetricSeries } from "../adapter.js";
import type { WorkloadSignals } from "../kubernetes/signals.js";
import { formatWorkloadRef, type WorkloadRef } from "../kubernetes/workload-ref.js";
import { PrometheusClient, PrometheusError, type InstantSample, type PrometheusClientOptions } from "./client.js";
import { escapePromqlString, escapeRegex, loadSignalsFile, SignalTemplates, type SignalsFile } from "./signal-templates.js";

/** Most points Prometheus returns for one range query (it refuses more than 11,000). */
export const MAX_POINTS = 11_000;

/** How PrometheusMetrics reaches Prometheus and which templates it fills. */
export interface PrometheusMetricsOptions extends PrometheusClientOptions {
  /** The validated signal templates (see {@link PrometheusMetrics.open} to read them from a file). */
  signals: SignalsFile;
  /** Seconds between the points of a range query; default 15 (raised when a window would exceed {@link MAX_POINTS}). */
  stepSeconds?: number;
  /** Namespace a bare workload name is in, for the `service` string of a series; default "default". */
  defaultNamespace?: string;
  clock?: Clock;
}

const GIB = 2 ** 30;

/**
 * Suture's {@link WorkloadSignals} read through PromQL from Prometheus (or VictoriaMetrics, Thanos,
 * Mimir: anything serving the Prometheus HTTP API). Each signal is a template from the signals
 * file, filled with the workload's escaped names and run as a range query over the window.
 */
export class PrometheusMetrics implements WorkloadSignals {
  readonly client: PrometheusClient;
  readonly templates: SignalTemplates;
  private readonly stepSeconds: number;
  private readonly defaultNamespace: string;
  private readonly clock: Clock;

  constructor(options: PrometheusMetricsOptions) {
    this.client = new PrometheusClient(options);
    this.templates = new SignalTemplates(options.signals);
    this.stepSeconds = options.stepSeconds ?? 15;
    if (!(this.stepSeconds > 0)) throw new PrometheusError(`step must be a positive number of seconds, got ${this.stepSeconds}`, 0);
    this.defaultNamespace = options.defaultNamespace ?? "default";
    this.clock = options.clock ?? new WallClock();
  }

  /** Reads and validates the templates file (default: the shipped one), then connects. */
  static async open(options: Omit<PrometheusMetricsOptions, "signals"> & { signalsFile?: string }): Promise<PrometheusMetrics> {
    const { signalsFile, ...rest } = options;
    return new PrometheusMetrics({ ...rest, signals: (await loadSignalsFile(signalsFile)).data });
  }

  /** The PromQL a signal runs for a workload (what an operator pastes into Prometheus' UI to check). */
  promql(ref: WorkloadRef, metric: MetricName): string {
    const query = this.templates.resolve(ref).queries[metric];
    if (query === undefined) throw new PrometheusError(`no PromQL template for ${metric} of a ${ref.kind} in the signals file; add one under signals.${metric}.${ref.kind.toLowerCase()}`, 0);
    return query;
  }

  async queryMetric(ref: WorkloadRef, metric: MetricName, windowMinutes: number): Promise<MetricSeries> {
    const query = this.promql(ref, metric);
    const end = this.clock.now();
    const rangeSeconds = Math.max(1, windowMinutes * 60);
    const step = Math.max(this.stepSeconds, Math.ceil(rangeSeconds / MAX_POINTS));
    const service = formatWorkloadRef(ref, this.defaultNamespace);
    let series;
    try {
      series = await this.client.queryRange(query, end - rangeSeconds * 1000, end, step);
    } catch (error) {
      throw named(error, `${metric} of ${ref.namespace}/${ref.name}`);
    }
    // No series is no data (no traffic, not scraped yet): an empty series, not an error.
    if (series.length === 0) return { service, metric, points: [] };
    if (series.length > 1) {
      throw new PrometheusError(
        `the ${metric} query for ${ref.namespace}/${ref.name} returned ${series.length} series, expected one; aggregate it (sum, max) in the signals file. Query: ${query}`,
        200,
      );
    }
    return { service, metric, points: series[0]?.points ?? [] };
  }

  /**
   * The workload's consumer groups per topic from kafka_exporter's `kafka_consumergroup_lag`.
   * kafka_exporter's lag is all that is read: committed and end offsets are not, so each
   * partition reports committedOffset 0 and endOffset = lag (their difference stays the lag).
   */
  async consumerLag(ref: WorkloadRef): Promise<ConsumerGroupState[]> {
    const group = this.templates.resolve(ref).consumerGroup;
    const samples = await this.instant(`kafka_consumergroup_lag{consumergroup="${escapePromqlString(group)}"}`, `consumer lag of ${ref.namespace}/${ref.name}`);
    const byTopic = new Map<string, ConsumerGroupState>();
    for (const s of samples) {
      const topic = s.labels["topic"] ?? "";
      const state = byTopic.get(topic) ?? { topic, group, partitions: [], totalLag: 0, dlqDepth: 0 };
      const lag = Math.max(0, s.v);
      state.partitions.push({ partition: Number(s.labels["partition"] ?? 0), committedOffset: 0, endOffset: lag, lag });
      state.totalLag += lag;
      byTopic.set(topic, state);
    }
    for (const state of byTopic.values()) state.partitions.sort((a, b) => a.partition - b.partition);
    return [...byTopic.values()].sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /**
   * The workload's volumes from the kubelet's `kubelet_volume_stats_*`: the PVCs named (the Kubernetes
   * adapter passes those its pods mount), else those matching the signals file's pvcRegex. The
   * kubelet does not say where a claim is mounted, so `mount` is the claim's name.
   */
  async disks(ref: WorkloadRef, pvcNames?: string[]): Promise<DiskState[]> {
    if (pvcNames !== undefined && pvcNames.length === 0) return [];
    const regex = pvcNames !== undefined ? pvcNames.map(escapeRegex).join("|") : this.templates.resolve(ref).pvcRegex;
    const selector = `{namespace="${escapePromqlString(ref.namespace)}", persistentvolumeclaim=~"${escapePromqlString(regex)}"}`;
    const what = `volumes of ${ref.namespace}/${ref.name}`;
    const [used, capacity, available] = await Promise.all([
      this.instant(`kubelet_volume_stats_used_bytes${selector}`, what),
      this.instant(`kubelet_volume_stats_capacity_bytes${selector}`, what),
      this.instant(`kubelet_volume_stats_available_bytes${selector}`, what),
    ]);
    // One kubelet reports a claim; if two do (a moved pod), the largest values stand.
    const byClaim = (samples: InstantSample[]): Map<string, number> => {
      const out = new Map<string, number>();
      for (const s of samples) {
        const claim = s.labels["persistentvolumeclaim"] ?? "";
        out.set(claim, Math.max(out.get(claim) ?? 0, s.v));
      }
      return out;
    };
    const usedBy = byClaim(used);
    const availableBy = byClaim(available);
    return [...byClaim(capacity)]
      .filter(([, size]) => size > 0)
      .map(([claim, size]) => {
        const usedBytes = usedBy.get(claim) ?? size - (availableBy.get(claim) ?? size);
        return { mount: claim, sizeGib: size / GIB, usedPct: (100 * usedBytes) / size, topPaths: [] };
      })
      .sort((a, b) => a.mount.localeCompare(b.mount));
  }

  /** Prometheus has no standard metric for client-side breakers: none are reported. */
  async circuitBreakers(_ref: WorkloadRef): Promise<CircuitBreakerState[]> {
    return [];
  }

  /** The services the signals file lists for the workload (Prometheus has no standard for it). */
  async dependencies(ref: WorkloadRef): Promise<string[]> {
    return [...this.templates.resolve(ref).dependencies];
  }

  private async instant(query: string, what: string): Promise<InstantSample[]> {
    try {
      return await this.client.query(query, this.clock.now());
    } catch (error) {
      throw named(error, what);
    }
  }
}

/** The error with what was being read in front of it, so a failed query names its signal. */
function named(error: unknown, what: string): Error {
  if (error instanceof PrometheusError) return new PrometheusError(`reading ${what}: ${error.message}`, error.status, error.errorType);
  return error as Error;
}
