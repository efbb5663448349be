import { canonicalJson } from "../../../domain/json.js";
import type {
  CoreV1Event,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1DeploymentSpec,
  V1Endpoints,
  V1Ingress,
  V1Namespace,
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicySpec,
  V1Node,
  V1ObjectMeta,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodSpec,
  V1PodStatus,
  V1PodTemplateSpec,
  V1ReplicaSet,
  V1ReplicaSetSpec,
  V1ResourceQuota,
  V1Secret,
  V1Service,
  V1ServiceSpec,
  V1StatefulSet,
  V1StatefulSetSpec,
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerSpec,
} from "@kubernetes/client-node";

/**
 * The simulated cluster's objects: `@kubernetes/client-node` models as JSON carries them. The
 * world is saved as JSON (checkpoints, database rows), so timestamps are RFC 3339 strings where
 * client-node's classes declare `Date`.
 */

/** A client-node model as JSON carries it: every `Date` is an RFC 3339 string. */
export type Json<T> = T extends Date ? string : T extends ReadonlyArray<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/** Object metadata as the simulated API server stores it (identity fields always set). */
export type StoredMeta = Json<V1ObjectMeta> & { name: string; uid: string; resourceVersion: string; creationTimestamp: string };

/** A stored object of a client-node model: `apiVersion`, `kind` and full metadata always present. */
export type Stored<T> = Omit<Json<T>, "apiVersion" | "kind" | "metadata"> & { apiVersion: string; kind: string; metadata: StoredMeta };

/** A pod template (Deployment and ReplicaSet `spec.template`). */
export type PodTemplate = Json<V1PodTemplateSpec> & { spec: Json<V1PodSpec> };
/** A container of a pod spec. */
export type Container = Json<V1Container>;
/** A Namespace. */
export type Namespace = Stored<V1Namespace>;
/** A Node. */
export type Node = Stored<V1Node>;
/** A Deployment. */
export type Deployment = Stored<V1Deployment> & { spec: Json<V1DeploymentSpec> & { template: PodTemplate } };
/** A ReplicaSet. */
export type ReplicaSet = Stored<V1ReplicaSet> & { spec: Json<V1ReplicaSetSpec> & { template: PodTemplate } };
/** A Pod. */
export type Pod = Stored<V1Pod> & { spec: Json<V1PodSpec>; status: Json<V1PodStatus> };
/** A Service. */
export type Service = Stored<V1Service> & { spec: Json<V1ServiceSpec> };
/** An Endpoints object. */
export type Endpoints = Stored<V1Endpoints>;
/** An ingress rule of a NetworkPolicy as JSON spells it: client-node names `from` `_from` in TypeScript. */
export type IngressRule = Omit<Json<V1NetworkPolicyIngressRule>, "_from"> & { from?: NonNullable<Json<V1NetworkPolicyIngressRule>["_from"]> };
/** A NetworkPolicy. */
export type NetworkPolicy = Omit<Stored<V1NetworkPolicy>, "spec"> & { spec: Omit<Json<V1NetworkPolicySpec>, "ingress"> & { ingress?: IngressRule[] } };
/** An Ingress (networking.k8s.io/v1): its rules' backends name the Services it routes to. */
export type Ingress = Stored<V1Ingress>;
/** A ConfigMap. */
export type ConfigMap = Stored<V1ConfigMap>;
export type PersistentVolumeClaim = Stored<V1PersistentVolumeClaim>;
/** A core/v1 Event. */
export type Event = Stored<CoreV1Event>;
/** A Secret: only its metadata is kept (the content hash in {@link CONTENT_HASH_ANNOTATION}); never its data. */
export type Secret = Omit<Stored<V1Secret>, "data" | "stringData">;
/** A ResourceQuota. */
export type ResourceQuota = Stored<V1ResourceQuota>;
/** A HorizontalPodAutoscaler (autoscaling/v2). */
export type HorizontalPodAutoscaler = Stored<V2HorizontalPodAutoscaler> & { spec: Json<V2HorizontalPodAutoscalerSpec> };
/** A StatefulSet. */
export type StatefulSet = Stored<V1StatefulSet> & { spec: Json<V1StatefulSetSpec> & { template: PodTemplate } };

/** Stored object type of each kind. */
export interface KindMap {
  Namespace: Namespace;
  Node: Node;
  Deployment: Deployment;
  ReplicaSet: ReplicaSet;
  Pod: Pod;
  Event: Event;
  Service: Service;
  Endpoints: Endpoints;
  NetworkPolicy: NetworkPolicy;
  Ingress: Ingress;
  ConfigMap: ConfigMap;
  PersistentVolumeClaim: PersistentVolumeClaim;
  Secret: Secret;
  ResourceQuota: ResourceQuota;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  StatefulSet: StatefulSet;
}

