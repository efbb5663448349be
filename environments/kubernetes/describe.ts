import type { CoreV1Event, V1NetworkPolicy, V1Pod, V1PodTemplateSpec, V1ReplicaSet, V1Service } from "@kubernetes/client-node";
import type { DependencyService, DeploymentState, KubeEvent, NetworkPolicyState, PodStatus, ServiceState, WorkloadDescription } from "../adapter.js";
import { call, callOrMissing, hasStatus, kubeRequestError, type ApiRequest } from "./api-errors.js";
import { configMapsOf } from "./config-maps.js";
import { scheduleOf } from "./managed-by.js";
import type { AdapterContext } from "./context.js";
import { replicaSetsOf } from "./owners.js";
import { autoscalerOf, dependencyService, dependencyServiceName, nodeSummary, quotaStates, secretRefsOf, secretWarnings, serviceSelections, workloadKind } from "./perception.js";
import { cpuCores, memoryMib } from "./quantity.js";
import { mapSelectorMatches, selectorMatches, selectorToQuery } from "./selectors.js";
import { CHANGE_CAUSE_ANNOTATION, containerEnv, kubeEvent, mainContainer, networkPolicyState, podStatus, revisionOf } from "./translate.js";
import { readWorkload, replicaCounts, type WorkloadObject } from "./workloads.js";
import type { WorkloadRef } from "./workload-ref.js";

/** A workload with the objects around it that every read and operation needs. */
export interface WorkloadView {
  ref: WorkloadRef;
  workload: WorkloadObject;
  /** The label selector as a `labelSelector` query. */
  labelSelector: string;
  /** ReplicaSets the Deployment owns (empty for other kinds). */
  replicaSets: V1ReplicaSet[];
  pods: V1Pod[];
}

/** Reads a workload, its ReplicaSets and its pods. */
export async function viewWorkload(context: AdapterContext, ref: WorkloadRef): Promise<WorkloadView> {
  const { apis } = context;
  const workload = await readWorkload(apis, ref);
  const selector = workload.spec?.selector;
  const labelSelector = selector === undefined ? "" : selectorToQuery(selector);
  const namespace = ref.namespace;
  const replicaSets =
    ref.kind === "Deployment" ? await replicaSetsOf(apis, namespace, { name: ref.name, ...(workload.metadata?.uid !== undefined ? { uid: workload.metadata.uid } : {}), labelSelector }) : [];
  // An empty selector would list every pod in the namespace; the API server refuses such workloads anyway.
  const pods =
    labelSelector === ""
      ? []
      : (await call({ verb: "list", group: "", resource: "pods", namespace }, () => apis.core.listNamespacedPod({ namespace, labelSelector }))).items.filter((p) =>
          selectorMatches(selector, p.metadata?.labels),
        );
  pods.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  return { ref, workload, labelSelector, replicaSets, pods };
}

/** The label a StatefulSet's or DaemonSet's controller puts on each pod: the revision of the template it was made from. */
const CONTROLLER_REVISION_HASH = "controller-revision-hash";

/**
 * The revision a pod runs: its ReplicaSet's revision annotation; for other kinds the workload's
 * generation, or one before it for a StatefulSet pod whose revision hash is not the update revision
 * (a pod the controller has not replaced yet: OnDelete, a partition, an update under way).
 */
function podRevision(view: WorkloadView, pod: V1Pod): number {
  if (view.ref.kind !== "Deployment") {
    const generation = view.workload.metadata?.generation ?? 0;
    const updateRevision = view.ref.kind === "StatefulSet" ? (view.workload.status as { updateRevision?: string } | undefined)?.updateRevision : undefined;
    const hash = pod.metadata?.labels?.[CONTROLLER_REVISION_HASH];
    return updateRevision !== undefined && hash !== undefined && hash !== updateRevision ? Math.max(0, generation - 1) : generation;
  }
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === "ReplicaSet");
  const rs = view.replicaSets.find((r) => r.metadata?.name === owner?.name);
  return revisionOf(rs?.metadata?.annotations);
}

/** Pods as the contract describes them. */
export function podStatuses(view: WorkloadView): PodStatus[] {
  return view.pods.map((pod) => podStatus(pod, podRevision(view, pod)));
}

