import type { MetricName } from "../adapter.js";
import { applyFault } from "./faults.js";
import { accumulateMetricTotals } from "./metric-totals.js";
import { applyObjectStep } from "./object-steps.js";
import { isObjectStep } from "./spec.js";
import { secretPlaceholder } from "./sim-secrets.js";
import { runControllers } from "./cluster/controllers.js";
import { runWorkloadControllers } from "./cluster/workload-controllers.js";
import { CONTENT_HASH_ANNOTATION, appContainer, parseCpuCores, type Pod } from "./cluster/objects.js";
import { BREAKER_LATENCY_MS, CLIENT_TIMEOUT_MS, DEPENDENCY_WEIGHT, MINUTE, type SimService, type World } from "./world.js";

/** Error share and message of code running against a newer database schema than it knows. */
const SCHEMA_MISMATCH = { errorRate: 0.65, message: 'ERROR: column "currency" of relation "orders" does not exist at character 48' };

interface DependencyView {
  name: string;
  fail: number;
  latencyMs: number;
  message?: string;
  breakerOpen: boolean;
  /** Calls that fail in the caller itself before reaching the dependency (name resolution, stale credentials), and why. */
  client?: Array<{ share: number; message: string }>;
}

/** Share of the caller's serving pods whose calls fail before they leave it: no cluster DNS, or a stale credential for the dependency. */
function clientFailures(world: World, s: SimService, dep: SimService): Array<{ share: number; message: string }> {
  const serving = world.pods(s).filter((p) => p.status.containerStatuses?.[0]?.ready === true);
  if (serving.length === 0) return [];
  const out: Array<{ share: number; message: string }> = [];
  const noDns = serving.filter((p) => !world.clusterDns(p) && world.image(appContainer(p.spec)?.image ?? "")?.needsClusterDns === true).length;
  if (noDns > 0) out.push({ share: noDns / serving.length, message: `getaddrinfo ENOTFOUND ${dep.name}.${dep.namespace}.svc.cluster.local` });
  if (dep.acceptsSecret !== undefined) {
    const secret = world.cluster.get("Secret", dep.namespace, dep.acceptsSecret);
    const current = secret?.metadata.annotations?.[CONTENT_HASH_ANNOTATION];
    const readers = serving.filter((p) => world.kubelet(p).secrets?.[dep.acceptsSecret ?? ""] !== undefined);
    const stale = readers.filter((p) => world.kubelet(p).secrets?.[dep.acceptsSecret ?? ""] !== current).length;
    if (stale > 0) {
      const database = /(^|-)(db|postgres|pg|mysql|database)(-|$)/.test(dep.name);
      out.push({
        share: stale / serving.length,
        message: database
          ? `FATAL: password authentication failed for user "${s.name}"`
          : `POST http://${dep.name}.${dep.namespace}.svc.cluster.local/v1/authorize: 401 Unauthorized: invalid credentials`,
      });
    }
  }
  return out;
}

/** How each dependency looks from the caller this tick; updates the caller's circuit breakers. */
function dependencies(world: World, s: SimService): DependencyView[] {
  const t = world.state.t;
  return s.dependencies.map((name) => {
    const d = world.service(name);
    const reach = world.reachability(s.name, d);
    const rawFail = reach.ok ? d.last.errorRate * 0.8 : 1;
    const rawLatency = reach.ok ? d.last.latencyP99Ms * 0.7 : reach.cause === "netpol" ? CLIENT_TIMEOUT_MS : 5;
    const bad = rawFail > 0.5 || (reach.ok && d.last.latencyP99Ms > BREAKER_LATENCY_MS) || (!reach.ok && reach.cause === "netpol");
    const breaker = (s.breakers[name] ??= { state: "closed", badTicks: 0 });
    if (breaker.state === "closed") {
      breaker.badTicks = bad ? breaker.badTicks + 1 : 0;
      if (breaker.badTicks >= 2) {
        breaker.state = "open";
        breaker.openedAt = t;
        world.log(s, "warn", `circuit breaker '${name}' transitioned CLOSED -> OPEN after ${breaker.badTicks} failing windows`);
      }
    } else if (breaker.state === "open" && t - (breaker.openedAt ?? t) >= MINUTE) {
      breaker.state = "half-open";
    } else if (breaker.state === "half-open") {
      if (bad) {
        breaker.state = "open";
        breaker.openedAt = t;
      } else {
        breaker.state = "closed";
        breaker.badTicks = 0;
        delete breaker.openedAt;
        world.log(s, "info", `circuit breaker '${name}' transitioned HALF_OPEN -> CLOSED`);
      }
    }
    const open = breaker.state === "open";
    // Failures in the caller itself (no cluster DNS, a stale credential) are not the dependency's: its breaker does not count them.
    const client = reach.ok || reach.cause !== "dns" ? clientFailures(world, s, d) : [];
    return {
      name,
      fail: open ? 1 : rawFail,
      latencyMs: open ? 2 : rawLatency,
      ...(open ? { message: `circuit breaker '${name}' is OPEN; failing fast` } : !reach.ok ? { message: reach.message } : {}),
      breakerOpen: open,
      ...(client.length > 0 ? { client } : {}),
    };
  });
}

