import type { DeploymentState } from "../../adapter.js";
import type { ImageRegistry } from "../images.js";
import type { Rng } from "../rng.js";
import { defaultNamespace as namespaceOf, workloadsOf, type EnvironmentSpec, type ServiceSpec, type WorkloadService } from "../spec.js";
import {
  APP_CONTAINER,
  APP_LABEL,
  ARCH_LABEL,
  CHANGE_CAUSE_ANNOTATION,
  CONTENT_HASH_ANNOTATION,
  CONTROLLER_REVISION_LABEL,
  diskClaimName,
  STATEFULSET_POD_LABEL,
  secretsOf,
  REVISION_ANNOTATION,
  ROLLED_OUT_AT_ANNOTATION,
  TEMPLATE_HASH_LABEL,
  cpuQuantity,
  emptyCluster,
  envList,
  iso,
  memoryQuantity,
  objectKey,
  parseMemoryMib,
  podIp,
  templateHash,
  type ClusterState,
  type ConfigMap,
  type ConfigVersion,
  type KubeletRecord,
  type Deployment,
  type NetworkPolicy,
  type PersistentVolumeClaim,
  type Node,
  type Pod,
  type PodTemplate,
  type ReplicaSet,
  type Service,
  type StatefulSet,
} from "./objects.js";
import { ClusterStore } from "./store.js";
import { IGNORED_MANIFEST_KINDS, MANIFEST_KINDS, parseManifests, type ManifestObject } from "./manifests.js";
import { imageBehaviourFromTemplate } from "./manifest-workloads.js";
import { pickNode } from "./scheduler.js";
import { ImageSpecSchema } from "../spec.js";

const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;

/** What a workload's pod template is made of: the template fields a deployment's state shows, plus its ConfigMaps. */
export interface TemplateInput extends Pick<DeploymentState, "image" | "env" | "memoryLimitMib" | "cpuLimitCores" | "containerPort" | "nodeArchitecture"> {
  service: string;
  configMaps: string[];
  /** Fields a scenario may set beyond the defaults; each is left out of the template when unset, so a template without them hashes as before. */
  extra?: TemplateExtras;
}

/** A service spec's container and pod fields beyond image, env and limits. */
export type TemplateExtras = Partial<Pick<ServiceSpec, "command" | "args" | "readinessProbe" | "livenessProbe" | "dnsPolicy" | "secretEnv" | "requests">> & {
  /** The PersistentVolumeClaim the service's disk is, mounted at the disk's path. */
  disk?: { claim: string; mount: string };
};

/** The pod volume a service's disk is mounted from. */
const DISK_VOLUME = "data";

/** A probe of the spec as a container writes it. */
function probe(p: NonNullable<ServiceSpec["readinessProbe"]>): NonNullable<PodTemplate["spec"]["containers"][number]["readinessProbe"]> {
  return { httpGet: { path: p.httpGet.path, port: p.httpGet.port }, periodSeconds: p.periodSeconds, failureThreshold: p.failureThreshold };
}