/** The revision the workload is at: the Deployment's revision annotation (its generation for other kinds). */
export function currentRevision(view: WorkloadView): number {
  return view.ref.kind === "Deployment" ? revisionOf(view.workload.metadata?.annotations) : (view.workload.metadata?.generation ?? 0);
}

/** The node architecture the pods run on: the template's nodeSelector, else the first pod's node (label, then nodeInfo). */
async function nodeArchitecture(context: AdapterContext, view: WorkloadView): Promise<string> {
  const selected = view.workload.spec?.template.spec?.nodeSelector?.["kubernetes.io/arch"];
  if (selected !== undefined) return selected;
  const nodeName = view.pods.find((p) => p.spec?.nodeName !== undefined)?.spec?.nodeName;
  if (nodeName === undefined) return "unknown";
  const node = await callOrMissing({ verb: "get", group: "", resource: "nodes", name: nodeName }, () => context.apis.core.readNode({ name: nodeName }));
  return node?.metadata?.labels?.["kubernetes.io/arch"] ?? node?.status?.nodeInfo?.architecture ?? "unknown";
}

/** The workload's spec and rollout state as the contract describes it. */
export async function deploymentState(context: AdapterContext, view: WorkloadView): Promise<DeploymentState> {
  const { workload, ref } = view;
  const container = mainContainer(workload.spec?.template);
  const { desired, ready } = replicaCounts(workload);
  return {
    name: ref.name,
    namespace: ref.namespace,
    desiredReplicas: desired,
    readyReplicas: ready,
    currentRevision: currentRevision(view),
    image: container?.image ?? "",
    env: containerEnv(container),
    memoryLimitMib: memoryMib(container?.resources?.limits?.memory),
    cpuLimitCores: cpuCores(container?.resources?.limits?.cpu),
    containerPort: container?.ports?.[0]?.containerPort ?? 0,
    nodeArchitecture: await nodeArchitecture(context, view),
    ...(workload.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] !== undefined ? { changeCause: workload.metadata.annotations[CHANGE_CAUSE_ANNOTATION] } : {}),
    ...(scheduleOf(workload.metadata) !== "" ? { schedule: scheduleOf(workload.metadata) } : {}),
    ...updateStrategyOf(view),
  };
}

/** A StatefulSet's or DaemonSet's update strategy (the API's default RollingUpdate, partition 0, when unset). */
function updateStrategyOf(view: WorkloadView): Pick<DeploymentState, "updateStrategy"> {
  if (view.ref.kind === "Deployment") return {};
  const strategy = (view.workload.spec as { updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } } } | undefined)?.updateStrategy;
  return { updateStrategy: { type: strategy?.type === "OnDelete" ? "OnDelete" : "RollingUpdate", partition: strategy?.rollingUpdate?.partition ?? 0 } };
}

/** Whether an event is about the workload, one of its ReplicaSets, or one of their pods (a pod deleted since included). */
function concernsWorkload(view: WorkloadView, event: CoreV1Event): boolean {
  const name = event.involvedObject.name ?? "";
  if (name === view.ref.name || view.pods.some((p) => p.metadata?.name === name)) return true;
  const replicaSets = view.replicaSets.map((r) => r.metadata?.name ?? "").filter((n) => n !== "");
  if (replicaSets.includes(name)) return true;
  // A ReplicaSet's pods are named after it: the events of a pod already replaced still explain the incident.
  return event.involvedObject.kind === "Pod" && replicaSets.some((rs) => name.startsWith(`${rs}-`));
}

/**
 * Events of the workload, its ReplicaSets and its pods, oldest first; events at the same instant
 * keep the API server's order. One list of the namespace's events (not one request per object)
 * also finds the events of pods that are gone.
 */
export async function workloadEvents(context: AdapterContext, view: WorkloadView): Promise<KubeEvent[]> {
  const namespace = view.ref.namespace;
  const list = await call({ verb: "list", group: "", resource: "events", namespace }, () => context.apis.core.listNamespacedEvent({ namespace }));
  return list.items
    .filter((event) => concernsWorkload(view, event))
    .map(kubeEvent)
    .sort((a, b) => a.t - b.t);
}

