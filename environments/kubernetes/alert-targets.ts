import type { V1Pod } from "@kubernetes/client-node";
import { ownersByPodName, resolvedToWorkload, type AlertTarget } from "../../domain/alerts/target.js";
import type { KubeApis } from "./apis.js";
import { call, callOrMissing } from "./api-errors.js";
import { podsOfService, workloadOfPod, workloadsOfPods } from "./owners.js";
import { readsConsumerGroup } from "./consumer-group.js";
import { ingressBackendFor, ingressBackends, oneIngressRoute } from "./ingress.js";
import { findWorkload, listWorkloads } from "./workloads.js";
import { WORKLOAD_KINDS, type WorkloadRef } from "./workload-ref.js";

/** Labels a pod template carries that name the application (`AppLabel` targets). */
const APP_LABEL_KEYS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app", "k8s-app"];

function unresolved(target: AlertTarget, reason: string): AlertTarget {
  return { state: "unresolved", via: target.via, reason, ...(target.kind !== undefined ? { kind: target.kind } : {}), ...(target.name !== undefined ? { name: target.name } : {}) };
}

/** One workload out of the candidates a lookup found, or the reason there is not exactly one. */
function exactlyOne(target: AlertTarget, refs: WorkloadRef[], from: string, none: string): AlertTarget {
  if (refs.length === 1 && refs[0] !== undefined) return resolvedToWorkload(target, refs[0], from);
  if (refs.length === 0) return unresolved(target, none);
  return unresolved(target, `${from} leads to ${refs.length} workloads (${refs.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(", ")}); map the alert in SUTURE_ALERT_TARGETS`);
}

async function workloadsNamed(apis: KubeApis, namespace: string, name: string): Promise<WorkloadRef[]> {
  const found: WorkloadRef[] = [];
  for (const kind of WORKLOAD_KINDS) if ((await findWorkload(apis, { namespace, kind, name })) !== undefined) found.push({ namespace, kind, name });
  return found;
}

/** Workloads named `name` that want at least one replica (a DaemonSet always does). */
async function runningWorkloadsNamed(apis: KubeApis, namespace: string, name: string): Promise<WorkloadRef[]> {
  const found: WorkloadRef[] = [];
  for (const kind of WORKLOAD_KINDS) {
    const w = await findWorkload(apis, { namespace, kind, name });
    if (w === undefined) continue;
    const replicas = "replicas" in (w.spec ?? {}) ? ((w.spec as { replicas?: number }).replicas ?? 1) : 1;
    if (replicas > 0) found.push({ namespace, kind, name });
  }
  return found;
}

/** Workloads whose pod template labels a Service's selector matches (none for a Service without selector). */
async function workloadsSelectedBy(apis: KubeApis, namespace: string, name: string): Promise<WorkloadRef[]> {
  const service = await callOrMissing({ verb: "get", group: "", resource: "services", namespace, name }, () => apis.core.readNamespacedService({ name, namespace }));
  const selector = service?.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) return [];
  const found: WorkloadRef[] = [];
  for (const kind of WORKLOAD_KINDS) {
    for (const w of await listWorkloads(apis, namespace, kind)) {
      const labels = w.spec?.template.metadata?.labels ?? {};
      if (Object.entries(selector).every(([k, v]) => labels[k] === v)) found.push({ namespace, kind, name: w.metadata?.name ?? "" });
    }
  }
  return found;
}

/**
 * The workload of a pod that no longer exists (replaced since the alert fired), from the owners
 * its name says it had (ownersByPodName), each looked up in the cluster: an existing ReplicaSet of
 * that name (its Deployment), a DaemonSet or StatefulSet of that name, or a Deployment of that
 * name whose hash-named ReplicaSet is gone. Exactly one must exist; nothing is taken from the
 * name alone.
 */