/** The pod template of a workload: one container with image, command, env, resources, probes and port. */
export function podTemplate(input: TemplateInput): PodTemplate {
  const x = input.extra ?? {};
  const secretRefs = (x.secretEnv ?? []).flatMap((e) =>
    Object.keys(e.keys).length > 0 ? Object.entries(e.keys).map(([name, key]) => ({ name, valueFrom: { secretKeyRef: { name: e.secret, key } } })) : [],
  );
  const envFrom = (x.secretEnv ?? []).filter((e) => Object.keys(e.keys).length === 0).map((e) => ({ secretRef: { name: e.secret } }));
  const requests = { cpu: x.requests?.cpu ?? cpuQuantity(input.cpuLimitCores / 2), ...(x.requests?.memory !== undefined ? { memory: x.requests.memory } : {}) };
  const volumeMounts = [
    ...input.configMaps.map((name) => ({ name, mountPath: `/etc/config/${name}`, readOnly: true })),
    ...(x.disk !== undefined ? [{ name: DISK_VOLUME, mountPath: x.disk.mount }] : []),
  ];
  const volumes = [...input.configMaps.map((name) => ({ name, configMap: { name } })), ...(x.disk !== undefined ? [{ name: DISK_VOLUME, persistentVolumeClaim: { claimName: x.disk.claim } }] : [])];
  return {
    metadata: { labels: { [APP_LABEL]: input.service } },
    spec: {
      containers: [
        {
          name: APP_CONTAINER,
          image: input.image,
          command: x.command ?? ["/app/server"],
          args: x.args ?? [`--listen=:${input.containerPort}`],
          env: [...envList(input.env), ...secretRefs],
          ...(envFrom.length > 0 ? { envFrom } : {}),
          ports: [{ name: "http", containerPort: input.containerPort, protocol: "TCP" }],
          resources: { limits: { memory: memoryQuantity(input.memoryLimitMib), cpu: cpuQuantity(input.cpuLimitCores) }, requests },
          readinessProbe: x.readinessProbe !== undefined ? probe(x.readinessProbe) : { httpGet: { path: "/healthz/ready", port: input.containerPort }, periodSeconds: 5, failureThreshold: 3 },
          livenessProbe: x.livenessProbe !== undefined ? probe(x.livenessProbe) : { httpGet: { path: "/healthz/live", port: input.containerPort }, periodSeconds: 10, failureThreshold: 3 },
          ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
        },
      ],
      nodeSelector: { [ARCH_LABEL]: input.nodeArchitecture },
      ...(x.dnsPolicy !== undefined && x.dnsPolicy !== "ClusterFirst" ? { dnsPolicy: x.dnsPolicy } : {}),
      ...(volumes.length > 0 ? { volumes } : {}),
      restartPolicy: "Always",
    },
  };
}

/** The name of the node pods of this architecture are scheduled on. */
export function nodeName(arch: string): string {
  return `sim-node-${arch}-1`;
}

/** A ReplicaSet for a Deployment's template, at a revision. */
export function replicaSetFor(d: Deployment, template: PodTemplate, revision: number, rolledOutAt: number, changeCause: string | undefined): ReplicaSet {
  const hash = templateHash(template);
  const labels = { ...(template.metadata?.labels ?? {}), [TEMPLATE_HASH_LABEL]: hash };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      uid: "",
      resourceVersion: "",
      creationTimestamp: iso(rolledOutAt),
      labels,
      annotations: {
        [REVISION_ANNOTATION]: String(revision),
        [ROLLED_OUT_AT_ANNOTATION]: iso(rolledOutAt),
        ...(changeCause !== undefined ? { [CHANGE_CAUSE_ANNOTATION]: changeCause } : {}),
      },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: 0, selector: { matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [TEMPLATE_HASH_LABEL]: hash } }, template: { ...structuredClone(template), metadata: { labels } } },
    status: { replicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 },
  };
}

/**
 * A new pod of a ReplicaSet, running. Its name is the ReplicaSet's plus five random characters;
 * nine more are drawn first and dropped so a seed gives the same world as the simulator before
 * pods were Kubernetes objects (its pod names drew them).
 */
export function newPod(rng: Rng, rs: ReplicaSet, startedAt: number): Pod {
  rng.suffix(9);
  const name = `${rs.metadata.name}-${rng.suffix(5)}`;
  const template = rs.spec.template;
  const spec = structuredClone(template.spec);
  spec.nodeName = nodeName(spec.nodeSelector?.[ARCH_LABEL] ?? "amd64");
  const container = spec.containers[0];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: rs.metadata.namespace,
      uid: "",
      resourceVersion: "",
      creationTimestamp: iso(startedAt),
      labels: { ...(template.metadata?.labels ?? {}) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
    status: {
      phase: "Running",
      podIP: podIp(name),
      hostIP: "10.0.0.10",
      startTime: iso(startedAt),
      containerStatuses: [
        {
          name: container?.name ?? APP_CONTAINER,
          image: container?.image ?? "",
          imageID: "",
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: iso(startedAt) } },
        },
      ],
    },
  };
}

/** Status of a healthy node of an architecture. */
function nodeStatus(arch: string): NonNullable<Node["status"]> {
  return {
    conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
    nodeInfo: {
      architecture: arch,
      operatingSystem: "linux",
      bootID: "",
      containerRuntimeVersion: "containerd://1.7.22",
      kernelVersion: "6.1.0",
      kubeProxyVersion: "v1.31.0",
      kubeletVersion: "v1.31.0",
      machineID: "",
      osImage: "Linux",
      systemUUID: "",
    },
  };
}

