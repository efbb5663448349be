import { z } from "zod";
import { APPLY_KINDS, IGNORED_MANIFEST_KINDS, MANIFEST_KINDS, parseManifests } from "./cluster/manifests.js";
import { manifestWorkloads, workloadFields } from "./cluster/manifest-workloads.js";
import type { Deployment, StatefulSet } from "./cluster/objects.js";

/** A revision in a service's deploy history, before the simulation starts. */
export const RevisionSpecSchema = z
  .object({
    image: z.string().min(1),
    env: z.record(z.string(), z.string()).optional(),
    memoryLimitMib: z.number().int().positive().optional(),
    /** Minutes relative to t0 (negative: in the past). */
    deployedAtMinutes: z.number().max(0, "expected a time at or before t0 (earlier revisions)"),
    changeCause: z.string().optional(),
  })
  .strict();

/** A config map mounted by a service. */
export const ConfigMapSpecSchema = z
  .object({
    name: z.string().min(1),
    data: z.record(z.string(), z.string()),
  })
  .strict();

/** A Kafka consumer group a service runs. */
export const KafkaSpecSchema = z
  .object({
    topic: z.string().min(1),
    group: z.string().min(1),
    partitions: z.number().int().min(1).max(64).default(6),
    /** Messages per second produced into each partition. */
    producerRatePerPartition: z.number().positive().default(20),
    /** Messages per second the consumer can process per partition. */
    consumerCapacityPerPartition: z.number().positive().default(60),
    dlqTopic: z.string().optional(),
  })
  .strict();

/** A disk volume a service writes to. */
export const DiskSpecSchema = z
  .object({
    mount: z.string().min(1).default("/var/log/app"),
    sizeGib: z.number().positive().default(20),
    usedPct: z.number().min(0).max(100).default(35),
  })
  .strict();

/** An HTTP probe of the app container, as a pod spec writes it. */
export const ProbeSpecSchema = z
  .object({
    httpGet: z.object({ path: z.string().startsWith("/", "expected an absolute path"), port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]) }).strict(),
    periodSeconds: z.number().int().positive().default(10),
    failureThreshold: z.number().int().positive().default(3),
  })
  .strict();
/** A probe spec. */
export type ProbeSpec = z.infer<typeof ProbeSpecSchema>;

/** What the code in a workload's image does, beyond what faults give it. */
export const ImageSpecSchema = z
  .object({
    /** Executables the image contains (a command naming another one cannot start). */
    entrypoints: z.array(z.string().startsWith("/")).default(["/app/server"]),
    /** Flags the binary accepts, without dashes (an unknown one exits 2). */
    flags: z.array(z.string().min(1)).default(["listen"]),
    /** HTTP paths the code serves (probes on others get 404). */
    httpPaths: z.array(z.string().startsWith("/")).default(["/healthz/ready", "/healthz/live", "/metrics"]),
    /** Whether the code resolves its dependencies through cluster DNS (`*.svc.cluster.local`). */
    needsClusterDns: z.boolean().default(true),
  })
  .strict();