function interpolate(points: Array<{ atMinutes: number; value: number }>, minute: number): number {
  const sorted = [...points].sort((a, b) => a.atMinutes - b.atMinutes);
  const first = sorted[0];
  if (first === undefined) return 0;
  if (minute <= first.atMinutes) return first.value;
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a === undefined || b === undefined) continue;
    if (minute <= b.atMinutes) return a.value + ((b.value - a.value) * (minute - a.atMinutes)) / (b.atMinutes - a.atMinutes);
  }
  return sorted[sorted.length - 1]?.value ?? first.value;
}

function emitNoise(world: World, s: SimService, served: number): void {
  const r = world.rng;
  if (served > 0) {
    for (let i = 0; i < 2; i++) {
      world.log(s, "info", `GET /api/v1/${s.name}/${r.int(1000, 99999)} 200 ${r.int(8, 140)}ms req_id=${r.uuid()}`);
    }
  }
  if (r.chance(0.12)) world.log(s, "warn", `slow request GET /api/v1/items/${r.int(100, 9999)} took ${r.int(900, 2400)}ms`);
  if (r.chance(0.05)) world.log(s, "warn", `client disconnected before response was sent req_id=${r.uuid()}`);
  if (r.chance(0.02)) world.log(s, "error", `failed to flush metrics batch to collector: context canceled (attempt ${r.int(1, 3)})`);
}

function emitObservations(world: World, s: SimService): void {
  const obs = world.state.observations[s.name];
  if (obs === undefined) return;
  const t = world.state.t;
  const from = t - world.state.tickMs;
  const t0 = world.state.t0;
  // A scripted event is about the workload, whatever its kind.
  const workload = world.cluster.get("StatefulSet", s.namespace, s.name) !== undefined ? `statefulset/${s.name}` : `deployment/${s.name}`;
  for (const e of obs.events) {
    const at = t0 + e.atMinutes * MINUTE;
    if (at > from && at <= t) world.event(s, e.type, e.reason, workload, e.message);
  }
  for (const l of obs.logs) {
    const start = t0 + l.fromMinutes * MINUTE;
    const end = l.toMinutes !== undefined ? t0 + l.toMinutes * MINUTE : Infinity;
    if (l.everySeconds === undefined) {
      if (start > from && start <= t) world.log(s, l.level, l.message);
      continue;
    }
    if (t < start || from >= end) continue;
    const count = Math.max(1, Math.round(world.state.tickMs / (l.everySeconds * 1000)));
    for (let i = 0; i < count; i++) world.log(s, l.level, l.message);
  }
}