/** The revision name a StatefulSet's template gets (`<name>-<hash>`, as its ControllerRevision is named). */
export function statefulRevision(sts: Pick<StatefulSet, "metadata" | "spec">): string {
  return `${sts.metadata.name}-${templateHash(sts.spec.template)}`;
}

/** A StatefulSet running a template, its revisions current. */
export function statefulSetFor(name: string, namespace: string, replicas: number, template: PodTemplate, createdAt: number): StatefulSet {
  const sts: StatefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace, uid: "", resourceVersion: "", creationTimestamp: iso(createdAt), generation: 1, labels: { [APP_LABEL]: name } },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { [APP_LABEL]: name } },
      template,
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
    },
    status: { replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 },
  };
  const revision = statefulRevision(sts);
  sts.status = { ...sts.status, replicas, currentRevision: revision, updateRevision: revision, collisionCount: 0 };
  return sts;
}

/** Pod `<name>-<ordinal>` of a StatefulSet at its update revision, running. */
export function statefulPod(sts: StatefulSet, ordinal: number, startedAt: number): Pod {
  const name = `${sts.metadata.name}-${ordinal}`;
  const template = sts.spec.template;
  const spec = structuredClone(template.spec);
  spec.nodeName = nodeName(spec.nodeSelector?.[ARCH_LABEL] ?? "amd64");
  spec.hostname = name;
  spec.subdomain = sts.spec.serviceName;
  const container = spec.containers[0];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: sts.metadata.namespace,
      uid: "",
      resourceVersion: "",
      creationTimestamp: iso(startedAt),
      labels: { ...(template.metadata?.labels ?? {}), [CONTROLLER_REVISION_LABEL]: statefulRevision(sts), [STATEFULSET_POD_LABEL]: name },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: sts.metadata.name, uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
    status: {
      phase: "Running",
      podIP: podIp(name),
      hostIP: "10.0.0.10",
      startTime: iso(startedAt),
      containerStatuses: [
        { name: container?.name ?? APP_CONTAINER, image: container?.image ?? "", imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: iso(startedAt) } } },
      ],
    },
  };
}

/** What {@link buildCluster} returns besides the services. */
export interface BuiltCluster {
  cluster: ClusterState;
  kubelet: Record<string, KubeletRecord>;
  images: ImageRegistry;
  configHistory: Record<string, ConfigVersion[]>;
}

/**
 * The cluster at the start of the warm-up: per service a Namespace, a Deployment, one ReplicaSet
 * per revision (the last one running the pods), its Service and Endpoints, its ConfigMaps; the
 * nodes; the spec's NetworkPolicies. Random draws happen in the same order as before the
 * cluster was objects: per service the image tag, then its pods, then `onService` (its Kafka).
 */