async function replacedPodOwner(apis: KubeApis, target: AlertTarget, namespace: string, name: string): Promise<AlertTarget> {
  const owners = ownersByPodName(name);
  const gone = `pod ${namespace}/${name} no longer exists`;
  const found: Array<{ ref: WorkloadRef; from: string }> = [];
  const rsName = owners.replicaSet;
  const rs =
    rsName !== undefined
      ? await callOrMissing({ verb: "get", group: "apps", resource: "replicasets", namespace, name: rsName }, () => apis.apps.readNamespacedReplicaSet({ name: rsName, namespace }))
      : undefined;
  const deploymentOfRs = rs?.metadata?.ownerReferences?.find((o) => o.controller === true) ?? rs?.metadata?.ownerReferences?.[0];
  if (rs !== undefined && deploymentOfRs?.kind === "Deployment") {
    found.push({ ref: { namespace, kind: "Deployment", name: deploymentOfRs.name }, from: `ReplicaSet ${namespace}/${rsName ?? ""} (${gone}; its name is the ReplicaSet's plus a suffix)` });
  } else if (owners.deployment !== undefined && (await findWorkload(apis, { namespace, kind: "Deployment", name: owners.deployment })) !== undefined) {
    found.push({
      ref: { namespace, kind: "Deployment", name: owners.deployment },
      from: `Deployment ${namespace}/${owners.deployment} (${gone}; its name is the Deployment's plus a pod-template hash and a suffix)`,
    });
  }
  if (owners.daemonSet !== undefined && (await findWorkload(apis, { namespace, kind: "DaemonSet", name: owners.daemonSet })) !== undefined) {
    found.push({ ref: { namespace, kind: "DaemonSet", name: owners.daemonSet }, from: `DaemonSet ${namespace}/${owners.daemonSet} (${gone}; its name is the DaemonSet's plus a suffix)` });
  }
  if (owners.statefulSet !== undefined && (await findWorkload(apis, { namespace, kind: "StatefulSet", name: owners.statefulSet })) !== undefined) {
    found.push({ ref: { namespace, kind: "StatefulSet", name: owners.statefulSet }, from: `StatefulSet ${namespace}/${owners.statefulSet} (${gone}; its name is the StatefulSet's plus an ordinal)` });
  }
  if (found.length === 0) {
    // A relabelled series can carry the workload's own name in `pod` (no pod was ever named so).
    const [same, ...more] = await workloadsNamed(apis, namespace, name);
    if (same !== undefined && more.length === 0)
      return resolvedToWorkload(target, same, `${same.kind} ${namespace}/${name} (no pod has that name; the workload has exactly the name the pod label carries)`);
  }
  const [only] = found;
  if (found.length === 1 && only !== undefined) return resolvedToWorkload(target, only.ref, only.from);
  return unresolved(
    target,
    found.length === 0
      ? `${gone}, and no existing ReplicaSet, Deployment, DaemonSet or StatefulSet has the name its own says it came from, so its owner cannot be read`
      : `${gone}, and its name fits ${found.map((f) => `${f.ref.kind} ${f.ref.name}`).join(" and ")}; map the alert in SUTURE_ALERT_TARGETS`,
  );
}

async function podOwner(apis: KubeApis, target: AlertTarget, namespace: string, name: string): Promise<AlertTarget> {
  const pod = await callOrMissing({ verb: "get", group: "", resource: "pods", namespace, name }, () => apis.core.readNamespacedPod({ name, namespace }));
  if (pod === undefined) return replacedPodOwner(apis, target, namespace, name);
  const ref = await workloadOfPod(apis, pod);
  if (ref !== undefined) return resolvedToWorkload(target, ref, `Pod ${namespace}/${name}`);
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true) ?? pod.metadata?.ownerReferences?.[0];
  if (owner?.kind === "Job") return { state: "resolved", kind: "Job", namespace, name: owner.name, via: target.via, from: `Pod ${namespace}/${name}` };
  return { state: "resolved", kind: "Pod", namespace, name, via: target.via, reason: owner !== undefined ? `owned by ${owner.kind} ${owner.name}` : "a bare pod (no owner)" };
}