/** A reference to a Secret's keys as env vars. */
export const SecretEnvSpecSchema = z
  .object({
    /** The Secret (declared in `environment.manifests`). */
    secret: z.string().min(1),
    /** Env var name → key in the Secret; empty: the whole Secret through envFrom. */
    keys: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/** One workload of the simulated system. */
export const ServiceSpecSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a DNS-style lower-case name"),
    namespace: z.string().default("prod"),
    replicas: z.number().int().min(0).max(50).default(3),
    image: z.string().optional(),
    containerPort: z.number().int().min(1).max(65535).default(8080),
    servicePort: z.number().int().min(1).max(65535).default(80),
    memoryLimitMib: z.number().int().positive().default(512),
    baselineMemoryMib: z.number().positive().default(220),
    cpuLimitCores: z.number().positive().default(1),
    /** CPU cores one request per second costs. */
    cpuPerRequest: z.number().positive().default(0.002),
    baseline: z
      .object({
        requestRate: z.number().nonnegative().default(120),
        errorRate: z.number().min(0).max(1).default(0.002),
        latencyP99Ms: z.number().positive().default(180),
      })
      .strict()
      .default({ requestRate: 120, errorRate: 0.002, latencyP99Ms: 180 }),
    env: z.record(z.string(), z.string()).default({}),
    /** Earlier revisions, oldest first; the spec's own image/env/limit form the current one. */
    revisions: z.array(RevisionSpecSchema).default([]),
    /** When the current revision rolled out, minutes relative to t0. */
    deployedAtMinutes: z.number().default(-4320),
    dependencies: z.array(z.string()).default([]),
    configMaps: z.array(ConfigMapSpecSchema).default([]),
    disk: DiskSpecSchema.optional(),
    kafka: KafkaSpecSchema.optional(),
    nodeArchitecture: z.enum(["amd64", "arm64"]).default("amd64"),
    /** The workload's controller. */
    kind: z.enum(["Deployment", "StatefulSet"]).default("Deployment"),
    /** The container's command and args (default: `/app/server --listen=:<containerPort>`). */
    command: z.array(z.string().min(1)).min(1).optional(),
    args: z.array(z.string()).optional(),
    readinessProbe: ProbeSpecSchema.optional(),
    livenessProbe: ProbeSpecSchema.optional(),
    dnsPolicy: z.enum(["ClusterFirst", "Default", "ClusterFirstWithHostNet", "None"]).default("ClusterFirst"),
    /** Secrets whose keys become env vars (whole Secret: envFrom; named keys: env valueFrom.secretKeyRef). */
    secretEnv: z.array(SecretEnvSpecSchema).default([]),
    /** Resource requests of the container (quotas and node allocatable count them). */
    requests: z
      .object({ cpu: z.string().min(1).optional(), memory: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** How the code writes its log lines. */
    logFormat: z.enum(["text", "json", "logfmt"]).default("text"),
    /** What the code in the current image does (entrypoints, flags, HTTP paths, DNS). */
    imageBehaviour: ImageSpecSchema.optional(),
    /** A Secret this workload authenticates its callers with: it accepts only the Secret's current content. */
    acceptsSecret: z.string().min(1).optional(),
  })
  .strict();
/** A service spec. */
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

/** A network policy that exists from the start. */
export const NetworkPolicySpecSchema = z
  .object({
    name: z.string().min(1),
    podSelector: z.string().min(1),
    allowIngressFrom: z.array(z.string()),
    createdAtMinutes: z.number().default(-43200),
  })
  .strict();

/** Fault kinds the simulator models. */
export const FAULT_KINDS = [
  "scaled-to-zero",
  "bad-rollout",
  "bad-rollout-schema-migration",
  "release",
  "service-port-mismatch",
  "network-policy-deny",
  "bad-feature-flag",
  "memory-limit-too-tight",
  "memory-leak",
  "kafka-poison-pill",
  "disk-fill-unrotated-logs",
  "downstream-latency",
  "traffic-surge",
  "data-corruption",
  "credential-leak",
  "certificate-expiry",
  "flapping-threshold",
] as const;

/** A fault injected into one service at a time relative to t0. */
export const FaultSpecSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    service: z.string().min(1),
    atMinutes: z.number(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  })
  .strict();
/** A fault spec. */
export type FaultSpec = z.infer<typeof FaultSpecSchema>;

/** A reference to one Kubernetes object. */
export const ObjectRefSchema = z
  .object({
    kind: z.string().min(1),
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
  })
  .strict();

/** Who made a change, as its history shows it. */
const ChangeMeta = { changedBy: z.string().min(1).optional(), changeCause: z.string().min(1).optional() };

/** A patch to one object, made the way `kubectl patch` makes it. */
export const PatchStepSchema = z
  .object({
    kind: z.literal("patch"),
    atMinutes: z.number(),
    object: ObjectRefSchema,
    patch: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]),
    patchType: z.enum(["merge", "strategic", "json"]).default("strategic"),
    ...ChangeMeta,
  })
  .strict();
/** Deleting one object, as `kubectl delete` does. */
export const DeleteStepSchema = z.object({ kind: z.literal("delete"), atMinutes: z.number(), object: ObjectRefSchema, ...ChangeMeta }).strict();
/** Applying manifests (create or replace), as `kubectl apply` does. */
export const ApplyStepSchema = z.object({ kind: z.literal("apply"), atMinutes: z.number(), manifest: z.string().min(1), ...ChangeMeta }).strict();
/** Cordoning a node, as `kubectl cordon` does. */
export const CordonStepSchema = z.object({ kind: z.literal("cordon"), atMinutes: z.number(), node: z.string().min(1), ...ChangeMeta }).strict();
/** Rotating a Secret's content (its hash changes; pods that hold the old one keep it until they restart). */
export const RotateSecretStepSchema = z.object({ kind: z.literal("rotate-secret"), atMinutes: z.number(), secret: z.string().min(1), namespace: z.string().min(1).optional(), ...ChangeMeta }).strict();

/** Kinds of the generic object-change steps. */
export const OBJECT_STEP_KINDS = ["patch", "delete", "apply", "cordon", "rotate-secret"] as const;

/** A generic change to the cluster's objects. */
export const ObjectStepSchema = z.discriminatedUnion("kind", [PatchStepSchema, DeleteStepSchema, ApplyStepSchema, CordonStepSchema, RotateSecretStepSchema]);
/** A generic object-change step. */
export type ObjectStep = z.infer<typeof ObjectStepSchema>;