export function buildCluster(spec: EnvironmentSpec, rng: Rng, t0: number, start: number, onService: (s: ServiceSpec) => void): BuiltCluster {
  const cluster = emptyCluster();
  const store = new ClusterStore(cluster, () => start);
  const kubelet: Record<string, KubeletRecord> = {};
  const images: ImageRegistry = {};
  const configHistory: Record<string, ConfigVersion[]> = {};
  const defaultNamespace = namespaceOf(spec);
  const workloads = workloadsOf(spec);
  const manifests = spec.manifests === undefined ? [] : parseManifests(spec.manifests, MANIFEST_KINDS, defaultNamespace, undefined, IGNORED_MANIFEST_KINDS);
  // Manifest objects created with their workload (its Service and the ConfigMaps it mounts), not after all workloads.
  const ownObjects = new Set<object>();
  const ensureNamespace = (name: string | undefined): void => {
    if (name === undefined || store.get("Namespace", undefined, name) !== undefined) return;
    store.put("Namespace", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, uid: "", resourceVersion: "", creationTimestamp: iso(start - 30 * 24 * 60 * MINUTE) },
      spec: {},
      status: { phase: "Active" },
    });
  };
  const declaredNodes = manifests.filter((m) => m.kind === "Node");
  const archs = [...new Set(workloads.map((s) => s.nodeArchitecture))].sort();
  for (const arch of declaredNodes.length > 0 ? [] : archs) {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: nodeName(arch), uid: "", resourceVersion: "", creationTimestamp: iso(start - 30 * 24 * 60 * MINUTE), labels: { [ARCH_LABEL]: arch, "kubernetes.io/os": "linux" } },
      spec: {},
      status: nodeStatus(arch),
    };
    store.put("Node", node);
  }
  for (const m of declaredNodes) {
    const node = m.object as Node;
    const arch = node.metadata.labels?.[ARCH_LABEL] ?? node.status?.nodeInfo?.architecture ?? "amd64";
    node.apiVersion = "v1";
    node.metadata.labels = { [ARCH_LABEL]: arch, "kubernetes.io/os": "linux", "kubernetes.io/hostname": node.metadata.name, ...(node.metadata.labels ?? {}) };
    if (node.metadata.creationTimestamp === "") node.metadata.creationTimestamp = iso(start - 30 * 24 * 60 * MINUTE);
    node.spec ??= {};
    const defaults = nodeStatus(arch);
    node.status = {
      ...defaults,
      ...(node.status ?? {}),
      conditions: node.status?.conditions ?? defaults.conditions,
      nodeInfo: { ...defaults.nodeInfo, ...(node.status?.nodeInfo ?? {}) } as NonNullable<Node["status"]>["nodeInfo"],
    };
    if (node.status.allocatable !== undefined && node.status.capacity === undefined) node.status.capacity = { ...node.status.allocatable };
    store.put("Node", node);
  }
  // Secrets exist before the pods that read them.
  for (const m of manifests.filter((x) => x.kind === "Secret")) {
    ensureNamespace(m.object.metadata.namespace);
    if (m.object.metadata.creationTimestamp === "") m.object.metadata.creationTimestamp = iso(start - 30 * 24 * 60 * MINUTE);
    m.object.apiVersion = "v1";
    store.put("Secret", m.object);
  }
  const placePods = (pods: Pod[]): void => {
    if (declaredNodes.length === 0) return;
    for (const pod of pods) {
      const placed = pickNode(store, pod.spec);
      pod.spec.nodeName = "node" in placed ? placed.node : (store.list("Node")[0]?.metadata.name ?? pod.spec.nodeName);
      store.put("Pod", pod);
    }
  };
  const secretHashes = (pod: Pod): Record<string, string> | undefined => {
    const names = secretsOf(pod.spec);
    if (names.length === 0) return undefined;
    return Object.fromEntries(names.map((n) => [n, store.get("Secret", pod.metadata.namespace, n)?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] ?? ""]));
  };
  /** A built workload's first pods placed and stored with the Secrets they read at start, then its own Service and ConfigMaps. */
  const startWorkload = (s: (typeof workloads)[number], pods: Pod[], own: Parameters<typeof putOwnObjects>[1] | undefined): void => {
    placePods(pods);
    for (const p of pods) {
      if (p.metadata.uid === "") store.put("Pod", p);
      const hashes = secretHashes(p);
      const record = kubelet[objectKey(s.namespace, p.metadata.name)];
      if (hashes !== undefined && record !== undefined) record.secrets = hashes;
    }
    if (own !== undefined) putOwnObjects(store, own, configHistory);
    // Its disk is a claim, whether a v1 service (whose pods mount it) or a manifest workload (whose template may name it).
    if (s.disk !== undefined && store.get("PersistentVolumeClaim", s.namespace, diskClaimName(s.name)) === undefined) {
      store.put("PersistentVolumeClaim", diskClaim(s.name, s.namespace, s.disk.sizeGib, start - WEEK));
    }
    onService(s);
  };
  for (const s of workloads) {
    if (store.get("Namespace", undefined, s.namespace) === undefined) {
      store.put("Namespace", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: s.namespace, uid: "", resourceVersion: "", creationTimestamp: iso(start - 30 * 24 * 60 * MINUTE) },
        spec: {},
        status: { phase: "Active" },
      });
    }
    // A v1 service is converted to the manifest form here, as its turn comes: a generated image tag is a random draw in build order.
    const w =
      s.object !== undefined
        ? { ...s, object: s.object, own: declaredOwn(s.object, manifests, ownObjects, t0 + (s.revisions[0]?.deployedAtMinutes ?? s.deployedAtMinutes) * MINUTE, start) }
        : fromV1(s, s.image ?? `registry.internal/${s.name}:1.${rng.int(10, 40)}.${rng.int(0, 9)}`, t0, start);
    // A declared disk is a mounted claim (the kubelet reports volume stats only for claims a running pod mounts).
    const object = s.object !== undefined && s.disk !== undefined ? withDiskMounted(w.object, diskClaimName(s.name), s.disk.mount) : w.object;
    const image = w.image ?? "";
    const declared = object.spec.template;
    const template = (img: string, env: Record<string, string>, memoryLimitMib: number): PodTemplate => revisedTemplate(declared, img, env, memoryLimitMib);
    const code = ImageSpecSchema.parse(s.imageBehaviour ?? imageBehaviourFromTemplate(declared));
    const urlEnv = Object.keys(s.env).filter((k) => k.endsWith("_URL"));
    const revisions = s.revisions.map((r) => ({
      template: template(r.image, { ...s.env, ...(r.env ?? {}) }, r.memoryLimitMib ?? s.memoryLimitMib),
      at: t0 + r.deployedAtMinutes * MINUTE,
      cause: r.changeCause,
    }));
    revisions.push({
      template: template(image, { ...s.env }, s.memoryLimitMib),
      at: t0 + s.deployedAtMinutes * MINUTE,
      cause: object.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] ?? (revisions.length > 0 ? `deploy ${image}` : "initial deploy"),
    });
    for (const r of revisions) {
      const ref = r.template.spec.containers[0]?.image ?? image;
      images[ref] = {
        exists: true,
        arch: s.nodeArchitecture,
        schemaVersion: 1,
        ...(urlEnv.length > 0 ? { urlEnv } : {}),
        entrypoints: code.entrypoints,
        flags: code.flags,
        httpPaths: code.httpPaths,
        needsClusterDns: code.needsClusterDns,
      };
    }
    const current = revisions[revisions.length - 1];
    if (current !== undefined) current.template = structuredClone(declared);
    if (s.kind === "StatefulSet") {
      const sts = statefulSetFor(s.name, s.namespace, s.replicas, structuredClone(current?.template ?? template(image, s.env, s.memoryLimitMib)), revisions[0]?.at ?? start);
      declaredStatefulSet(sts, object as StatefulSet);
      store.put("StatefulSet", sts);
      const pods = Array.from({ length: s.replicas }, (_, i) => {
        const startedAt = start - rng.int(60, 600) * MINUTE;
        const pod = statefulPod(sts, i, startedAt);
        kubelet[objectKey(s.namespace, pod.metadata.name)] = { startedAt, backoffUntil: 0, memoryMib: s.baselineMemoryMib };
        return pod;
      });
      startWorkload(s, pods, w.own);
      continue;
    }
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: "",
        resourceVersion: "",
        creationTimestamp: iso(revisions[0]?.at ?? start),
        generation: revisions.length,
        labels: { [APP_LABEL]: s.name },
        annotations: { [REVISION_ANNOTATION]: String(revisions.length), ...(current?.cause !== undefined ? { [CHANGE_CAUSE_ANNOTATION]: current.cause } : {}) },
      },
      spec: {
        replicas: s.replicas,
        selector: { matchLabels: { [APP_LABEL]: s.name } },
        template: structuredClone(current?.template ?? template(image, s.env, s.memoryLimitMib)),
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: { observedGeneration: revisions.length, replicas: s.replicas, readyReplicas: s.replicas, updatedReplicas: s.replicas, availableReplicas: s.replicas },
    };
    declaredDeployment(d, object);
    store.put("Deployment", d);
    let newest: ReplicaSet | undefined;
    revisions.forEach((r, i) => {
      newest = store.put("ReplicaSet", replicaSetFor(d, r.template, i + 1, r.at, r.cause));
    });
    if (newest === undefined) throw new Error(`${s.name} has no revision`);
    newest.spec.replicas = s.replicas;
    const pods: Pod[] = [];
    for (let i = 0; i < s.replicas; i++) {
      const pod = newPod(rng, newest, start);
      const startedAt = start - rng.int(60, 600) * MINUTE;
      pod.metadata.creationTimestamp = iso(startedAt);
      pod.status.startTime = iso(startedAt);
      const cs = pod.status.containerStatuses?.[0];
      if (cs !== undefined) cs.state = { running: { startedAt: iso(startedAt) } };
      pods.push(pod);
      kubelet[objectKey(s.namespace, pod.metadata.name)] = { startedAt, backoffUntil: 0, memoryMib: s.baselineMemoryMib };
    }
    startWorkload(s, pods, w.own);
  }
  for (const p of spec.networkPolicies) {
    const namespace = workloads.find((s) => s.name === p.podSelector)?.namespace ?? defaultNamespace;
    store.put("NetworkPolicy", networkPolicy(p.name, namespace, p.podSelector, p.allowIngressFrom, t0 + p.createdAtMinutes * MINUTE));
  }
  // The scenario's other objects, after the workloads' own (one of the same name replaces it).
  for (const m of manifests.filter((x) => x.kind !== "Node" && x.kind !== "Secret" && x.kind !== "Deployment" && x.kind !== "StatefulSet" && !ownObjects.has(x.object))) {
    ensureNamespace(m.object.metadata.namespace);
    const o = m.object;
    o.apiVersion = m.kind === "HorizontalPodAutoscaler" ? "autoscaling/v2" : m.kind === "NetworkPolicy" || m.kind === "Ingress" ? "networking.k8s.io/v1" : "v1";
    const existing = store.get(m.kind, o.metadata.namespace, o.metadata.name);
    if (existing !== undefined) {
      o.metadata.uid = existing.metadata.uid;
      o.metadata.creationTimestamp = existing.metadata.creationTimestamp;
    } else if (o.metadata.creationTimestamp === "") {
      o.metadata.creationTimestamp = iso(start - WEEK);
    }
    if ("spec" in o && o.spec !== undefined) o.metadata.generation ??= 1;
    store.put(m.kind, o);
    if (m.kind === "ConfigMap") {
      const cm = o as ConfigMap;
      configHistory[objectKey(cm.metadata.namespace, cm.metadata.name)] = [{ version: 1, data: { ...(cm.data ?? {}) }, updatedAt: Date.parse(cm.metadata.creationTimestamp), changedBy: "gitops" }];
    }
  }
  return { cluster, kubelet, images, configHistory };
}