async function autoscalerTarget(apis: KubeApis, target: AlertTarget, namespace: string, name: string): Promise<AlertTarget> {
  const hpa = await callOrMissing({ verb: "get", group: "autoscaling", resource: "horizontalpodautoscalers", namespace, name }, () =>
    apis.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace }),
  );
  if (hpa === undefined) return unresolved(target, `HorizontalPodAutoscaler ${namespace}/${name} does not exist`);
  const scaled = hpa.spec?.scaleTargetRef;
  const kind = WORKLOAD_KINDS.find((k) => k === scaled?.kind);
  if (scaled === undefined || kind === undefined)
    return unresolved(target, `HorizontalPodAutoscaler ${namespace}/${name} scales ${scaled?.kind ?? "nothing"} ${scaled?.name ?? ""}, not a workload Suture acts on`);
  return resolvedToWorkload(target, { namespace, kind, name: scaled.name }, `HorizontalPodAutoscaler ${namespace}/${name}`);
}

async function pvcUsers(apis: KubeApis, target: AlertTarget, namespace: string, name: string): Promise<AlertTarget> {
  const pods = await call({ verb: "list", group: "", resource: "pods", namespace }, () => apis.core.listNamespacedPod({ namespace }));
  const mounting = pods.items.filter((p: V1Pod) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name));
  if (mounting.length === 0) return { state: "resolved", kind: "PersistentVolumeClaim", namespace, name, via: target.via, reason: "no pod mounts it" };
  return exactlyOne(target, await workloadsOfPods(apis, mounting), `PersistentVolumeClaim ${namespace}/${name}`, `the pods mounting PersistentVolumeClaim ${namespace}/${name} belong to no workload`);
}

async function appLabelled(apis: KubeApis, target: AlertTarget, namespace: string, value: string): Promise<AlertTarget> {
  const templates: Array<{ ref: WorkloadRef; labels: Record<string, string> }> = [];
  const [deployments, statefulSets, daemonSets] = await Promise.all([
    call({ verb: "list", group: "apps", resource: "deployments", namespace }, () => apis.apps.listNamespacedDeployment({ namespace })),
    call({ verb: "list", group: "apps", resource: "statefulsets", namespace }, () => apis.apps.listNamespacedStatefulSet({ namespace })),
    call({ verb: "list", group: "apps", resource: "daemonsets", namespace }, () => apis.apps.listNamespacedDaemonSet({ namespace })),
  ]);
  for (const d of deployments.items) templates.push({ ref: { namespace, kind: "Deployment", name: d.metadata?.name ?? "" }, labels: d.spec?.template.metadata?.labels ?? {} });
  for (const s of statefulSets.items) templates.push({ ref: { namespace, kind: "StatefulSet", name: s.metadata?.name ?? "" }, labels: s.spec?.template.metadata?.labels ?? {} });
  for (const d of daemonSets.items) templates.push({ ref: { namespace, kind: "DaemonSet", name: d.metadata?.name ?? "" }, labels: d.spec?.template.metadata?.labels ?? {} });
  const refs = templates.filter((t) => APP_LABEL_KEYS.some((k) => t.labels[k] === value)).map((t) => t.ref);
  return exactlyOne(target, refs, `label ${target.via.split("+").pop() ?? "app"}=${value}`, `no workload in ${namespace} has a pod template labelled ${APP_LABEL_KEYS.join(" or ")}=${value}`);
}

async function namedWorkload(apis: KubeApis, target: AlertTarget, namespace: string, name: string): Promise<AlertTarget> {
  const kinds = target.kind === "Workload" ? undefined : WORKLOAD_KINDS.find((k) => k === target.kind);
  const found =
    kinds !== undefined ? ((await findWorkload(apis, { namespace, kind: kinds, name })) !== undefined ? [{ namespace, kind: kinds, name }] : []) : await workloadsNamed(apis, namespace, name);
  if (found.length > 0 || target.kind !== "Workload") {
    return exactlyOne(
      target,
      found,
      `${target.kind ?? "workload"} ${namespace}/${name}`,
      `no ${target.kind === "Workload" ? "Deployment, StatefulSet or DaemonSet" : (target.kind ?? "workload")} named ${name} in ${namespace}`,
    );
  }
  // An application's `service` label is usually its Service's name: the workload behind it is the target.
  const service = await callOrMissing({ verb: "get", group: "", resource: "services", namespace, name }, () => apis.core.readNamespacedService({ name, namespace }));
  if (service === undefined) return unresolved(target, `no Deployment, StatefulSet, DaemonSet or Service named ${name} in ${namespace}`);
  return exactlyOne(target, await workloadsOfPods(apis, await podsOfService(apis, namespace, name)), `Service ${namespace}/${name}`, `Service ${namespace}/${name} selects no pod of a workload`);
}