/** A kind the simulated cluster stores. */
export type Kind = keyof KindMap;

/** Every kind, in the order objects are listed. */
export const KINDS: readonly Kind[] = [
  "Namespace",
  "Node",
  "Deployment",
  "ReplicaSet",
  "Pod",
  "Event",
  "Service",
  "Endpoints",
  "NetworkPolicy",
  "Ingress",
  "ConfigMap",
  "PersistentVolumeClaim",
  "Secret",
  "ResourceQuota",
  "HorizontalPodAutoscaler",
  "StatefulSet",
];

/** The cluster's objects and its counters; plain JSON. Objects are keyed "namespace/name" (cluster-scoped: "name"). */
export interface ClusterState {
  objects: { [K in Kind]: Record<string, KindMap[K]> };
  /** Last resourceVersion handed out (one counter for the cluster, like etcd's revision). */
  resourceVersion: number;
  /** Objects created so far; the next uid is derived from it. */
  created: number;
}

/** An empty cluster. */
export function emptyCluster(): ClusterState {
  return {
    objects: {
      Namespace: {},
      Node: {},
      Deployment: {},
      ReplicaSet: {},
      Pod: {},
      Event: {},
      Service: {},
      Endpoints: {},
      NetworkPolicy: {},
      Ingress: {},
      ConfigMap: {},
      PersistentVolumeClaim: {},
      Secret: {},
      ResourceQuota: {},
      HorizontalPodAutoscaler: {},
      StatefulSet: {},
    },
    resourceVersion: 0,
    created: 0,
  };
}

/** The label every workload's objects carry, and its Deployment selects. */
export const APP_LABEL = "app";
/** The ReplicaSet label that ties pods to one pod template. */
export const TEMPLATE_HASH_LABEL = "pod-template-hash";
/** The ReplicaSet annotation holding its rollout revision. */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** Revisions a reused ReplicaSet had before its current one. */
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
/** Free-text cause of a rollout, copied from the Deployment to its ReplicaSet. */
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
/** When a ReplicaSet last became the Deployment's new one (Kubernetes keeps no such time; the rollout history shows it). */
export const ROLLED_OUT_AT_ANNOTATION = "sim.suture.dev/rolled-out-at";
/** Secret annotation holding the sha256 of its canonical data (the data itself is never stored). */
export const CONTENT_HASH_ANNOTATION = "suture.dev/content-hash";
/** Secret annotations recording who rotated it last, and when. */
export const ROTATED_BY_ANNOTATION = "suture.dev/rotated-by";
export const ROTATED_AT_ANNOTATION = "suture.dev/rotated-at";
/** The pod label a StatefulSet's controller sets to the revision the pod runs. */
export const CONTROLLER_REVISION_LABEL = "controller-revision-hash";
/** The pod label naming a StatefulSet pod. */
export const STATEFULSET_POD_LABEL = "statefulset.kubernetes.io/pod-name";
/** Node label holding the CPU architecture. */
export const ARCH_LABEL = "kubernetes.io/arch";
/** Name of the one container each simulated workload runs. */
export const APP_CONTAINER = "app";

/** Epoch ms as an RFC 3339 timestamp. */
export function iso(t: number): string {
  return new Date(t).toISOString();
}

/** Key of an object in {@link ClusterState.objects}. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

/** The app container of a pod template, or the first one. */
export function appContainer(spec: Json<V1PodSpec>): Container | undefined {
  return spec.containers.find((c) => c.name === APP_CONTAINER) ?? spec.containers[0];
}

/** Memory quantities already parsed (the kubelet reads every pod's limit every tick). */
const memoryQuantities = new Map<string, number | undefined>();

/** A memory quantity ("512Mi", "1Gi", "536870912") in MiB. */
export function parseMemoryMib(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === "number") return quantity / 2 ** 20;
  if (memoryQuantities.has(quantity)) return memoryQuantities.get(quantity);
  const mib = parseMemoryText(quantity);
  if (memoryQuantities.size < 1000) memoryQuantities.set(quantity, mib);
  return mib;
}

function parseMemoryText(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const factor: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1000 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20, T: 1e12 / 2 ** 20 };
  return m[2] === undefined ? n / 2 ** 20 : n * (factor[m[2]] ?? 1);
}

/** A CPU quantity ("1", "500m") in cores. */
export function parseCpuCores(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === "number") return quantity;
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity.trim());
  if (m === null) return undefined;
  return m[2] === "m" ? Number(m[1]) / 1000 : Number(m[1]);
}