/**
 * A manifest template at an earlier revision: the app container's image, env values and memory
 * limit replaced (env not named keeps its value or reference), everything else as declared.
 */
export function revisedTemplate(declared: PodTemplate, image: string, env: Record<string, string>, memoryLimitMib: number): PodTemplate {
  const t = structuredClone(declared);
  const c = t.spec.containers.find((x) => x.name === APP_CONTAINER) ?? t.spec.containers[0];
  if (c === undefined) return t;
  c.image = image;
  for (const [name, value] of Object.entries(env)) {
    const list = (c.env ??= []);
    const e = list.find((x) => x.name === name);
    // A new value goes after the other plain values, ahead of the references (as a v1 service's env is written).
    const firstRef = list.findIndex((x) => x.valueFrom !== undefined);
    if (e === undefined) list.splice(firstRef === -1 ? list.length : firstRef, 0, { name, value });
    else if (e.value !== value || e.valueFrom !== undefined) {
      e.value = value;
      delete e.valueFrom;
    }
  }
  const limits = c.resources?.limits;
  if (limits?.["memory"] !== undefined && memoryLimitMib !== Math.round(parseMemoryMib(limits["memory"]) ?? NaN)) {
    c.resources = { ...c.resources, limits: { ...limits, memory: memoryQuantity(memoryLimitMib) } };
  }
  return t;
}