async function node(apis: KubeApis, target: AlertTarget, name: string): Promise<AlertTarget> {
  const byName = await callOrMissing({ verb: "get", group: "", resource: "nodes", name }, () => apis.core.readNode({ name }));
  if (byName !== undefined) return { ...target, state: "resolved", kind: "Node", name };
  // node-exporter's instance is often the node's address.
  const nodes = await call({ verb: "list", group: "", resource: "nodes" }, () => apis.core.listNode());
  const byAddress = nodes.items.find((n) => (n.status?.addresses ?? []).some((a) => a.address === name));
  if (byAddress?.metadata?.name !== undefined) return { ...target, state: "resolved", kind: "Node", name: byAddress.metadata.name, from: `address ${name}` };
  return unresolved(target, `no node is named ${name} or has that address`);
}

/** The target in one namespace (the alert's, or one searched when it named none). */
async function inNamespace(apis: KubeApis, target: AlertTarget, namespace: string): Promise<AlertTarget> {
  const name = target.name ?? "";
  switch (target.kind) {
    case "Pod":
      return podOwner(apis, target, namespace, name);
    case "HorizontalPodAutoscaler":
      return autoscalerTarget(apis, target, namespace, name);
    case "PersistentVolumeClaim":
      return pvcUsers(apis, target, namespace, name);
    case "Service": {
      const behind = await workloadsOfPods(apis, await podsOfService(apis, namespace, name));
      if (behind.length > 0) return exactlyOne(target, behind, `Service ${namespace}/${name}`, "");
      // No pod behind it while the workload of its name runs pods: its selector was moved off them (to an idle slot, a typo); that workload's incident.
      const running = await runningWorkloadsNamed(apis, namespace, name);
      if (running.length === 1) return exactlyOne(target, running, `Service ${namespace}/${name} (selects none of the running pods of the workload of its name)`, "");
      // No pod behind it now (scaled to zero, all replaced): the workload whose template its selector picks.
      const templated = await workloadsSelectedBy(apis, namespace, name);
      if (templated.length > 0) return exactlyOne(target, templated, `Service ${namespace}/${name} (its selector on the workloads' pod templates)`, "");
      // A selector that picks nothing at all (edited, applied from the wrong context): the workload named like the Service, whose incident it is.
      return exactlyOne(
        target,
        await workloadsNamed(apis, namespace, name),
        `Service ${namespace}/${name} (selects nothing; the workload of its name)`,
        `Service ${namespace}/${name} selects no pod of a workload`,
      );
    }
    case "AppLabel":
      return appLabelled(apis, target, namespace, name);
    case "Ingress": {
      // The Service it routes to, and the workload behind that; an Ingress in front of several Services names no one workload.
      const ingress = await callOrMissing({ verb: "get", group: "networking.k8s.io", resource: "ingresses", namespace, name }, () => apis.networking.readNamespacedIngress({ name, namespace }));
      if (ingress === undefined) return unresolved(target, `no Ingress named ${name} in ${namespace}; map the alert in SUTURE_ALERT_TARGETS`);
      const backends = ingressBackends(ingress.spec);
      if (backends.length !== 1 || backends[0] === undefined) {
        return unresolved(
          target,
          `Ingress ${namespace}/${name} routes to ${backends.length === 0 ? "no Service" : `${backends.length} Services (${backends.join(", ")})`}; map the alert in SUTURE_ALERT_TARGETS`,
        );
      }
      const behind = await inNamespace(apis, { ...target, kind: "Service", name: backends[0] }, namespace);
      return behind.state === "resolved" ? { ...behind, from: `Ingress ${namespace}/${name} → ${behind.from ?? `Service ${namespace}/${backends[0]}`}` } : behind;
    }
    case "IngressHost": {
      // The Ingresses here with a rule for the probed host, and the Service the URL's path routes to.
      const list = await call({ verb: "list", group: "networking.k8s.io", resource: "ingresses", namespace }, () => apis.networking.listNamespacedIngress({ namespace }));
      const routes = list.items.flatMap((i) => {
        const service = ingressBackendFor(i.spec, name, target.path ?? "/");
        return service !== undefined ? [{ ingress: i.metadata?.name ?? "", service }] : [];
      });
      const picked = oneIngressRoute(routes, namespace, `${name}${target.path ?? "/"}`);
      if ("reason" in picked) return unresolved(target, picked.reason);
      const behind = await inNamespace(apis, { ...target, kind: "Service", name: picked.route.service }, namespace);
      return behind.state === "resolved" ? { ...behind, from: `${picked.from} → ${behind.from ?? `Service ${namespace}/${picked.route.service}`}` } : behind;
    }
    case "ConsumerGroup": {
      // Usually read by the workload of the same name (the convention PrometheusMetrics' defaults use too);
      // else by the one workload whose containers are configured with that group id.
      const named = await workloadsNamed(apis, namespace, name);
      if (named.length > 0) return exactlyOne(target, named, `consumer group ${name}`, "");
      const readers: WorkloadRef[] = [];
      for (const kind of WORKLOAD_KINDS) {
        for (const w of await listWorkloads(apis, namespace, kind)) {
          if (readsConsumerGroup(w.spec?.template.spec?.containers, name)) readers.push({ namespace, kind, name: w.metadata?.name ?? "" });
        }
      }
      return exactlyOne(
        target,
        readers,
        `consumer group ${name} (the group id in the workload's env or args)`,
        `no workload in ${namespace} is named ${name} or configured with group id ${name} (env or args); map the alert in SUTURE_ALERT_TARGETS`,
      );
    }
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "Workload":
      return namedWorkload(apis, target, namespace, name);
    default:
      return { ...target, state: "resolved", namespace };
  }
}