/** Computes one tick of a service's signals from its state and its dependencies' last state. */
function computeSignals(world: World, s: SimService, callers: string[]): void {
  const t = world.state.t;
  const r = world.rng;
  const running = world.pods(s).filter((p) => p.status.containerStatuses?.[0]?.ready === true);
  const ready = running.length;
  const sources = callers.length > 0 ? callers : ["ingress"];
  // Callers reach the pods the Service selects: the workload's own while its selector picks them, else whatever its Endpoints list.
  const reachable = world.serviceSelectsWorkload(s) ? ready : undefined;
  const reached = sources.filter((c) => c === "ingress" || world.reachability(c, s, reachable).ok).length;
  const ingressOk = callers.length > 0 || world.ingressReaches(s);
  const reachFraction = ready === 0 ? 0 : callers.length > 0 ? reached / sources.length : ingressOk ? 1 : 0;
  const load = s.baseline.requestRate * s.loadFactor * r.jitter(0.04);
  const served = load * reachFraction;
  const template = world.template(s)?.spec;
  const cpuLimitCores = parseCpuCores((template === undefined ? undefined : appContainer(template))?.resources?.limits?.cpu) ?? 1;
  const capacityCores = ready * cpuLimitCores;
  const util = capacityCores > 0 ? (served * s.cpuPerRequest) / capacityCores : 0;
  const deps = dependencies(world, s);

  let errorRate = s.baseline.errorRate * r.jitter(0.3);
  const messages: Array<{ level: "error" | "warn" | "fatal"; message: string; weight: number }> = [];
  // Per ReplicaSet (in the order its pods come), what the code of its image does.
  const replicaSetOf = (p: Pod): string => p.metadata.ownerReferences?.[0]?.uid ?? "";
  for (const rs of new Set(running.map(replicaSetOf))) {
    const mine = running.filter((p) => replicaSetOf(p) === rs);
    const image = world.image(appContainer(mine[0]?.spec ?? { containers: [] })?.image ?? "");
    const share = mine.length / Math.max(1, ready);
    const bug = (image?.schemaVersion ?? 1) < (world.state.schemaVersion[s.name] ?? 1) ? SCHEMA_MISMATCH : image?.bug;
    if (bug !== undefined) {
      errorRate += bug.errorRate * share;
      messages.push({ level: "error", message: `${bug.message} req_id=${r.uuid()}`, weight: bug.errorRate * share });
    }
  }
  if (util > 1) {
    errorRate += 1 - 1 / util;
    messages.push({ level: "warn", message: `request queue full (${Math.round(util * 100)}% of capacity); rejecting with 503`, weight: 1 - 1 / util });
  }
  if (s.disk !== undefined && s.disk.usedPct >= 95) {
    errorRate += s.disk.usedPct >= 99 ? 0.35 : 0.1;
    messages.push({ level: "error", message: `write ${s.disk.mount}/app.log: no space left on device`, weight: 0.3 });
  }
  for (const f of s.flags) {
    const cm = world.configMap(s.namespace, f.configMap);
    if (cm?.data?.[f.key] !== f.value) continue;
    errorRate += f.errorRate;
    messages.push({ level: "error", message: `${f.message} (order ${r.int(10000, 99999)})`, weight: f.errorRate });
  }
  if (s.corrupted) {
    errorRate += 0.08;
    messages.push({ level: "error", message: `ERROR: invalid page in block ${r.int(1000, 99999)} of relation base/16384/${r.int(16000, 30000)}`, weight: 0.3 });
    messages.push({ level: "error", message: `could not read block ${r.int(1000, 99999)} in file "base/16384/24576": checksum mismatch`, weight: 0.2 });
  }
  if (s.credentialLeak) {
    errorRate += 0.01;
    messages.push({ level: "warn", message: `authentication failed for user svc_reporting from 203.0.113.${r.int(1, 254)}: invalid credentials`, weight: 0.5 });
    if (r.chance(0.25)) {
      world.log(
        s,
        "info",
        `config loaded: {"db_host":"${s.name}-db.prod","DB_PASSWORD":"${secretPlaceholder("reporting-db-password")}","aws_access_key_id":"${secretPlaceholder("reporting-aws-access-key-id")}"}`,
      );
    }
  }
  if (s.certExpired) {
    messages.push({
      level: "warn",
      message: `http: TLS handshake error from 10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}:${r.int(30000, 60000)}: remote error: tls: bad certificate`,
      weight: 0.4,
    });
  }
  if (s.kafka?.poison !== undefined) {
    const part = s.kafka.partitions[s.kafka.poison.partition];
    if (part !== undefined && part.committed === s.kafka.poison.offset && ready > 0) {
      errorRate += 0.03;
      messages.push({
        level: "error",
        message: `failed to deserialize record at topic=${s.kafka.topic} partition=${s.kafka.poison.partition} offset=${s.kafka.poison.offset}: unexpected magic byte 0x9f; retrying`,
        weight: 0.5,
      });
    }
  }
  let depLatency = 0;
  for (const d of deps) {
    errorRate += DEPENDENCY_WEIGHT * d.fail;
    depLatency = Math.max(depLatency, d.latencyMs);
    if (d.message !== undefined && d.fail > 0.2) messages.push({ level: "error", message: d.message, weight: DEPENDENCY_WEIGHT * d.fail });
    for (const c of d.client ?? []) {
      errorRate += DEPENDENCY_WEIGHT * c.share * (1 - d.fail);
      messages.push({ level: "error", message: c.message, weight: DEPENDENCY_WEIGHT * c.share });
      // The dependency sees the failed logins too.
      if (c.message.startsWith("FATAL") || c.message.includes("401"))
        world.log(world.service(d.name), "error", c.message.startsWith("FATAL") ? c.message : `auth: rejected credentials from ${s.name}: token signature does not match current secret`);
    }
  }
  if (served === 0) errorRate = s.baseline.errorRate;
  errorRate = Math.min(1, Math.max(0, errorRate));

  const queueing = util < 0.7 ? 1 : Math.min(20, 1 + ((util - 0.7) / 0.3) ** 2 * 8);
  const slowMs = running.reduce((sum, p) => sum + (world.image(appContainer(p.spec)?.image ?? "")?.slowMs ?? 0), 0) / Math.max(1, ready);
  let latency = s.baseline.latencyP99Ms * r.jitter(0.06) * queueing + slowMs + depLatency;
  if (s.flap !== undefined && s.flap.metric === "latency_p99_ms") {
    latency *= 1 + s.flap.amplitude * Math.sin((2 * Math.PI * (t / MINUTE)) / s.flap.periodMinutes);
  }

  if (s.disk !== undefined) {
    s.disk.usedPct = Math.min(100, s.disk.usedPct + (s.disk.logGrowthGibPerHour * (world.state.tickMs / (60 * MINUTE)) * 100) / s.disk.sizeGib);
  }
  if (s.kafka !== undefined) {
    const dt = world.state.tickMs / 1000;
    s.kafka.partitions.forEach((part, i) => {
      part.end += Math.round(s.kafka!.producerRate * dt * r.jitter(0.05));
      const stuck = s.kafka!.poison?.partition === i && part.committed === s.kafka!.poison.offset;
      if (ready > 0 && !stuck) part.committed += Math.min(part.end - part.committed, Math.round(s.kafka!.capacity * dt));
    });
  }

  const memory = running.length > 0 ? running.reduce((sum, p) => sum + world.kubelet(p).memoryMib, 0) / running.length : 0;
  const values: Partial<Record<MetricName, number>> = {
    error_rate: errorRate,
    latency_p99_ms: latency,
    request_rate: served,
    memory_mib: memory,
    cpu_cores: Math.min(capacityCores, served * s.cpuPerRequest) * r.jitter(0.03),
    ready_replicas: ready,
  };
  if (s.disk !== undefined) values.disk_usage_pct = s.disk.usedPct;
  if (s.kafka !== undefined) values.consumer_lag = s.kafka.partitions.reduce((sum, p) => sum + (p.end - p.committed), 0);
  const overrides = world.state.observations[s.name]?.metrics ?? [];
  for (const o of overrides) values[o.metric] = interpolate(o.points, (t - world.state.t0) / MINUTE);
  for (const [metric, v] of Object.entries(values) as Array<[MetricName, number]>) world.record(s, metric, v);

  emitNoise(world, s, served);
  for (const m of messages) {
    const count = Math.min(6, Math.max(1, Math.round(m.weight * 8)));
    for (let i = 0; i < count; i++) world.log(s, m.level, m.message);
  }
  emitObservations(world, s);
  world.trimLogs(s);
  s.last = { errorRate: values.error_rate ?? errorRate, latencyP99Ms: values.latency_p99_ms ?? latency, ready, requestRate: served };
}