/** A built Deployment with what its manifest declares beyond the template: labels, annotations, selector, strategy (status, revision and API-server fields are the build's). */
function declaredDeployment(d: Deployment, o: Deployment): void {
  const annotations = { ...(o.metadata.annotations ?? {}) };
  delete annotations[REVISION_ANNOTATION];
  d.metadata.labels = o.metadata.labels ?? d.metadata.labels;
  d.metadata.annotations = { ...annotations, ...(d.metadata.annotations ?? {}) };
  d.spec = { ...o.spec, ...d.spec, selector: o.spec.selector ?? d.spec.selector };
  for (const k of ["strategy", "revisionHistoryLimit", "progressDeadlineSeconds", "minReadySeconds", "paused"] as const) {
    if (o.spec[k] !== undefined) (d.spec as Record<string, unknown>)[k] = o.spec[k];
  }
}

/** A built StatefulSet with what its manifest declares beyond the template (status and revisions are the build's). */
function declaredStatefulSet(sts: StatefulSet, o: StatefulSet): void {
  sts.metadata.labels = o.metadata.labels ?? sts.metadata.labels;
  if (o.metadata.annotations !== undefined) sts.metadata.annotations = { ...o.metadata.annotations };
  for (const k of [
    "serviceName",
    "selector",
    "podManagementPolicy",
    "updateStrategy",
    "revisionHistoryLimit",
    "minReadySeconds",
    "volumeClaimTemplates",
    "persistentVolumeClaimRetentionPolicy",
  ] as const) {
    if (o.spec[k] !== undefined) (sts.spec as Record<string, unknown>)[k] = structuredClone(o.spec[k]);
  }
}

