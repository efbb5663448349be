import type { DeploymentState } from "../../adapter.js";
import type { ImageRegistry } from "../images.js";
import type { Rng } from "../rng.js";
import type { EnvironmentSpec, ServiceSpec } from "../spec.js";
import {
  APP_CONTAINER,
  APP_LABEL,
  ARCH_LABEL,
  CHANGE_CAUSE_ANNOTATION,
  REVISION_ANNOTATION,
  ROLLED_OUT_AT_ANNOTATION,
  TEMPLATE_HASH_LABEL,
  cpuQuantity,
  emptyCluster,
  envList,
  iso,
  memoryQuantity,
  objectKey,
  podIp,
  templateHash,
  type ClusterState,
  type ConfigMap,
  type ConfigVersion,
  type KubeletRecord,
  type Deployment,
  type NetworkPolicy,
  type Node,
  type Pod,
  type PodTemplate,
  type ReplicaSet,
  type Service,
} from "./objects.js";
import { ClusterStore } from "./store.js";

const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;

/** What a workload's pod template is made of: the template fields a deployment's state shows, plus its ConfigMaps. */
export interface TemplateInput extends Pick<DeploymentState, "image" | "env" | "memoryLimitMib" | "cpuLimitCores" | "containerPort" | "nodeArchitecture"> {
  service: string;
  configMaps: string[];
}

/** The pod template of a workload: one container with image, command, env, resources, probes and port. */
export function podTemplate(input: TemplateInput): PodTemplate {
  return {
    metadata: { labels: { [APP_LABEL]: input.service } },
    spec: {
      containers: [
        {
          name: APP_CONTAINER,
          image: input.image,
          command: ["/app/server"],
          args: [`--listen=:${input.containerPort}`],
          env: envList(input.env),
          ports: [{ name: "http", containerPort: input.containerPort, protocol: "TCP" }],
          resources: { limits: { memory: memoryQuantity(input.memoryLimitMib), cpu: cpuQuantity(input.cpuLimitCores) }, requests: { cpu: cpuQuantity(input.cpuLimitCores / 2) } },
          readinessProbe: { httpGet: { path: "/healthz/ready", port: input.containerPort }, periodSeconds: 5, failureThreshold: 3 },
          livenessProbe: { httpGet: { path: "/healthz/live", port: input.containerPort }, periodSeconds: 10, failureThreshold: 3 },
          ...(input.configMaps.length > 0 ? { volumeMounts: input.configMaps.map((name) => ({ name, mountPath: `/etc/config/${name}`, readOnly: true })) } : {}),
        },
      ],
      nodeSelector: { [ARCH_LABEL]: input.nodeArchitecture },
      ...(input.configMaps.length > 0 ? { volumes: input.configMaps.map((name) => ({ name, configMap: { name } })) } : {}),
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
  const archs = [...new Set(spec.services.map((s) => s.nodeArchitecture))].sort();
  for (const arch of archs) {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: nodeName(arch), uid: "", resourceVersion: "", creationTimestamp: iso(start - 30 * 24 * 60 * MINUTE), labels: { [ARCH_LABEL]: arch, "kubernetes.io/os": "linux" } },
      spec: {},
      status: {
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
      },
    };
    store.put("Node", node);
  }
  for (const s of spec.services) {
    if (store.get("Namespace", undefined, s.namespace) === undefined) {
      store.put("Namespace", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: s.namespace, uid: "", resourceVersion: "", creationTimestamp: iso(start - 30 * 24 * 60 * MINUTE) },
        spec: {},
        status: { phase: "Active" },
      });
    }
    const image = s.image ?? `registry.internal/${s.name}:1.${rng.int(10, 40)}.${rng.int(0, 9)}`;
    const configMaps = s.configMaps.map((c) => c.name);
    const template = (img: string, env: Record<string, string>, memoryLimitMib: number): PodTemplate =>
      podTemplate({ service: s.name, image: img, env, memoryLimitMib, cpuLimitCores: s.cpuLimitCores, containerPort: s.containerPort, nodeArchitecture: s.nodeArchitecture, configMaps });
    const urlEnv = Object.keys(s.env).filter((k) => k.endsWith("_URL"));
    const revisions = s.revisions.map((r) => ({
      template: template(r.image, { ...s.env, ...(r.env ?? {}) }, r.memoryLimitMib ?? s.memoryLimitMib),
      at: t0 + r.deployedAtMinutes * MINUTE,
      cause: r.changeCause,
    }));
    revisions.push({ template: template(image, { ...s.env }, s.memoryLimitMib), at: t0 + s.deployedAtMinutes * MINUTE, cause: revisions.length > 0 ? `deploy ${image}` : "initial deploy" });
    for (const r of revisions) {
      const ref = r.template.spec.containers[0]?.image ?? image;
      images[ref] = { exists: true, arch: s.nodeArchitecture, schemaVersion: 1, ...(urlEnv.length > 0 ? { urlEnv } : {}) };
    }
    const current = revisions[revisions.length - 1];
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
    for (const p of pods) store.put("Pod", p);
    const service: Service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: s.name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: iso(revisions[0]?.at ?? start), labels: { [APP_LABEL]: s.name } },
      spec: {
        type: "ClusterIP",
        selector: { [APP_LABEL]: s.name },
        ports: [{ name: "http", port: s.servicePort, targetPort: s.containerPort, protocol: "TCP" }],
      },
    };
    store.put("Service", service);
    store.put("Endpoints", {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: s.name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: service.metadata.creationTimestamp, labels: { [APP_LABEL]: s.name } },
      subsets: [],
    });
    for (const c of s.configMaps) {
      const key = objectKey(s.namespace, c.name);
      // A ConfigMap several workloads mount is one object; the first spec that names it gives its data.
      if (configHistory[key] !== undefined) continue;
      const cm: ConfigMap = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: c.name, namespace: s.namespace, uid: "", resourceVersion: "", creationTimestamp: iso(start - WEEK) },
        data: { ...c.data },
      };
      store.put("ConfigMap", cm);
      configHistory[key] = [{ version: 1, data: { ...c.data }, updatedAt: start - WEEK, changedBy: "gitops" }];
    }
    onService(s);
  }
  for (const p of spec.networkPolicies) {
    const namespace = spec.services.find((s) => s.name === p.podSelector)?.namespace ?? spec.services[0]?.namespace ?? "default";
    store.put("NetworkPolicy", networkPolicy(p.name, namespace, p.podSelector, p.allowIngressFrom, t0 + p.createdAtMinutes * MINUTE));
  }
  return { cluster, kubelet, images, configHistory };
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