/** Services ordered so dependencies are computed before their callers. */
function dependencyOrder(world: World): SimService[] {
  const ordered: SimService[] = [];
  const seen = new Set<string>();
  const visit = (name: string, path: Set<string>): void => {
    if (seen.has(name) || path.has(name)) return;
    const s = world.service(name);
    path.add(name);
    for (const d of s.dependencies) visit(d, path);
    seen.add(name);
    ordered.push(s);
  };
  for (const name of Object.keys(world.state.services).sort()) visit(name, new Set());
  return ordered;
}

/** Advances the world by one tick: due faults, the cluster's controllers (rollouts, pods, kubelet, endpoints), then every signal. */
export function tick(world: World): void {
  const st = world.state;
  st.t += st.tickMs;
  while (st.pendingFaults.length > 0 && st.t0 + (st.pendingFaults[0]?.atMinutes ?? 0) * MINUTE <= st.t) {
    const fault = st.pendingFaults.shift();
    if (fault === undefined) continue;
    if (isObjectStep(fault)) applyObjectStep(world, fault);
    else applyFault(world, fault);
  }
  const callers = new Map<string, string[]>();
  for (const s of Object.values(st.services)) for (const d of s.dependencies) callers.set(d, [...(callers.get(d) ?? []), s.name]);
  runWorkloadControllers(world);
  runControllers(world);
  for (const s of dependencyOrder(world)) computeSignals(world, s, callers.get(s.name) ?? []);
  // Only a world that serves /metrics keeps counters (see SimEnvironment.exposeMetrics).
  if (st.metricTotals !== undefined) accumulateMetricTotals(world, st.metricTotals);
  st.rng = world.rng.state;
}