/** MiB as a memory quantity. */
export function memoryQuantity(mib: number): string {
  return `${mib}Mi`;
}

/** Cores as a CPU quantity. */
export function cpuQuantity(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

/** The container's env as a name → value map (valueFrom entries are left out). */
export function envMap(container: Container | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container?.env ?? []) if (e.value !== undefined) out[e.name] = e.value;
  return out;
}

/** A name → value map as a container's env list. */
export function envList(env: Record<string, string>): Array<{ name: string; value: string }> {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** The rollout revision of a ReplicaSet (0 when unset). */
export function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? "0");
}

/**
 * Stable JSON of a value as the API server would serialize it: keys sorted, and empty lists, empty
 * maps and nulls left out (Kubernetes' \`omitempty\`; null is how kubectl writes "unset"), so two
 * objects that mean the same give the same text.
 */
export function semanticJson(value: unknown): string {
  return canonicalJson(withoutEmptyFields(value));
}

/** FNV-1a (32 bit) of a string, as Kubernetes hashes pod templates. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A number in Kubernetes' "safe" alphabet (no vowels, no look-alikes), like `rand.SafeEncodeString`. */
export function safeEncode(n: number): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  for (const d of String(n)) out += alphabet[d.charCodeAt(0) % alphabet.length] ?? "x";
  return out;
}

/** The template without its pod-template-hash label: what two ReplicaSets' templates are compared by. */
export function templateWithoutHash(template: PodTemplate): PodTemplate {
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[TEMPLATE_HASH_LABEL];
  return { ...template, metadata: { ...(template.metadata ?? {}), labels } };
}

/**
 * The value as the API server would serialize it: Kubernetes' types omit empty lists, empty maps
 * and nulls (`omitempty`), so a template kubectl sends back without `env: []` is the same template.
 */
function withoutEmptyFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyFields);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = withoutEmptyFields(v);
    if (kept === null || kept === undefined) continue;
    if (Array.isArray(kept) && kept.length === 0) continue;
    if (typeof kept === "object" && !Array.isArray(kept) && Object.keys(kept).length === 0) continue;
    out[k] = kept;
  }
  return out;
}

/** Hashes of templates already hashed: the controllers ask every tick, and a stored template is replaced, never edited. */
const hashes = new WeakMap<PodTemplate, string>();

/** The pod-template-hash of a template (computed without its own hash label). */
export function templateHash(template: PodTemplate): string {
  const known = hashes.get(template);
  if (known !== undefined) return known;
  const hash = safeEncode(fnv32a(semanticJson(templateWithoutHash(template))));
  hashes.set(template, hash);
  return hash;
}

/** Whether a label selector's matchLabels all hold in `labels` (matchExpressions are not simulated). */
export function matchesLabels(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string> | undefined): boolean {
  const wanted = selector?.matchLabels;
  if (wanted === undefined) return true;
  for (const k in wanted) if (labels?.[k] !== wanted[k]) return false;
  return true;
}

/** A stable pod IP from the pod's name (the simulator has no network to allocate from). */
export function podIp(name: string): string {
  const h = fnv32a(name);
  return `10.${(h >>> 16) & 0xff}.${(h >>> 8) & 0xff}.${(h & 0xfe) + 1}`;
}

/** The Secrets a pod spec reads (env secretKeyRef, envFrom secretRef, secret volumes). */
export function secretsOf(spec: Json<V1PodSpec>): string[] {
  const names = new Set<string>();
  for (const c of spec.containers) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name !== undefined) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name !== undefined) names.add(e.secretRef.name);
  }
  for (const v of spec.volumes ?? []) if (v.secret?.secretName !== undefined) names.add(v.secret.secretName);
  return [...names].sort();
}

/** What the kubelet knows about a pod's container beyond its status: when it started, its back-off, its memory. */
export interface KubeletRecord {
  /** When the running container (or the last one) started, epoch ms. */
  startedAt: number;
  /** No restart before this time (CrashLoopBackOff). */
  backoffUntil: number;
  /** Working set of the container, as metrics-server would report it. */
  memoryMib: number;
  /** Content hash of each Secret the container read when it started (env is fixed at start). */
  secrets?: Record<string, string>;
}

/** One version of a ConfigMap's data (Kubernetes keeps none; `revert_config_map` needs them). */
export interface ConfigVersion {
  version: number;
  data: Record<string, string>;
  updatedAt: number;
  changedBy?: string;
}

/** The PersistentVolumeClaim a service's disk is: `data-<workload>` (what its pods mount and kubelet's volume stats name). */
export function diskClaimName(workload: string): string {
  return `data-${workload}`;
}
