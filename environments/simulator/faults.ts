import type { MetricName } from "../adapter.js";
import type { FaultSpec } from "./spec.js";
import { networkPolicy } from "./cluster/build.js";
import { APP_LABEL, CHANGE_CAUSE_ANNOTATION, appContainer, envList, envMap, objectKey, parseMemoryMib, type ConfigMap, type Container, type Deployment } from "./cluster/objects.js";
import { writeObject } from "./cluster/writes.js";
import type { ImageBehaviour } from "./images.js";
import { MINUTE, type SimService, type World } from "./world.js";

function str(params: FaultSpec["params"], key: string, fallback: string): string {
  const v = params[key];
  return v === undefined ? fallback : String(v);
}

function num(params: FaultSpec["params"], key: string, fallback: number): number {
  const v = params[key];
  return typeof v === "number" ? v : v === undefined ? fallback : Number(v);
}

/** The workload's Deployment (a copy to change) and its app container. */
function editDeployment(world: World, s: SimService): { d: Deployment; container: Container } {
  const d = structuredClone(world.deployment(s));
  const container = appContainer(d.spec.template.spec);
  if (container === undefined) throw new Error(`${s.name} has no container`);
  return { d, container };
}

/** Rolls the workload out with a changed template, the way a `kubectl apply` of a new manifest does. */
function rollOut(world: World, d: Deployment, changeCause: string): void {
  (d.metadata.annotations ??= {})[CHANGE_CAUSE_ANNOTATION] = changeCause;
  writeObject(world, "Deployment", { verb: "update", object: d }, false, "fault");
}

/** Registers what a newly built image does (its tag now exists in the registry). */
function pushImage(world: World, ref: string, behaviour: ImageBehaviour): void {
  world.state.images[ref] = behaviour;
}

/**
 * Applies a fault by changing the world's state the way the real cause would: a bad manifest
 * changes the Deployment's template (image, env), a scale-down its replicas, a bad Service patch
 * its targetPort, a policy is created, a ConfigMap edited. Signals then follow from the state on
 * every tick; nothing here writes a metric or a symptom directly.
 */