/** A fault: a named fault of one service, or a generic change to the cluster's objects. */
export const AnyFaultSchema = z.discriminatedUnion("kind", [FaultSpecSchema, PatchStepSchema, DeleteStepSchema, ApplyStepSchema, CordonStepSchema, RotateSecretStepSchema], {
  error: (issue) => (issue.code === "invalid_union" ? `Invalid option: expected one of ${[...FAULT_KINDS, ...OBJECT_STEP_KINDS].map((k) => `"${k}"`).join("|")}` : undefined),
});
/** Any fault step. */
export type AnyFault = z.infer<typeof AnyFaultSchema>;

/** Whether a fault is a generic object-change step. */
export function isObjectStep(f: AnyFault): f is ObjectStep {
  return (OBJECT_STEP_KINDS as readonly string[]).includes(f.kind);
}

/** A metric series given directly: linear interpolation between points. */
export const RawSeriesSchema = z
  .object({
    metric: z.enum(["error_rate", "latency_p99_ms", "request_rate", "memory_mib", "cpu_cores", "disk_usage_pct", "consumer_lag", "ready_replicas"]),
    points: z.array(z.object({ atMinutes: z.number(), value: z.number() }).strict()).min(1),
  })
  .strict();

/** Raw observations of one service that no named fault produces; static facts of the world. */
export const ObservationSpecSchema = z
  .object({
    pods: z
      .array(
        z
          .object({
            name: z.string().optional(),
            phase: z.enum(["Pending", "Running", "Succeeded", "Failed", "Unknown"]).default("Running"),
            ready: z.boolean().default(true),
            reason: z.string().optional(),
            restarts: z.number().int().nonnegative().default(0),
            lastTerminationReason: z.string().optional(),
            /** When the pod was created, in minutes relative to the alert (its age counts from here); default: when the simulator created it. */
            createdAtMinutes: z.number().max(0).optional(),
          })
          .strict(),
      )
      .optional(),
    events: z
      .array(
        z
          .object({
            atMinutes: z.number(),
            type: z.enum(["Normal", "Warning"]).default("Warning"),
            reason: z.string().min(1),
            message: z.string().min(1),
            count: z.number().int().positive().default(1),
          })
          .strict(),
      )
      .default([]),
    logs: z
      .array(
        z
          .object({
            fromMinutes: z.number(),
            toMinutes: z.number().optional(),
            everySeconds: z.number().positive().optional(),
            level: z.enum(["debug", "info", "warn", "error", "fatal"]).default("error"),
            message: z.string().min(1),
          })
          .strict(),
      )
      .default([]),
    metrics: z.array(RawSeriesSchema).default([]),
  })
  .strict();
/** Raw observations for one service. */
export type ObservationSpec = z.infer<typeof ObservationSpecSchema>;

/**
 * The non-Kubernetes parts of a workload written as a Deployment or StatefulSet in
 * `environment.manifests`: traffic, dependencies, Kafka, disk, what its image's code does, its
 * rollout history. Every field is optional, with the default a service has.
 */
export const WorkloadSpecSchema = ServiceSpecSchema.pick({
  baseline: true,
  baselineMemoryMib: true,
  cpuPerRequest: true,
  dependencies: true,
  kafka: true,
  disk: true,
  logFormat: true,
  imageBehaviour: true,
  acceptsSecret: true,
  revisions: true,
  deployedAtMinutes: true,
}).strict();
/** A workload's non-Kubernetes parts. */
export type WorkloadSpec = z.infer<typeof WorkloadSpecSchema>;

/**
 * A simulated workload: a service of `services`, or a Deployment or StatefulSet of
 * `environment.manifests` (then `object` is that object, and the service fields are read from it
 * and from its `workloads` entry).
 */
export type WorkloadService = ServiceSpec & { object?: Deployment | StatefulSet };

/** The namespace a namespaced object without one goes to: the first service's, else `default`. */
export function defaultNamespace(spec: { services: ServiceSpec[] }): string {
  return spec.services[0]?.namespace ?? "default";
}

/** The workloads `environment.manifests` declares, in document order; throws an Error naming the object and path of a mistake. */
function manifestServices(spec: { services: ServiceSpec[]; manifests?: string | undefined; workloads: Record<string, WorkloadSpec> }): WorkloadService[] {
  if (spec.manifests === undefined) return [];
  const parsed = parseManifests(spec.manifests, MANIFEST_KINDS, defaultNamespace(spec), undefined, IGNORED_MANIFEST_KINDS);
  return manifestWorkloads(parsed).map((w) => {
    const f = workloadFields(w);
    const entry = spec.workloads[`${f.namespace}/${f.name}`] ?? spec.workloads[f.name] ?? WorkloadSpecSchema.parse({});
    const service = ServiceSpecSchema.parse({
      name: f.name,
      namespace: f.namespace,
      kind: f.kind,
      replicas: f.replicas,
      image: f.image,
      containerPort: f.containerPort,
      memoryLimitMib: f.memoryLimitMib,
      cpuLimitCores: f.cpuLimitCores,
      env: f.env,
      nodeArchitecture: f.nodeArchitecture,
      ...Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)),
    });
    return { ...service, object: w.object };
  });
}

