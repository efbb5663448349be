import type { MetricName } from "../adapter.js";
import type { FaultSpec } from "./spec.js";
import { MINUTE, type World } from "./world.js";

function str(params: FaultSpec["params"], key: string, fallback: string): string {
  const v = params[key];
  return v === undefined ? fallback : String(v);
}

function num(params: FaultSpec["params"], key: string, fallback: number): number {
  const v = params[key];
  return typeof v === "number" ? v : v === undefined ? fallback : Number(v);
}

/**
 * Applies a fault by changing the world's state the way the real cause would: a rollout adds a
 * revision, a scale-down changes desired replicas, a policy is created. Signals then follow
 * from the state on every tick; nothing here writes a metric or a symptom directly.
 */
export function applyFault(world: World, fault: FaultSpec): void {
  const s = world.service(fault.service);
  const p = fault.params;
  const current = world.revision(s, s.currentRevision);
  switch (fault.kind) {
    case "scaled-to-zero": {
      const from = s.desiredReplicas;
      s.desiredReplicas = 0;
      world.event(s, "Normal", "ScalingReplicaSet", `deployment/${s.name}`, `Scaled down replica set ${s.name}-${s.currentRevision} to 0 from ${from}`);
      return;
    }
    case "bad-rollout": {
      const variant = str(p, "variant", "missing-image");
      const version = str(p, "version", "2.0.0");
      const base = current.image.replace(/:[^:]*$/, "");
      if (variant === "missing-image") {
        world.addRevision(s, { ...current, image: `${base}:${version}`, changeCause: `deploy ${base}:${version}`, defect: { imageMissing: true } });
      } else if (variant === "wrong-arch") {
        world.addRevision(s, { ...current, image: `${base}:${version}-arm64`, changeCause: `deploy ${base}:${version}-arm64`, defect: { arch: "arm64" } });
      } else if (variant === "broken-env") {
        const key = str(p, "envVar", "DATABASE_URL");
        world.addRevision(s, {
          ...current,
          env: { ...current.env, [key]: str(p, "value", "postgres//db:5432/app") },
          changeCause: `set env ${key}`,
          defect: { envError: key },
        });
      } else {
        throw new Error(`bad-rollout variant "${variant}" unknown; known: missing-image, wrong-arch, broken-env`);
      }
      return;
    }
    case "bad-rollout-schema-migration": {
      const version = str(p, "version", "3.4.0");
      const base = current.image.replace(/:[^:]*$/, "");
      const schema = (world.state.schemaVersion[s.name] ?? 1) + 1;
      world.state.schemaVersion[s.name] = schema;
      world.addRevision(s, {
        ...current,
        image: `${base}:${version}`,
        changeCause: `deploy ${base}:${version} (migration ${schema}: rename orders.currency)`,
        schemaVersion: schema,
        defect: { bug: { errorRate: num(p, "errorRate", 0.2), message: str(p, "message", "TypeError: Cannot read properties of undefined (reading 'currency') at PriceFormatter.format") } },
      });
      return;
    }
    case "service-port-mismatch":
      s.targetPort = num(p, "targetPort", s.containerPort + 1);
      return;
    case "network-policy-deny":
      world.state.networkPolicies.push({
        name: str(p, "policy", `${s.name}-restrict-ingress`),
        podSelector: s.name,
        allowIngressFrom: str(p, "allow", "")
          .split(",")
          .filter((x) => x.length > 0),
        createdAt: world.state.t,
      });
      return;
    case "bad-feature-flag": {
      const name = str(p, "configMap", s.configMaps[0]?.name ?? `${s.name}-flags`);
      let cm = s.configMaps.find((c) => c.name === name);
      if (cm === undefined) {
        cm = { name, data: {}, version: 1, updatedAt: world.state.t - 7 * 24 * 60 * MINUTE, history: [] };
        cm.history.push({ version: 1, data: {}, updatedAt: cm.updatedAt, changedBy: "gitops" });
        s.configMaps.push(cm);
      }
      const key = str(p, "key", "pricing_v2");
      const value = str(p, "value", "true");
      cm.data = { ...cm.data, [key]: value };
      cm.version += 1;
      cm.updatedAt = world.state.t;
      cm.history.push({ version: cm.version, data: { ...cm.data }, updatedAt: world.state.t, changedBy: str(p, "changedBy", "alice@ops") });
      s.flags.push({
        configMap: name,
        key,
        value,
        errorRate: num(p, "errorRate", 0.3),
        message: str(p, "message", `FeatureFlagError: ${key} enabled but rule set 'eu-vat' is missing`),
      });
      return;
    }
    case "memory-limit-too-tight":
      s.workingSetMib = num(p, "workingSetMib", Math.round(current.memoryLimitMib * 1.25));
      return;
    case "memory-leak":
      current.defect = { ...current.defect, leakMibPerMin: num(p, "rateMibPerMin", 20), leakFrom: world.state.t };
      return;
    case "kafka-poison-pill": {
      if (s.kafka === undefined) throw new Error(`kafka-poison-pill needs a kafka consumer on ${s.name}`);
      const partition = num(p, "partition", 3) % s.kafka.partitions.length;
      const part = s.kafka.partitions[partition];
      if (part === undefined) return;
      s.kafka.poison = { partition, offset: part.committed };
      return;
    }
    case "disk-fill-unrotated-logs":
      if (s.disk === undefined) throw new Error(`disk-fill-unrotated-logs needs a disk on ${s.name}`);
      s.disk.logGrowthGibPerHour = num(p, "gibPerHour", 6);
      return;
    case "downstream-latency": {
      const cause = str(p, "cause", "cpu-saturation");
      if (cause === "cpu-saturation") {
        s.loadFactor = num(p, "loadFactor", 3.2);
      } else if (cause === "slow-release") {
        const version = str(p, "version", "5.2.0");
        const base = current.image.replace(/:[^:]*$/, "");
        world.addRevision(s, { ...current, image: `${base}:${version}`, changeCause: `deploy ${base}:${version}`, defect: { slowMs: num(p, "slowMs", 1800) } });
      } else {
        throw new Error(`downstream-latency cause "${cause}" unknown; known: cpu-saturation, slow-release`);
      }
      return;
    }
    case "traffic-surge":
      s.loadFactor = num(p, "loadFactor", 2);
      return;
    case "data-corruption":
      s.corrupted = true;
      return;
    case "credential-leak":
      s.credentialLeak = true;
      return;
    case "certificate-expiry":
      s.certExpired = true;
      return;
    case "flapping-threshold":
      s.flap = {
        metric: str(p, "metric", "latency_p99_ms") as MetricName,
        amplitude: num(p, "amplitude", 0.3),
        periodMinutes: num(p, "periodMinutes", 8),
      };
      return;
  }
}