/** The Services in a namespace whose selector matches the template's labels. */
export async function servicesSelecting(context: AdapterContext, namespace: string, template: V1PodTemplateSpec | undefined): Promise<V1Service[]> {
  const list = await call({ verb: "list", group: "", resource: "services", namespace }, () => context.apis.core.listNamespacedService({ namespace }));
  return list.items.filter((s) => mapSelectorMatches(s.spec?.selector, template?.metadata?.labels)).sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** The first port of a Service; a named targetPort resolves through the template's container ports. */
export function serviceState(service: V1Service, template: V1PodTemplateSpec | undefined): ServiceState {
  const port = service.spec?.ports?.[0];
  const target = port?.targetPort;
  const named = typeof target === "string" ? template?.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort : undefined;
  const numeric = typeof target === "number" ? target : typeof target === "string" && /^\d+$/.test(target) ? Number(target) : named;
  return { name: service.metadata?.name ?? "", port: port?.port ?? 0, targetPort: numeric ?? port?.port ?? 0 };
}

/** The NetworkPolicies in a namespace whose podSelector matches the template's labels. */
export async function policiesSelecting(context: AdapterContext, namespace: string, template: V1PodTemplateSpec | undefined): Promise<V1NetworkPolicy[]> {
  const list = await call({ verb: "list", group: "networking.k8s.io", resource: "networkpolicies", namespace }, () => context.apis.networking.listNamespacedNetworkPolicy({ namespace }));
  return list.items.filter((p) => selectorMatches(p.spec?.podSelector, template?.metadata?.labels)).sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** The PersistentVolumeClaims the workload's pods mount (a StatefulSet's claims from its templates included, as the pods name them); undefined when no pod is read. */
function claimsMounted(view: WorkloadView): string[] | undefined {
  if (view.pods.length === 0) return undefined;
  const claims = view.pods.flatMap((pod) => (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName !== undefined ? [v.persistentVolumeClaim.claimName] : [])));
  return [...new Set(claims)].sort();
}

/** What a described workload takes from the signals source: settled values, empty without one. */
async function signalParts(context: AdapterContext, view: WorkloadView): Promise<Pick<WorkloadDescription, "circuitBreakers" | "disks" | "consumerGroups" | "dependencies">> {
  const signals = context.signals;
  if (signals === undefined) return { circuitBreakers: [], disks: [], consumerGroups: [], dependencies: [] };
  const { ref } = view;
  // A failing source (Prometheus down) must not hide what the API server said: its parts stay
  // empty here, and the failure itself shows in the queryMetric / consumerLag reads.
  const [breakers, disks, groups, dependencies] = await Promise.allSettled([
    signals.circuitBreakers(ref),
    signals.disks(ref, claimsMounted(view)),
    signals.consumerLag(ref),
    signals.dependencies(ref),
  ]);
  return {
    circuitBreakers: breakers.status === "fulfilled" ? breakers.value : [],
    disks: disks.status === "fulfilled" ? disks.value : [],
    consumerGroups: groups.status === "fulfilled" ? groups.value : [],
    dependencies: dependencies.status === "fulfilled" ? dependencies.value : [],
  };
}

/**
 * Warning events of every namespace (what a Secret's sync controller reports lives beside it, not
 * beside the workload). A role bound to some namespaces only may not list them: that reads as none.
 */
async function clusterWarnings(context: AdapterContext): Promise<CoreV1Event[]> {
  try {
    return (await context.apis.core.listEventForAllNamespaces({ fieldSelector: "type=Warning" })).items;
  } catch (error) {
    if (hasStatus(error, 403) || hasStatus(error, 404)) return [];
    throw kubeRequestError(error, { verb: "list", group: "", resource: "events" });
  }
}

/** A list the API server may not serve (an API group switched off): 404 reads as none, any other failure is an error. */
async function listOrNone<T>(request: ApiRequest, run: () => Promise<{ items: T[] }>): Promise<T[]> {
  return (await callOrMissing(request, run))?.items ?? [];
}

/** Each dependency's Service and its ready endpoints (a dependency the topology names whose Service is gone shows so). */
async function dependencyServices(context: AdapterContext, namespace: string, dependencies: string[]): Promise<DependencyService[]> {
  return Promise.all(
    dependencies.map(async (dependency) => {
      const where = dependencyServiceName(dependency, namespace);
      const name = where.service;
      const ns = where.namespace;
      const [service, endpoints] = await Promise.all([
        callOrMissing({ verb: "get", group: "", resource: "services", namespace: ns, name }, () => context.apis.core.readNamespacedService({ name, namespace: ns })),
        callOrMissing({ verb: "get", group: "", resource: "endpoints", namespace: ns, name }, () => context.apis.core.readNamespacedEndpoints({ name, namespace: ns })),
      ]);
      return dependencyService(dependency, namespace, service, endpoints);
    }),
  );
}