/**
 * Resolves an alert's target through the Kubernetes API: a pod to its owning workload (through
 * its ReplicaSet), an HPA to what it scales, a PVC to the workload whose pods mount it, a Service
 * or an `app` label to the workload behind it, a named workload to the kind that exists, a node
 * name or address to the Node. A target without a namespace is searched for in every namespace
 * Suture handles and must be found in exactly one. Never guesses from a name's shape: what the API
 * does not show stays unresolved, with the reason.
 */
export async function resolveAlertTarget(apis: KubeApis, target: AlertTarget, namespaces: readonly string[]): Promise<AlertTarget> {
  if (target.state === "unresolved" || target.kind === undefined) return target;
  if (target.kind === "Node") return node(apis, target, target.name ?? "");
  if (target.kind === "Job" || target.kind === "CronJob" || target.kind === "ResourceQuota" || target.kind === "Cluster") return target;
  if (target.namespace !== undefined) {
    if (!namespaces.includes(target.namespace)) return unresolved(target, `namespace ${target.namespace} is not one Suture handles (SUTURE_KUBE_NAMESPACES=${namespaces.join(",")})`);
    return inNamespace(apis, target, target.namespace);
  }
  const found = (await Promise.all(namespaces.map((ns) => inNamespace(apis, target, ns)))).filter((t) => t.state === "resolved");
  if (found.length === 1 && found[0] !== undefined) return { ...found[0], from: `${found[0].from ?? `${target.kind} ${target.name ?? ""}`}, the only match in ${namespaces.join(", ")}` };
  const why = target.reason ?? `the alert names ${target.kind} "${target.name ?? ""}" but no namespace`;
  if (found.length === 0) return unresolved(target, `${why}, and no namespace Suture handles (${namespaces.join(", ")}) has it`);
  return unresolved(target, `${why}, and it exists in ${found.map((t) => t.namespace ?? "").join(" and ")}`);
}
