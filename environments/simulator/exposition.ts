import type { MetricName } from "../adapter.js";
import { appContainer, diskClaimName, matchesLabels, objectKey, parseCpuCores, parseMemoryMib, type Container, type Pod } from "./cluster/objects.js";
import { LATENCY_BUCKETS, podReady } from "./metric-totals.js";
import type { PodMetricTotals, SimService, World } from "./world.js";

/**
 * The simulated cluster's `/metrics`: what kube-state-metrics, the kubelet (cAdvisor and volume
 * stats), node-exporter, kafka-exporter and the workloads' own instrumentation would expose,
 * derived from the world's objects and signals, in the Prometheus text format 0.0.4. Names and
 * labels are the real exporters' (docs/simulated-metrics.md lists them and how each derives).
 */

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter" | "histogram";
  samples: Array<{ suffix?: string; labels: Labels; value: number }>;
}

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** A label value as the text format quotes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
        .join(",");
      lines.push(`${f.name}${s.suffix ?? ""}${labels === "" ? "" : `{${labels}}`} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** A Kubernetes quantity ("4", "500m", "8Gi", "1.5k") as a number (bytes, cores or a count). */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === "number") return q;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(q.trim());
  if (m === null) return undefined;
  const scale: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  return Number(m[1]) * (m[2] === undefined ? 1 : (scale[m[2]] ?? 1));
}

const byKey = <T extends { metadata: { namespace?: string; name: string } }>(items: T[]): T[] =>
  [...items].sort((a, b) => objectKey(a.metadata.namespace, a.metadata.name).localeCompare(objectKey(b.metadata.namespace, b.metadata.name)));

function family(name: string, type: Family["type"], help: string): Family {
  return { name, type, help, samples: [] };
}

/** The last value a service's series recorded, or undefined before its first tick. */
function latest(s: SimService, metric: MetricName): number | undefined {
  const series = s.series[metric];
  return series[series.length - 1]?.v;
}

function kubeStateMetrics(world: World): Family[] {
  const c = world.cluster;
  const dSpec = family("kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment.");
  const dStatus = family("kube_deployment_status_replicas", "gauge", "The number of replicas per deployment.");
  const dAvail = family("kube_deployment_status_replicas_available", "gauge", "The number of available replicas per deployment.");
  const dUnavail = family("kube_deployment_status_replicas_unavailable", "gauge", "The number of unavailable replicas per deployment.");
  const dUpdated = family("kube_deployment_status_replicas_updated", "gauge", "The number of updated replicas per deployment.");
  const dObserved = family("kube_deployment_status_observed_generation", "gauge", "The generation observed by the deployment controller.");
  const dGen = family("kube_deployment_metadata_generation", "gauge", "Sequence number representing a specific generation of the desired state.");
  for (const d of byKey(c.list("Deployment"))) {
    const l = { namespace: d.metadata.namespace ?? "", deployment: d.metadata.name };
    const desired = d.spec.replicas ?? 1;
    const available = d.status?.availableReplicas ?? 0;
    dSpec.samples.push({ labels: l, value: desired });
    dStatus.samples.push({ labels: l, value: d.status?.replicas ?? 0 });
    dAvail.samples.push({ labels: l, value: available });
    dUnavail.samples.push({ labels: l, value: d.status?.unavailableReplicas ?? Math.max(0, desired - available) });
    dUpdated.samples.push({ labels: l, value: d.status?.updatedReplicas ?? 0 });
    dObserved.samples.push({ labels: l, value: d.status?.observedGeneration ?? 0 });
    dGen.samples.push({ labels: l, value: d.metadata.generation ?? 1 });
  }
  const sReplicas = family("kube_statefulset_replicas", "gauge", "Number of desired pods for a StatefulSet.");
  const sReady = family("kube_statefulset_status_replicas_ready", "gauge", "The number of ready replicas per StatefulSet.");
  const sCurrent = family("kube_statefulset_status_replicas_current", "gauge", "The number of current replicas per StatefulSet.");
  const sUpdated = family("kube_statefulset_status_replicas_updated", "gauge", "The number of updated replicas per StatefulSet.");
  for (const s of byKey(c.list("StatefulSet"))) {
    const l = { namespace: s.metadata.namespace ?? "", statefulset: s.metadata.name };
    sReplicas.samples.push({ labels: l, value: s.spec.replicas ?? 1 });
    sReady.samples.push({ labels: l, value: s.status?.readyReplicas ?? 0 });
    sCurrent.samples.push({ labels: l, value: s.status?.currentReplicas ?? 0 });
    sUpdated.samples.push({ labels: l, value: s.status?.updatedReplicas ?? 0 });
  }
  const rsOwner = family("kube_replicaset_owner", "gauge", "Information about the ReplicaSet's owner.");
  const rsSpec = family("kube_replicaset_spec_replicas", "gauge", "Number of desired pods for a ReplicaSet.");
  const rsReady = family("kube_replicaset_status_ready_replicas", "gauge", "The number of ready replicas per ReplicaSet.");
  for (const rs of byKey(c.list("ReplicaSet"))) {
    const ns = rs.metadata.namespace ?? "";
    const owner = rs.metadata.ownerReferences?.find((o) => o.controller === true) ?? rs.metadata.ownerReferences?.[0];
    rsOwner.samples.push({
      labels: { namespace: ns, replicaset: rs.metadata.name, owner_kind: owner?.kind ?? "<none>", owner_name: owner?.name ?? "<none>", owner_is_controller: owner === undefined ? "<none>" : "true" },
      value: 1,
    });
    rsSpec.samples.push({ labels: { namespace: ns, replicaset: rs.metadata.name }, value: rs.spec.replicas ?? 1 });
    rsReady.samples.push({ labels: { namespace: ns, replicaset: rs.metadata.name }, value: rs.status?.readyReplicas ?? 0 });
  }
  return [dSpec, dStatus, dAvail, dUnavail, dUpdated, dObserved, dGen, sReplicas, sReady, sCurrent, sUpdated, rsOwner, rsSpec, rsReady, ...podStateMetrics(world), ...clusterStateMetrics(world)];
}

const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;

function podStateMetrics(world: World): Family[] {
  const owner = family("kube_pod_owner", "gauge", "Information about the Pod's owner.");
  const ready = family("kube_pod_status_ready", "gauge", "Describes whether the pod is ready to serve requests.");
  const phase = family("kube_pod_status_phase", "gauge", "The pods current phase.");
  const cReady = family("kube_pod_container_status_ready", "gauge", "Describes whether the containers readiness check succeeded.");
  const restarts = family("kube_pod_container_status_restarts_total", "counter", "The number of container restarts per container.");
  const waiting = family("kube_pod_container_status_waiting_reason", "gauge", "Describes the reason the container is currently in waiting state.");
  const terminated = family("kube_pod_container_status_last_terminated_reason", "gauge", "Describes the last reason the container was in terminated state.");
  const limits = family("kube_pod_container_resource_limits", "gauge", "The number of requested limit resource by a container.");
  const requests = family("kube_pod_container_resource_requests", "gauge", "The number of requested request resource by a container.");
  for (const p of byKey(world.cluster.list("Pod"))) {
    const ns = p.metadata.namespace ?? "";
    const pod = p.metadata.name;
    const ref = p.metadata.ownerReferences?.find((o) => o.controller === true) ?? p.metadata.ownerReferences?.[0];
    owner.samples.push({ labels: { namespace: ns, pod, owner_kind: ref?.kind ?? "<none>", owner_name: ref?.name ?? "<none>", owner_is_controller: ref === undefined ? "<none>" : "true" }, value: 1 });
    const condition = p.status.conditions?.find((x) => x.type === "Ready")?.status;
    if (condition !== undefined) {
      for (const v of ["true", "false", "unknown"]) ready.samples.push({ labels: { namespace: ns, pod, condition: v }, value: condition.toLowerCase() === v ? 1 : 0 });
    }
    const current = p.status.phase ?? "Pending";
    for (const ph of PHASES) phase.samples.push({ labels: { namespace: ns, pod, phase: ph }, value: current === ph ? 1 : 0 });
    for (const cs of p.status.containerStatuses ?? []) {
      const l = { namespace: ns, pod, container: cs.name };
      cReady.samples.push({ labels: l, value: cs.ready ? 1 : 0 });
      restarts.samples.push({ labels: l, value: cs.restartCount });
      const reason = cs.state?.waiting?.reason;
      if (reason !== undefined) waiting.samples.push({ labels: { ...l, reason }, value: 1 });
      const last = cs.lastState?.terminated?.reason;
      if (last !== undefined) terminated.samples.push({ labels: { ...l, reason: last }, value: 1 });
    }
    for (const container of p.spec.containers) {
      resourceSamples(limits, ns, pod, container, container.resources?.limits);
      resourceSamples(requests, ns, pod, container, container.resources?.requests);
    }
  }
  return [owner, ready, phase, cReady, restarts, waiting, terminated, limits, requests];
}

function resourceSamples(f: Family, namespace: string, pod: string, container: Container, resources: Record<string, string> | undefined): void {
  const memory = parseMemoryMib(resources?.["memory"]);
  const cpu = parseCpuCores(resources?.["cpu"]);
  if (cpu !== undefined) f.samples.push({ labels: { namespace, pod, container: container.name, resource: "cpu", unit: "core" }, value: cpu });
  if (memory !== undefined) f.samples.push({ labels: { namespace, pod, container: container.name, resource: "memory", unit: "byte" }, value: memory * MIB });
}

function clusterStateMetrics(world: World): Family[] {
  const c = world.cluster;
  const hMax = family("kube_horizontalpodautoscaler_spec_max_replicas", "gauge", "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.");
  const hMin = family("kube_horizontalpodautoscaler_spec_min_replicas", "gauge", "Lower limit for the number of pods that can be set by the autoscaler, default 1.");
  const hCurrent = family("kube_horizontalpodautoscaler_status_current_replicas", "gauge", "Current number of replicas of pods managed by this autoscaler.");
  const hDesired = family("kube_horizontalpodautoscaler_status_desired_replicas", "gauge", "Desired number of replicas of pods managed by this autoscaler.");
  for (const h of byKey(c.list("HorizontalPodAutoscaler"))) {
    const l = { namespace: h.metadata.namespace ?? "", horizontalpodautoscaler: h.metadata.name };
    hMax.samples.push({ labels: l, value: h.spec.maxReplicas });
    hMin.samples.push({ labels: l, value: h.spec.minReplicas ?? 1 });
    hCurrent.samples.push({ labels: l, value: h.status?.currentReplicas ?? 0 });
    hDesired.samples.push({ labels: l, value: h.status?.desiredReplicas ?? 0 });
  }
  const quota = family("kube_resourcequota", "gauge", "Information about resource quota.");
  for (const q of byKey(c.list("ResourceQuota"))) {
    const ns = q.metadata.namespace ?? "";
    for (const [type, values] of [
      ["hard", q.status?.hard ?? q.spec?.hard],
      ["used", q.status?.used],
    ] as const) {
      for (const [resource, quantity] of Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
        const v = parseQuantity(quantity);
        if (v !== undefined) quota.samples.push({ labels: { namespace: ns, resourcequota: q.metadata.name, resource, type }, value: v });
      }
    }
  }
  const unschedulable = family("kube_node_spec_unschedulable", "gauge", "Whether a node can schedule new pods.");
  const condition = family("kube_node_status_condition", "gauge", "The condition of a cluster node.");
  for (const n of byKey(c.list("Node"))) {
    unschedulable.samples.push({ labels: { node: n.metadata.name }, value: n.spec?.unschedulable === true ? 1 : 0 });
    for (const cond of n.status?.conditions ?? []) {
      for (const v of ["true", "false", "unknown"]) condition.samples.push({ labels: { node: n.metadata.name, condition: cond.type, status: v }, value: cond.status.toLowerCase() === v ? 1 : 0 });
    }
  }
  return [hMax, hMin, hCurrent, hDesired, quota, unschedulable, condition];
}

/** The name of the Service in front of a pod: the first in its namespace whose selector picks it, else the workload's name. */
function serviceOf(world: World, s: SimService, pod: Pod): string {
  const front = byKey(world.cluster.list("Service", s.namespace)).find((svc) => svc.spec.selector !== undefined && matchesLabels({ matchLabels: svc.spec.selector }, pod.metadata.labels));
  return front?.metadata.name ?? s.name;
}

function workloadMetrics(world: World): Family[] {
  const totals = world.state.metricTotals ?? {};
  const httpRequests = family("http_requests_total", "counter", "HTTP requests served, by status code.");
  const duration = family("http_request_duration_seconds", "histogram", "HTTP request latency in seconds.");
  const memory = family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes.");
  const cpu = family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.");
  const periods = family("container_cpu_cfs_periods_total", "counter", "Number of elapsed enforcement period intervals.");
  const throttled = family("container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals.");
  const lag = family("kafka_consumergroup_lag", "gauge", "Current Approximate Lag of a ConsumerGroup at Topic/Partition");
  const committed = family("kafka_consumergroup_current_offset", "gauge", "Current Offset of a ConsumerGroup at Topic/Partition");
  const end = family("kafka_topic_partition_current_offset", "gauge", "Current Offset of a Broker at Topic/Partition");
  const capacity = family("kubelet_volume_stats_capacity_bytes", "gauge", "Capacity in bytes of the volume");
  const available = family("kubelet_volume_stats_available_bytes", "gauge", "Number of available bytes in the volume");
  const used = family("kubelet_volume_stats_used_bytes", "gauge", "Number of used bytes in the volume");
  const fsSize = family("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.");
  const fsAvail = family("node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.");
  const topics = new Set<string>();
  for (const s of [...Object.values(world.state.services)].sort((a, b) => objectKey(a.namespace, a.name).localeCompare(objectKey(b.namespace, b.name)))) {
    for (const pod of byKey(world.pods(s))) {
      const cs = pod.status.containerStatuses?.[0];
      if (cs?.state?.running === undefined) continue;
      const container = appContainer(pod.spec)?.name ?? cs.name;
      const t: PodMetricTotals | undefined = totals[objectKey(pod.metadata.namespace, pod.metadata.name)];
      const l = { namespace: s.namespace, pod: pod.metadata.name, container };
      const record = world.state.kubelet[objectKey(pod.metadata.namespace, pod.metadata.name)];
      memory.samples.push({ labels: { ...l, image: cs.image }, value: Math.round((record?.memoryMib ?? 0) * MIB) });
      cpu.samples.push({ labels: l, value: t?.cpuSeconds ?? 0 });
      if (parseCpuCores(appContainer(pod.spec)?.resources?.limits?.cpu) !== undefined) {
        periods.samples.push({ labels: l, value: t?.cfsPeriods ?? 0 });
        throttled.samples.push({ labels: l, value: t?.cfsThrottledPeriods ?? 0 });
      }
      // The app's own instrumentation: a pod that never became ready has served nothing yet, but a running one is scraped.
      if (!podReady(pod) && t === undefined) continue;
      const app = { ...l, service: serviceOf(world, s, pod) };
      for (const code of ["200", "500"]) httpRequests.samples.push({ labels: { ...app, method: "GET", code }, value: t?.requests[code] ?? 0 });
      const count = Object.values(t?.requests ?? {}).reduce((a, b) => a + b, 0);
      LATENCY_BUCKETS.forEach((le, j) => duration.samples.push({ suffix: "_bucket", labels: { ...app, le: String(le) }, value: t?.buckets[j] ?? 0 }));
      duration.samples.push({ suffix: "_bucket", labels: { ...app, le: "+Inf" }, value: count });
      duration.samples.push({ suffix: "_sum", labels: app, value: t?.durationSum ?? 0 });
      duration.samples.push({ suffix: "_count", labels: app, value: count });
    }
    if (s.kafka !== undefined) {
      const k = s.kafka;
      k.partitions.forEach((p, i) => {
        const part = { topic: k.topic, partition: String(i) };
        lag.samples.push({ labels: { consumergroup: k.group, ...part }, value: Math.max(0, p.end - p.committed) });
        committed.samples.push({ labels: { consumergroup: k.group, ...part }, value: p.committed });
        // Two groups reading one topic see one broker offset.
        if (!topics.has(`${k.topic}/${i}`)) end.samples.push({ labels: part, value: p.end });
        topics.add(`${k.topic}/${i}`);
      });
    }
    if (s.disk !== undefined) {
      const size = s.disk.sizeGib * GIB;
      const usedBytes = Math.round((size * (latest(s, "disk_usage_pct") ?? s.disk.usedPct)) / 100);
      const claim = { namespace: s.namespace, persistentvolumeclaim: diskClaimName(s.name) };
      capacity.samples.push({ labels: claim, value: size });
      available.samples.push({ labels: claim, value: size - usedBytes });
      used.samples.push({ labels: claim, value: usedBytes });
      const fs = { device: `/dev/disk/by-pvc/${s.namespace}/${diskClaimName(s.name)}`, fstype: "ext4", mountpoint: s.disk.mount };
      fsSize.samples.push({ labels: fs, value: size });
      fsAvail.samples.push({ labels: fs, value: size - usedBytes });
    }
  }
  return [httpRequests, duration, memory, cpu, periods, throttled, lag, committed, end, capacity, available, used, fsSize, fsAvail];
}

/** The world's metrics in the Prometheus text format: same world, same time, same bytes. */
export function renderExposition(world: World): string {
  return render([...kubeStateMetrics(world), ...workloadMetrics(world)]);
}