export function applyFault(world: World, fault: FaultSpec): void {
  const s = world.service(fault.service);
  const p = fault.params;
  const { d, container } = editDeployment(world, s);
  const currentImage = container.image ?? "";
  const current: ImageBehaviour = world.image(currentImage) ?? { exists: true, arch: world.nodeArch(d.spec.template.spec), schemaVersion: 1 };
  const base = currentImage.replace(/:[^:]*$/, "");
  switch (fault.kind) {
    case "scaled-to-zero": {
      d.spec.replicas = 0;
      writeObject(world, "Deployment", { verb: "update", object: d }, false, "fault");
      return;
    }
    case "bad-rollout": {
      const variant = str(p, "variant", "missing-image");
      const version = str(p, "version", "2.0.0");
      if (variant === "missing-image") {
        // The tag was never pushed: the registry does not have it.
        container.image = `${base}:${version}`;
        rollOut(world, d, `deploy ${base}:${version}`);
      } else if (variant === "wrong-arch") {
        const image = `${base}:${version}-arm64`;
        pushImage(world, image, { ...current, arch: "arm64" });
        container.image = image;
        rollOut(world, d, `deploy ${image}`);
      } else if (variant === "broken-env") {
        const key = str(p, "envVar", "DATABASE_URL");
        // The code has always parsed this variable as a URL; the new value is not one.
        pushImage(world, currentImage, { ...current, urlEnv: [...new Set([...(current.urlEnv ?? []), key])] });
        container.env = envList({ ...envMap(container), [key]: str(p, "value", "postgres//db:5432/app") });
        rollOut(world, d, `set env ${key}`);
      } else {
        throw new Error(`bad-rollout variant "${variant}" unknown; known: missing-image, wrong-arch, broken-env`);
      }
      return;
    }
    case "release": {
      // A release of new code: the same behaviour as the running image, plus a bug when one is given.
      const version = str(p, "version", "2.0.0");
      const image = `${base}:${version}`;
      const behaviour: ImageBehaviour = { ...current };
      delete behaviour.bug;
      const errorRate = num(p, "errorRate", 0);
      pushImage(world, image, { ...behaviour, ...(errorRate > 0 ? { bug: { errorRate, message: str(p, "message", "TypeError: Cannot read properties of undefined") } } : {}) });
      container.image = image;
      rollOut(world, d, str(p, "changeCause", `deploy ${image}`));
      return;
    }
    case "bad-rollout-schema-migration": {
      const version = str(p, "version", "3.4.0");
      const schema = (world.state.schemaVersion[s.name] ?? 1) + 1;
      world.state.schemaVersion[s.name] = schema;
      const image = `${base}:${version}`;
      pushImage(world, image, {
        exists: true,
        arch: current.arch,
        schemaVersion: schema,
        ...(current.urlEnv !== undefined ? { urlEnv: current.urlEnv } : {}),
        bug: { errorRate: num(p, "errorRate", 0.2), message: str(p, "message", "TypeError: Cannot read properties of undefined (reading 'currency') at PriceFormatter.format") },
      });
      container.image = image;
      // announce: false is a release whose migration nobody wrote into its change cause.
      rollOut(world, d, str(p, "announce", "true") === "false" ? `deploy ${image}` : `deploy ${image} (migration ${schema}: rename orders.currency)`);
      return;
    }
    case "service-port-mismatch": {
      const svc = world.kubeService(s);
      if (svc === undefined) throw new Error(`service-port-mismatch needs the Service of ${s.name}`);
      const changed = structuredClone(svc);
      const port = changed.spec.ports?.[0];
      const containerPort = container.ports?.[0]?.containerPort ?? 8080;
      if (port !== undefined) port.targetPort = num(p, "targetPort", containerPort + 1);
      writeObject(world, "Service", { verb: "update", object: changed }, false, "fault");
      return;
    }
    case "network-policy-deny": {
      const allow = str(p, "allow", "")
        .split(",")
        .filter((x) => x.length > 0);
      writeObject(world, "NetworkPolicy", { verb: "create", object: networkPolicy(str(p, "policy", `${s.name}-restrict-ingress`), s.namespace, s.name, allow, world.state.t) }, false, "fault");
      return;
    }
    case "bad-feature-flag": {
      const name = str(p, "configMap", mountedConfigMaps(d)[0] ?? `${s.name}-flags`);
      const existing = world.configMap(s.namespace, name);
      if (existing === undefined) {
        const createdAt = world.state.t - 7 * 24 * 60 * MINUTE;
        const created: ConfigMap = {
          apiVersion: "v1",
          kind: "ConfigMap",
          // Not in the template's volumes (that would be a new rollout): the label ties it to the workload.
          metadata: { name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: new Date(createdAt).toISOString(), labels: { [APP_LABEL]: s.name } },
          data: {},
        };
        world.cluster.put("ConfigMap", created);
        world.state.configHistory[objectKey(s.namespace, name)] = [{ version: 1, data: {}, updatedAt: createdAt, changedBy: "gitops" }];
      }
      const cm = structuredClone(world.configMap(s.namespace, name) as ConfigMap);
      const key = str(p, "key", "pricing_v2");
      const value = str(p, "value", "true");
      cm.data = { ...(cm.data ?? {}), [key]: value };
      writeObject(world, "ConfigMap", { verb: "update", object: cm }, false, str(p, "changedBy", "alice@ops"));
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
      s.workingSetMib = num(p, "workingSetMib", Math.round((parseMemoryMib(container.resources?.limits?.memory) ?? 512) * 1.25));
      return;
    case "memory-leak":
      // A leaking code path in the running image is now hit; every pod of the image leaks from here on.
      pushImage(world, currentImage, { ...current, leakMibPerMin: num(p, "rateMibPerMin", 20), leakFrom: world.state.t });
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
        const image = `${base}:${version}`;
        pushImage(world, image, {
          exists: true,
          arch: current.arch,
          schemaVersion: current.schemaVersion,
          ...(current.urlEnv !== undefined ? { urlEnv: current.urlEnv } : {}),
          slowMs: num(p, "slowMs", 1800),
        });
        container.image = image;
        rollOut(world, d, `deploy ${image}`);
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

/** ConfigMaps a Deployment's pod template mounts. */
export function mountedConfigMaps(d: Pick<Deployment, "spec">): string[] {
  return (d.spec.template.spec.volumes ?? []).flatMap((v) => (v.configMap?.name !== undefined ? [v.configMap.name] : []));
}