/** Every simulated workload of a validated spec: its services, then the manifests' Deployments and StatefulSets. */
export function workloadsOf(spec: EnvironmentSpec): WorkloadService[] {
  return [...spec.services, ...manifestServices(spec)];
}

/** The whole simulated environment a scenario builds. */
export const EnvironmentSpecSchema = z
  .object({
    seed: z.number().int().default(1),
    startTime: z.iso.datetime().default("2026-11-23T10:00:00Z"),
    tickSeconds: z.number().int().min(5).max(120).default(30),
    /** Healthy history generated before t0, so metrics have a baseline. */
    historyMinutes: z.number().int().min(30).max(360).default(120),
    /** Workloads in the v1 form (converted to objects at build); at least one service or a Deployment/StatefulSet in manifests. */
    services: z.array(ServiceSpecSchema).default([]),
    networkPolicies: z.array(NetworkPolicySpecSchema).default([]),
    /** Extra Kubernetes objects (multi-document YAML or a `kind: List`) loaded into the cluster at build. */
    manifests: z.string().optional(),
    /** The non-Kubernetes parts of the manifests' Deployments and StatefulSets, keyed by name or namespace/name. */
    workloads: z.record(z.string(), WorkloadSpecSchema).default({}),
    faults: z.array(AnyFaultSchema).default([]),
    observations: z.record(z.string(), ObservationSpecSchema).default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    let fromManifests: WorkloadService[] = [];
    let manifestsValid = true;
    if (spec.manifests !== undefined) {
      try {
        fromManifests = manifestServices(spec);
      } catch (e) {
        manifestsValid = false;
        ctx.addIssue({ code: "custom", path: ["manifests"], message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (spec.services.length === 0 && fromManifests.length === 0 && manifestsValid) {
      ctx.addIssue({ code: "custom", path: ["services"], message: "expected at least one service, or a Deployment or StatefulSet in manifests" });
    }
    const names = new Set(spec.services.map((s) => s.name));
    for (const w of fromManifests) {
      if (names.has(w.name)) ctx.addIssue({ code: "custom", path: ["manifests"], message: `${w.kind} ${w.namespace}/${w.name}: a service of that name is already declared in services` });
      names.add(w.name);
    }
    const known = fromManifests.map((w) => `${w.namespace}/${w.name}`);
    for (const key of Object.keys(spec.workloads)) {
      if (manifestsValid && !fromManifests.some((w) => key === w.name || key === `${w.namespace}/${w.name}`)) {
        ctx.addIssue({
          code: "custom",
          path: ["workloads", key],
          message: `no Deployment or StatefulSet "${key}" in manifests; known: ${known.length > 0 ? known.join(", ") : "none"}`,
        });
      }
      spec.workloads[key]?.dependencies.forEach((d, j) => {
        if (!names.has(d)) ctx.addIssue({ code: "custom", path: ["workloads", key, "dependencies", j], message: `unknown service "${d}"; known: ${[...names].join(", ")}` });
      });
    }
    spec.services.forEach((s, i) =>
      s.dependencies.forEach((d, j) => {
        if (!names.has(d)) ctx.addIssue({ code: "custom", path: ["services", i, "dependencies", j], message: `unknown service "${d}"; known: ${[...names].join(", ")}` });
      }),
    );
    spec.faults.forEach((f, i) => {
      if (f.kind === "apply") {
        try {
          parseManifests(f.manifest, APPLY_KINDS, defaultNamespace(spec));
        } catch (e) {
          ctx.addIssue({ code: "custom", path: ["faults", i, "manifest"], message: e instanceof Error ? e.message : String(e) });
        }
      }
      if (isObjectStep(f)) return;
      if (!names.has(f.service)) ctx.addIssue({ code: "custom", path: ["faults", i, "service"], message: `unknown service "${f.service}"; known: ${[...names].join(", ")}` });
    });
    for (const key of Object.keys(spec.observations)) {
      if (!names.has(key)) ctx.addIssue({ code: "custom", path: ["observations", key], message: `unknown service "${key}"; known: ${[...names].join(", ")}` });
    }
  });
/** A validated environment spec. */
export type EnvironmentSpec = z.infer<typeof EnvironmentSpecSchema>;
/** An environment spec as written (defaults not yet applied). */
export type EnvironmentSpecInput = z.input<typeof EnvironmentSpecSchema>;