/** The objects a v1 service brings besides its workload: its Service and the ConfigMaps it declares. */
export interface OwnObjects {
  service: Service;
  configMaps: ConfigMap[];
}

/**
 * A v1 service in the manifest form: its Deployment or StatefulSet (the pod template made of its
 * fields, at its current revision), its own Service and ConfigMaps, and what its image does made
 * explicit (the v1 defaults, not the template's).
 */
export function fromV1(s: ServiceSpec, image: string, t0: number, start: number): WorkloadService & { object: Deployment | StatefulSet; own: OwnObjects } {
  const extra: TemplateExtras = {
    ...(s.command !== undefined ? { command: s.command } : {}),
    ...(s.args !== undefined ? { args: s.args } : {}),
    ...(s.readinessProbe !== undefined ? { readinessProbe: s.readinessProbe } : {}),
    ...(s.livenessProbe !== undefined ? { livenessProbe: s.livenessProbe } : {}),
    dnsPolicy: s.dnsPolicy,
    secretEnv: s.secretEnv,
    ...(s.requests !== undefined ? { requests: s.requests } : {}),
    ...(s.disk !== undefined ? { disk: { claim: diskClaimName(s.name), mount: s.disk.mount } } : {}),
  };
  const configMaps = s.configMaps.map((c) => c.name);
  const template = podTemplate({
    service: s.name,
    image,
    env: { ...s.env },
    memoryLimitMib: s.memoryLimitMib,
    cpuLimitCores: s.cpuLimitCores,
    containerPort: s.containerPort,
    nodeArchitecture: s.nodeArchitecture,
    configMaps,
    extra,
  });
  const createdAt = t0 + (s.revisions[0]?.deployedAtMinutes ?? s.deployedAtMinutes) * MINUTE;
  const labels = { [APP_LABEL]: s.name };
  const object: Deployment | StatefulSet =
    s.kind === "StatefulSet"
      ? statefulSetFor(s.name, s.namespace, s.replicas, template, createdAt)
      : {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: s.name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: "", labels },
          spec: {
            replicas: s.replicas,
            selector: { matchLabels: { ...labels } },
            template,
            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
            revisionHistoryLimit: 10,
            progressDeadlineSeconds: 600,
          },
        };
  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: iso(createdAt), labels: { ...labels } },
    spec: { type: "ClusterIP", selector: { ...labels }, ports: [{ name: "http", port: s.servicePort, targetPort: s.containerPort, protocol: "TCP" }] },
  };
  const own: OwnObjects = {
    service,
    configMaps: s.configMaps.map((c) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: c.name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: iso(start - WEEK) },
      data: { ...c.data },
    })),
  };
  return { ...s, image, imageBehaviour: ImageSpecSchema.parse(s.imageBehaviour ?? {}), object, own };
}

/**
 * A manifest workload's own objects, created with it as a v1 service's are: the Service of its
 * name and namespace, and the ConfigMaps its template mounts, where the manifests declare them.
 * A Service without a creation time gets the workload's first rollout time; a ConfigMap, a week
 * before the history starts.
 */
