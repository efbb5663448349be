import { describe, expect, it } from "vitest";
import { extractSignatures } from "../../evidence/signatures.js";
import { summarizeSeries } from "../../evidence/metrics.js";
import type { MetricName } from "../../environments/adapter.js";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";

const MINUTE = 60_000;

/** Builds a world with the given services and faults and runs it to t0 + `minutes`. */
async function world(spec: EnvironmentSpecInput, minutes = 0): Promise<SimEnvironment> {
  const env = SimEnvironment.create(spec);
  await env.advanceTo(env.startTime + minutes * MINUTE);
  return env;
}

async function current(env: SimEnvironment, service: string, metric: MetricName): Promise<number> {
  return summarizeSeries(await env.queryMetric(service, metric, 5))?.current ?? NaN;
}

async function errorSignatures(env: SimEnvironment, service: string): Promise<string> {
  return extractSignatures(await env.tailLogs(service, 300))
    .map((s) => s.template)
    .join("\n");
}

const pair: EnvironmentSpecInput["services"] = [
  { name: "checkout", replicas: 4, dependencies: ["payments"] },
  { name: "payments", replicas: 3 },
];

describe("simulated environment", () => {
  it("is deterministic: the same seed gives the same world", async () => {
    const spec = { seed: 7, services: pair, faults: [{ kind: "scaled-to-zero" as const, service: "payments", atMinutes: -5 }] };
    const a = await world(spec, 10);
    const b = await world(spec, 10);
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
  });

  it("continues identically after a save and restore", async () => {
    const spec = { seed: 3, services: pair, faults: [{ kind: "downstream-latency" as const, service: "payments", atMinutes: -5, params: { cause: "cpu-saturation" } }] };
    const original = await world(spec, 0);
    const restored = SimEnvironment.fromJSON(JSON.parse(JSON.stringify(original.toJSON())));
    await original.advanceBy(10 * MINUTE);
    await restored.advanceBy(10 * MINUTE);
    expect(JSON.stringify(restored.toJSON())).toBe(JSON.stringify(original.toJSON()));
  });

  it("applies an operation once per idempotency key", async () => {
    const env = await world({ services: pair }, 0);
    await env.scale("payments", 5, "k-1");
    await env.scale("payments", 7, "k-1");
    expect((await env.describeWorkload("payments")).deployment.desiredReplicas).toBe(5);
    expect(env.operationsApplied()).toHaveLength(1);
    expect(await env.appliedChange("k-1")).toMatchObject({ operation: "scale" });
  });

  it("names known services when asked about an unknown one", async () => {
    const env = await world({ services: pair }, 0);
    await expect(env.describeWorkload("paymnets")).rejects.toThrow(/unknown service "paymnets"; known: checkout, payments/);
  });

  it("scaled to zero: callers fail with no healthy upstream; scaling back fixes it", async () => {
    const env = await world({ services: pair, faults: [{ kind: "scaled-to-zero", service: "payments", atMinutes: -10 }] }, 0);
    expect(await current(env, "checkout", "error_rate")).toBeGreaterThan(0.3);
    expect(await errorSignatures(env, "checkout")).toMatch(/no healthy upstream|circuit breaker 'payments' is OPEN/);
    expect((await env.describeWorkload("payments")).events.some((e) => e.reason === "ScalingReplicaSet" && /to 0/.test(e.message))).toBe(true);
    await env.scale("payments", 3, "fix");
    await env.advanceBy(3 * MINUTE);
    expect(await current(env, "checkout", "error_rate")).toBeLessThan(0.02);
  });

  it("bad rollouts: image pull, exec format error and broken env each fail the new pods; rollout undo fixes them", async () => {
    for (const [variant, reason, log] of [
      ["missing-image", /ImagePullBackOff|ErrImagePull/, undefined],
      ["wrong-arch", /CrashLoopBackOff/, /exec format error/],
      ["broken-env", /CrashLoopBackOff/, /FATAL config: invalid value for DATABASE_URL/],
    ] as const) {
      const env = await world({ services: [{ name: "api", replicas: 4 }], faults: [{ kind: "bad-rollout", service: "api", atMinutes: -10, params: { variant } }] }, 0);
      const before = await env.describeWorkload("api");
      expect(before.pods.some((p) => reason.test(p.reason ?? ""))).toBe(true);
      if (log) expect(await errorSignatures(env, "api")).toMatch(log);
      // A restart does not help: the new revision still cannot start
      await env.restartPods("api", `restart-${variant}`);
      await env.advanceBy(3 * MINUTE);
      expect((await env.describeWorkload("api")).pods.some((p) => reason.test(p.reason ?? ""))).toBe(true);
      await env.rolloutUndo("api", 1, `undo-${variant}`);
      await env.advanceBy(3 * MINUTE);
      const after = await env.describeWorkload("api");
      expect(after.pods.every((p) => p.ready)).toBe(true);
      expect(after.pods).toHaveLength(4);
    }
  });

  it("schema migration: rolling back makes it worse, rolling forward restores the previous state", async () => {
    const env = await world({ services: [{ name: "orders", replicas: 4 }], faults: [{ kind: "bad-rollout-schema-migration", service: "orders", atMinutes: -10 }] }, 0);
    const buggy = await current(env, "orders", "error_rate");
    expect(buggy).toBeGreaterThan(0.1);
    await env.rolloutUndo("orders", 1, "undo");
    await env.advanceBy(3 * MINUTE);
    const worse = await current(env, "orders", "error_rate");
    expect(worse).toBeGreaterThan(buggy * 2);
    expect(await errorSignatures(env, "orders")).toMatch(/column <str> of relation <str> does not exist/);
    await env.rolloutUndo("orders", 2, "forward");
    await env.advanceBy(3 * MINUTE);
    expect(Math.abs((await current(env, "orders", "error_rate")) - buggy)).toBeLessThan(0.08);
  });

  it("port mismatch and network policy cut callers off with distinct signatures", async () => {
    const port = await world({ services: pair, faults: [{ kind: "service-port-mismatch", service: "payments", atMinutes: -10 }] }, 0);
    expect(await errorSignatures(port, "checkout")).toMatch(/ECONNREFUSED/);
    expect(await current(port, "payments", "request_rate")).toBeLessThan(1);
    await port.patchServiceTargetPort("payments", 8080, "fix");
    await port.advanceBy(3 * MINUTE);
    expect(await current(port, "checkout", "error_rate")).toBeLessThan(0.02);

    const netpol = await world({ services: pair, faults: [{ kind: "network-policy-deny", service: "payments", atMinutes: -10, params: { policy: "deny" } }] }, 0);
    expect(await errorSignatures(netpol, "checkout")).toMatch(/deadline exceeded/);
    await netpol.deleteNetworkPolicy("deny", "fix");
    await netpol.advanceBy(3 * MINUTE);
    expect(await current(netpol, "checkout", "error_rate")).toBeLessThan(0.02);
  });

  it("bad feature flag: errors start with the config change and stop when it is reverted", async () => {
    const env = await world(
      {
        services: [{ name: "pricing", configMaps: [{ name: "flags", data: { pricing_v2: "false" } }] }],
        faults: [{ kind: "bad-feature-flag", service: "pricing", atMinutes: -10, params: { configMap: "flags", key: "pricing_v2", value: "true" } }],
      },
      0,
    );
    expect(await current(env, "pricing", "error_rate")).toBeGreaterThan(0.2);
    expect(await errorSignatures(env, "pricing")).toMatch(/FeatureFlagError/);
    await env.revertConfigMap("flags", 1, "fix");
    await env.advanceBy(2 * MINUTE);
    expect(await current(env, "pricing", "error_rate")).toBeLessThan(0.02);
  });

  it("memory: a tight limit is fixed by a higher limit; a leak only buys time from a restart", async () => {
    const tight = await world(
      { services: [{ name: "search", memoryLimitMib: 512, baselineMemoryMib: 300 }], faults: [{ kind: "memory-limit-too-tight", service: "search", atMinutes: -20, params: { workingSetMib: 600 } }] },
      0,
    );
    expect((await tight.describeWorkload("search")).pods.some((p) => p.lastTerminationReason === "OOMKilled")).toBe(true);
    await tight.setMemoryLimit("search", 768, "fix");
    await tight.advanceBy(10 * MINUTE);
    expect((await tight.describeWorkload("search")).pods.every((p) => p.ready && p.restarts === 0)).toBe(true);

    const leak = await world(
      {
        services: [{ name: "recs", memoryLimitMib: 512, baselineMemoryMib: 220, revisions: [{ image: "r:1", deployedAtMinutes: -9000 }] }],
        faults: [{ kind: "memory-leak", service: "recs", atMinutes: -50, params: { rateMibPerMin: 12 } }],
      },
      0,
    );
    await leak.restartPods("recs", "restart");
    await leak.advanceBy(30 * MINUTE);
    expect((await leak.describeWorkload("recs")).pods.some((p) => p.restarts > 0 && p.lastTerminationReason === "OOMKilled")).toBe(true);
    await leak.rolloutUndo("recs", 1, "undo");
    await leak.advanceBy(40 * MINUTE);
    expect((await leak.describeWorkload("recs")).pods.every((p) => p.restarts === 0)).toBe(true);
  });

  it("kafka poison pill: one partition stuck; skipping the right offset drains it, a wrong offset is refused", async () => {
    const env = await world(
      {
        services: [{ name: "worker", kafka: { topic: "orders", group: "g", consumerCapacityPerPartition: 200, dlqTopic: "orders.dlq" } }],
        faults: [{ kind: "kafka-poison-pill", service: "worker", atMinutes: -15, params: { partition: 2 } }],
      },
      0,
    );
    const [group] = await env.consumerLag("worker");
    const stuck = group!.partitions[2]!;
    expect(stuck.lag).toBeGreaterThan(10_000);
    expect(await errorSignatures(env, "worker")).toMatch(/failed to deserialize record at topic=orders partition=<num> offset=<num>/);
    await expect(env.skipMessageToDlq("orders", "g", 2, stuck.committedOffset + 5, "wrong")).rejects.toThrow(/not the committed offset/);
    await env.skipMessageToDlq("orders", "g", 2, stuck.committedOffset, "fix");
    await env.advanceBy(3 * MINUTE);
    const [after] = await env.consumerLag("worker");
    expect(after!.totalLag).toBeLessThan(1000);
    expect(after!.dlqDepth).toBe(1);
  });

  it("disk filling with logs: writes fail near full; cleaning logs frees the volume", async () => {
    const env = await world(
      {
        services: [{ name: "billing", disk: { mount: "/var/log/app", sizeGib: 20, usedPct: 50 } }],
        faults: [{ kind: "disk-fill-unrotated-logs", service: "billing", atMinutes: -60, params: { gibPerHour: 10 } }],
      },
      0,
    );
    expect(await current(env, "billing", "disk_usage_pct")).toBeGreaterThan(95);
    expect(await errorSignatures(env, "billing")).toMatch(/no space left on device/);
    await env.cleanLogs("billing", "/var/log/app", "fix");
    await env.advanceBy(30 * MINUTE);
    expect(await current(env, "billing", "disk_usage_pct")).toBeLessThan(55);
  });

  it("downstream latency opens the caller's breaker; resetting it alone does not help, fixing the dependency does", async () => {
    const spec: EnvironmentSpecInput = {
      services: [pair[0]!, { name: "payments", replicas: 3, cpuPerRequest: 0.008 }],
      faults: [{ kind: "downstream-latency", service: "payments", atMinutes: -10, params: { cause: "cpu-saturation" } }],
    };
    const env = await world(spec, 0);
    expect((await env.describeWorkload("checkout")).circuitBreakers[0]?.state).not.toBe("closed");
    await env.resetCircuitBreaker("checkout", "payments", "reset");
    await env.advanceBy(3 * MINUTE);
    expect(await current(env, "checkout", "error_rate")).toBeGreaterThan(0.2);
    await env.scale("payments", 6, "scale");
    await env.advanceBy(3 * MINUTE);
    expect(await current(env, "checkout", "error_rate")).toBeLessThan(0.02);
  });

  it("faults that no tool fixes: corruption, leaked credentials, expired certificate", async () => {
    const corrupt = await world({ services: [{ name: "ledger" }], faults: [{ kind: "data-corruption", service: "ledger", atMinutes: -10 }] }, 0);
    expect(await errorSignatures(corrupt, "ledger")).toMatch(/invalid page in block/);
    await corrupt.restartPods("ledger", "restart");
    await corrupt.advanceBy(5 * MINUTE);
    expect(await errorSignatures(corrupt, "ledger")).toMatch(/checksum mismatch/);

    const leak = await world({ services: [{ name: "reporting" }], faults: [{ kind: "credential-leak", service: "reporting", atMinutes: -20 }] }, 0);
    expect((await leak.tailLogs("reporting", 400)).some((l) => /DB_PASSWORD/.test(l.message))).toBe(true);

    const cert = await world({ services: pair, faults: [{ kind: "certificate-expiry", service: "payments", atMinutes: -10 }] }, 0);
    await cert.restartPods("payments", "restart");
    await cert.advanceBy(5 * MINUTE);
    expect(await current(cert, "checkout", "error_rate")).toBeGreaterThan(0.3);
  });

  it("a flapping metric oscillates around its own baseline", async () => {
    const env = await world({ services: [{ name: "web" }], faults: [{ kind: "flapping-threshold", service: "web", atMinutes: -500 }] }, 0);
    const series = await env.queryMetric("web", "latency_p99_ms", 60);
    const values = series.points.map((p) => p.v);
    expect(Math.max(...values) / Math.min(...values)).toBeGreaterThan(1.4);
    expect(summarizeSeries(series)!.baseline).toBeGreaterThan(150);
  });

  it("raw observations describe situations without a named fault", async () => {
    const env = await world(
      {
        services: [{ name: "gw" }],
        observations: {
          gw: {
            metrics: [
              {
                metric: "error_rate",
                points: [
                  { atMinutes: -100, value: 0.001 },
                  { atMinutes: -10, value: 0.001 },
                  { atMinutes: 0, value: 0.2 },
                ],
              },
            ],
            logs: [{ fromMinutes: -10, everySeconds: 15, level: "error", message: "upstream returned 502" }],
            pods: [{ name: "gw-1", reason: "Evicted", phase: "Failed", ready: false }],
          },
        },
      },
      0,
    );
    expect(await current(env, "gw", "error_rate")).toBeGreaterThan(0.15);
    expect(await errorSignatures(env, "gw")).toMatch(/upstream returned <num>/);
    expect((await env.describeWorkload("gw")).pods[0]?.reason).toBe("Evicted");
  });
});