/**
 * What the workload's neighbourhood says, through the same translations the simulator uses
 * (perception.ts): its kind, the Services in front of it and what they select, its dependencies'
 * Services, its HorizontalPodAutoscaler, the namespace's ResourceQuotas, and the nodes when a pod
 * cannot be scheduled.
 */
async function neighbourhood(
  context: AdapterContext,
  view: WorkloadView,
  pods: PodStatus[],
  dependencies: string[],
): Promise<Pick<WorkloadDescription, "kind" | "selector" | "secretRefs" | "secretWarnings" | "services" | "dependencyServices" | "autoscaler" | "quotas" | "nodes">> {
  const { apis } = context;
  const namespace = view.ref.namespace;
  const kind = workloadKind(view.ref.kind);
  const secretRefs = secretRefsOf(view.workload.spec?.template);
  const [services, endpoints, namespacePods, hpas, quotas, deps, warnings] = await Promise.all([
    call({ verb: "list", group: "", resource: "services", namespace }, () => apis.core.listNamespacedService({ namespace })),
    call({ verb: "list", group: "", resource: "endpoints", namespace }, () => apis.core.listNamespacedEndpoints({ namespace })),
    call({ verb: "list", group: "", resource: "pods", namespace }, () => apis.core.listNamespacedPod({ namespace })),
    listOrNone({ verb: "list", group: "autoscaling", resource: "horizontalpodautoscalers", namespace }, () => apis.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace })),
    listOrNone({ verb: "list", group: "", resource: "resourcequotas", namespace }, () => apis.core.listNamespacedResourceQuota({ namespace })),
    dependencyServices(context, namespace, dependencies),
    secretRefs.length > 0 ? clusterWarnings(context) : Promise.resolve([]),
  ]);
  const autoscaler = autoscalerOf(hpas, kind, view.ref.name);
  const nodes = pods.some((p) => p.reason === "Unschedulable") ? nodeSummary((await call({ verb: "list", group: "", resource: "nodes" }, () => apis.core.listNode())).items) : undefined;
  const matchLabels = view.workload.spec?.selector?.matchLabels;
  return {
    kind,
    ...(matchLabels !== undefined ? { selector: { ...matchLabels } } : {}),
    secretRefs,
    secretWarnings: secretWarnings(warnings, namespace, secretRefs, context.clock.now()),
    services: serviceSelections(view.ref.name, view.workload.spec?.template, services.items, endpoints.items, namespacePods.items),
    dependencyServices: deps,
    ...(autoscaler !== undefined ? { autoscaler } : {}),
    quotas: quotaStates(quotas),
    ...(nodes !== undefined ? { nodes } : {}),
  };
}

/** Everything `describe workload` returns, from the API server plus the signals source when there is one. */
export async function describeWorkload(context: AdapterContext, service: string, ref: WorkloadRef): Promise<WorkloadDescription> {
  const view = await viewWorkload(context, ref);
  const template = view.workload.spec?.template;
  const [deployment, events, services, policies, configMaps] = await Promise.all([
    deploymentState(context, view),
    workloadEvents(context, view),
    servicesSelecting(context, ref.namespace, template),
    policiesSelecting(context, ref.namespace, template),
    configMapsOf(context, ref.namespace, template),
  ]);
  const networkPolicies: NetworkPolicyState[] = policies.map((p) => networkPolicyState(p, service));
  const { circuitBreakers, disks, consumerGroups, dependencies } = await signalParts(context, view);
  const kubeService = services[0];
  const pods = podStatuses(view);
  const around = await neighbourhood(context, view, pods, dependencies);
  return {
    service,
    kind: around.kind,
    ...(around.selector !== undefined ? { selector: around.selector } : {}),
    ...(around.secretRefs !== undefined ? { secretRefs: around.secretRefs } : {}),
    deployment,
    pods,
    events,
    ...(kubeService !== undefined ? { kubeService: serviceState(kubeService, template) } : {}),
    networkPolicies,
    configMaps,
    circuitBreakers,
    disks,
    consumerGroups,
    dependencies,
    ...around,
  };
}