function declaredOwn(object: Deployment | StatefulSet, manifests: ManifestObject[], taken: Set<object>, createdAt: number, start: number): OwnObjects | undefined {
  const namespace = object.metadata.namespace;
  const found = manifests.find((m) => m.kind === "Service" && m.object.metadata.namespace === namespace && m.object.metadata.name === object.metadata.name && !taken.has(m.object));
  if (found === undefined) return undefined;
  const mounted = (object.spec.template.spec.volumes ?? []).flatMap((v) => (v.configMap?.name !== undefined ? [v.configMap.name] : []));
  const configMaps = manifests.filter((m) => m.kind === "ConfigMap" && m.object.metadata.namespace === namespace && mounted.includes(m.object.metadata.name) && !taken.has(m.object));
  const service = found.object as Service;
  service.apiVersion = "v1";
  if (service.metadata.creationTimestamp === "") service.metadata.creationTimestamp = iso(createdAt);
  for (const c of configMaps) {
    c.object.apiVersion = "v1";
    if (c.object.metadata.creationTimestamp === "") c.object.metadata.creationTimestamp = iso(start - WEEK);
  }
  taken.add(found.object);
  for (const c of configMaps) taken.add(c.object);
  return { service, configMaps: configMaps.map((c) => c.object as ConfigMap) };
}

/**
 * A manifest workload whose template mounts its declared disk: unchanged when a container already
 * mounts something at the disk's path, otherwise the claim is added as volume `data` of the app container.
 */
function withDiskMounted<T extends Deployment | StatefulSet>(object: T, claim: string, mount: string): T {
  const spec = object.spec.template.spec;
  if (spec.containers.some((c) => (c.volumeMounts ?? []).some((m) => m.mountPath === mount))) return object;
  const template = structuredClone(object.spec.template);
  const name = (template.spec.volumes ?? []).some((v) => v.name === DISK_VOLUME) ? `${DISK_VOLUME}-${claim}` : DISK_VOLUME;
  template.spec.volumes = [...(template.spec.volumes ?? []), { name, persistentVolumeClaim: { claimName: claim } }];
  const app = template.spec.containers.find((c) => c.name === APP_CONTAINER) ?? template.spec.containers[0];
  if (app !== undefined) app.volumeMounts = [...(app.volumeMounts ?? []), { name, mountPath: mount }];
  return { ...object, spec: { ...object.spec, template } };
}

/** The bound ReadWriteOnce claim a service's disk is, `data-<workload>`. */
function diskClaim(workload: string, namespace: string, sizeGib: number, createdAt: number): PersistentVolumeClaim {
  const size = `${sizeGib}Gi`;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: diskClaimName(workload), namespace, uid: "", resourceVersion: "", creationTimestamp: iso(createdAt), labels: { [APP_LABEL]: workload } },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, storageClassName: "standard", volumeName: `pvc-${namespace}-${diskClaimName(workload)}` },
    status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: size } },
  };
}

/** A workload's own Service (with its Endpoints) and ConfigMaps. */
function putOwnObjects(store: ClusterStore, own: OwnObjects, configHistory: Record<string, ConfigVersion[]>): void {
  const service = structuredClone(own.service);
  store.put("Service", service);
  const { name, namespace } = service.metadata;
  store.put("Endpoints", {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name, namespace, uid: "", resourceVersion: "", creationTimestamp: service.metadata.creationTimestamp, labels: { ...(service.metadata.labels ?? {}) } },
    subsets: [],
  });
  for (const c of own.configMaps) {
    const key = objectKey(c.metadata.namespace, c.metadata.name);
    // A ConfigMap several workloads mount is one object; the first spec that names it gives its data.
    if (configHistory[key] !== undefined) continue;
    const cm = structuredClone(c);
    store.put("ConfigMap", cm);
    configHistory[key] = [{ version: 1, data: { ...(cm.data ?? {}) }, updatedAt: Date.parse(cm.metadata.creationTimestamp), changedBy: "gitops" }];
  }
}

/** A NetworkPolicy selecting `app=<podSelector>` that admits only `app=<source>` pods (none: deny all ingress). */
export function networkPolicy(name: string, namespace: string, podSelector: string, allowIngressFrom: string[], createdAt: number): NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace, uid: "", resourceVersion: "", creationTimestamp: iso(createdAt) },
    spec: {
      podSelector: { matchLabels: { [APP_LABEL]: podSelector } },
      policyTypes: ["Ingress"],
      ingress: allowIngressFrom.length === 0 ? [] : [{ from: allowIngressFrom.map((source) => ({ podSelector: { matchLabels: { [APP_LABEL]: source } } })) }],
    },
  };
}
