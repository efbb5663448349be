import { ownersByPodName, resolvedToWorkload, type AlertTarget } from "../../domain/alerts/target.js";
import { readsConsumerGroup } from "../kubernetes/consumer-group.js";
import { ingressBackendFor, ingressBackends, oneIngressRoute } from "../kubernetes/ingress.js";
import type { ClusterBackend, KubeObject } from "../cluster-api/backend.js";

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;
type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
type Ref = { namespace: string; kind: WorkloadKind; name: string };
const APP_LABEL_KEYS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app", "k8s-app"];

/** Objects of a kind in the simulated cluster (namespace undefined: all namespaces). */
function objects(backend: ClusterBackend, kind: string, namespace: string | undefined): KubeObject[] {
  const type = backend.types().find((t) => t.kind === kind);
  return type === undefined ? [] : backend.list(type, type.namespaced ? namespace : undefined);
}

function controllerOf(o: KubeObject | undefined): { kind: string; name: string } | undefined {
  const owners = o?.metadata.ownerReferences;
  return owners?.find((r) => r.controller === true) ?? owners?.[0];
}

function byName(backend: ClusterBackend, kind: string, namespace: string, name: string): KubeObject | undefined {
  return objects(backend, kind, namespace).find((o) => o.metadata.name === name);
}

function workloadOfPod(backend: ClusterBackend, pod: KubeObject): Ref | undefined {
  const namespace = pod.metadata.namespace ?? "default";
  const owner = controllerOf(pod);
  if (owner?.kind === "StatefulSet" || owner?.kind === "DaemonSet") return { namespace, kind: owner.kind, name: owner.name };
  if (owner?.kind !== "ReplicaSet") return undefined;
  const deployment = controllerOf(byName(backend, "ReplicaSet", namespace, owner.name));
  return deployment?.kind === "Deployment" ? { namespace, kind: "Deployment", name: deployment.name } : undefined;
}

function distinct(refs: Array<Ref | undefined>): Ref[] {
  const out = new Map<string, Ref>();
  for (const r of refs) if (r !== undefined) out.set(`${r.namespace}/${r.kind}/${r.name}`, r);
  return [...out.values()];
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function spec<T>(o: KubeObject | undefined): T | undefined {
  return o?.["spec"] as T | undefined;
}

function status<T>(o: KubeObject | undefined): T | undefined {
  return o?.["status"] as T | undefined;
}

function one(target: AlertTarget, refs: Ref[], from: string, none: string): AlertTarget {
  const [ref] = refs;
  if (refs.length === 1 && ref !== undefined) return resolvedToWorkload(target, ref, from);
  return { ...target, state: "unresolved", reason: refs.length === 0 ? none : `${from} leads to ${refs.length} workloads (${refs.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(", ")})` };
}

/**
 * The workload of a pod that no longer exists, from the owners its name says it had (see
 * ownersByPodName), each looked up: an existing ReplicaSet of that name (its Deployment), a
 * DaemonSet or StatefulSet of that name, or a Deployment of that name whose hash-named
 * ReplicaSets are gone. The same rules as the Kubernetes adapter's.
 */
function replacedPodOwner(backend: ClusterBackend, target: AlertTarget, namespace: string, name: string): AlertTarget {
  const owners = ownersByPodName(name);
  const gone = `pod ${namespace}/${name} no longer exists`;
  const rs = owners.replicaSet !== undefined ? byName(backend, "ReplicaSet", namespace, owners.replicaSet) : undefined;
  const deploymentOfRs = controllerOf(rs);
  const found: Array<{ ref: Ref; from: string }> = [];
  if (rs !== undefined && deploymentOfRs?.kind === "Deployment") {
    found.push({ ref: { namespace, kind: "Deployment", name: deploymentOfRs.name }, from: `ReplicaSet ${namespace}/${owners.replicaSet ?? ""} (${gone}; its name is the ReplicaSet's plus a suffix)` });
  } else if (owners.deployment !== undefined && byName(backend, "Deployment", namespace, owners.deployment) !== undefined) {
    found.push({
      ref: { namespace, kind: "Deployment", name: owners.deployment },
      from: `Deployment ${namespace}/${owners.deployment} (${gone}; its name is the Deployment's plus a pod-template hash and a suffix)`,
    });
  }
  if (owners.daemonSet !== undefined && byName(backend, "DaemonSet", namespace, owners.daemonSet) !== undefined) {
    found.push({ ref: { namespace, kind: "DaemonSet", name: owners.daemonSet }, from: `DaemonSet ${namespace}/${owners.daemonSet} (${gone}; its name is the DaemonSet's plus a suffix)` });
  }
  if (owners.statefulSet !== undefined && byName(backend, "StatefulSet", namespace, owners.statefulSet) !== undefined) {
    found.push({ ref: { namespace, kind: "StatefulSet", name: owners.statefulSet }, from: `StatefulSet ${namespace}/${owners.statefulSet} (${gone}; its name is the StatefulSet's plus an ordinal)` });
  }
  if (found.length === 0) {
    // A relabelled series can carry the workload's own name in `pod` (no pod was ever named so).
    const same = WORKLOAD_KINDS.filter((kind) => byName(backend, kind, namespace, name) !== undefined);
    const [kind] = same;
    if (kind !== undefined && same.length === 1)
      return one(target, [{ namespace, kind, name }], `${kind} ${namespace}/${name} (no pod has that name; the workload has exactly the name the pod label carries)`, "");
  }
  const [only] = found;
  if (found.length === 1 && only !== undefined) return one(target, [only.ref], only.from, "");
  return {
    ...target,
    state: "unresolved",
    reason:
      found.length === 0
        ? `${gone}, and no existing ReplicaSet, Deployment, DaemonSet or StatefulSet has the name its own says it came from, so its owner cannot be read`
        : `${gone}, and its name fits ${found.map((f) => `${f.ref.kind} ${f.ref.name}`).join(" and ")}`,
  };
}

function inNamespace(backend: ClusterBackend, target: AlertTarget, namespace: string): AlertTarget {
  const name = target.name ?? "";
  const pods = (): KubeObject[] => objects(backend, "Pod", namespace);
  switch (target.kind) {
    case "Pod": {
      const pod = byName(backend, "Pod", namespace, name);
      if (pod === undefined) return replacedPodOwner(backend, target, namespace, name);
      return one(target, distinct([workloadOfPod(backend, pod)]), `Pod ${namespace}/${name}`, `pod ${namespace}/${name} belongs to no workload`);
    }
    case "HorizontalPodAutoscaler": {
      const ref = spec<{ scaleTargetRef?: { kind?: string; name?: string } }>(byName(backend, "HorizontalPodAutoscaler", namespace, name))?.scaleTargetRef;
      const kind = WORKLOAD_KINDS.find((k) => k === ref?.kind);
      if (ref?.name === undefined || kind === undefined) return { ...target, state: "unresolved", reason: `HorizontalPodAutoscaler ${namespace}/${name} does not exist or scales no workload` };
      return one(target, [{ namespace, kind, name: ref.name }], `HorizontalPodAutoscaler ${namespace}/${name}`, "");
    }
    case "PersistentVolumeClaim": {
      const mounting = pods().filter((p) => (spec<{ volumes?: Array<{ persistentVolumeClaim?: { claimName?: string } }> }>(p)?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name));
      if (mounting.length === 0) return { ...target, state: "resolved", namespace, reason: "no pod mounts it" };
      return one(target, distinct(mounting.map((p) => workloadOfPod(backend, p))), `PersistentVolumeClaim ${namespace}/${name}`, "its pods belong to no workload");
    }
    case "Ingress": {
      const ingress = byName(backend, "Ingress", namespace, name);
      if (ingress === undefined) return { ...target, state: "unresolved", reason: `no Ingress named ${name} in ${namespace}; map the alert in SUTURE_ALERT_TARGETS` };
      const backends = ingressBackends(spec<Parameters<typeof ingressBackends>[0]>(ingress));
      if (backends.length !== 1 || backends[0] === undefined) {
        return {
          ...target,
          state: "unresolved",
          reason: `Ingress ${namespace}/${name} routes to ${backends.length === 0 ? "no Service" : `${backends.length} Services (${backends.join(", ")})`}; map the alert in SUTURE_ALERT_TARGETS`,
        };
      }
      const behind = inNamespace(backend, { ...target, kind: "Service", name: backends[0] }, namespace);
      return behind.state === "resolved" ? { ...behind, from: `Ingress ${namespace}/${name} → ${behind.from ?? `Service ${namespace}/${backends[0]}`}` } : behind;
    }
    case "IngressHost": {
      const routes = objects(backend, "Ingress", namespace).flatMap((i) => {
        const service = ingressBackendFor(spec<Parameters<typeof ingressBackendFor>[0]>(i), name, target.path ?? "/");
        return service !== undefined ? [{ ingress: i.metadata.name ?? "", service }] : [];
      });
      const picked = oneIngressRoute(routes, namespace, `${name}${target.path ?? "/"}`);
      if ("reason" in picked) return { ...target, state: "unresolved", reason: picked.reason };
      const behind = inNamespace(backend, { ...target, kind: "Service", name: picked.route.service }, namespace);
      return behind.state === "resolved" ? { ...behind, from: `${picked.from} → ${behind.from ?? `Service ${namespace}/${picked.route.service}`}` } : behind;
    }
    case "Service": {
      const selector = spec<{ selector?: Record<string, string> }>(byName(backend, "Service", namespace, name))?.selector ?? {};
      const behind = distinct(
        pods()
          .filter((p) => labelsMatch(selector, p.metadata.labels))
          .map((p) => workloadOfPod(backend, p)),
      );
      if (behind.length > 0) return one(target, behind, `Service ${namespace}/${name}`, "");
      // No pod behind it while the workload of its name runs pods: its selector was moved off them (to an idle slot, a typo); that workload's incident.
      const running = WORKLOAD_KINDS.filter((kind) => {
        const w = byName(backend, kind, namespace, name);
        return w !== undefined && (spec<{ replicas?: number }>(w)?.replicas ?? 1) > 0;
      }).map((kind) => ({ namespace, kind, name }));
      if (running.length === 1) return one(target, running, `Service ${namespace}/${name} (selects none of the running pods of the workload of its name)`, "");
      // No pod behind it now (scaled to zero): the workload whose pod template its selector picks.
      const templated =
        Object.keys(selector).length === 0
          ? []
          : WORKLOAD_KINDS.flatMap((kind) =>
              objects(backend, kind, namespace)
                .filter((w) => labelsMatch(selector, spec<{ template?: { metadata?: { labels?: Record<string, string> } } }>(w)?.template?.metadata?.labels))
                .map((w) => ({ namespace, kind, name: w.metadata.name ?? "" })),
            );
      if (templated.length > 0) return one(target, templated, `Service ${namespace}/${name} (its selector on the workloads' pod templates)`, "");
      // A selector that picks nothing at all (edited, applied from the wrong context): the workload named like the Service, whose incident it is.
      const named = WORKLOAD_KINDS.filter((kind) => byName(backend, kind, namespace, name) !== undefined).map((kind) => ({ namespace, kind, name }));
      return one(target, named, `Service ${namespace}/${name} (selects nothing; the workload of its name)`, `Service ${namespace}/${name} selects no pod of a workload`);
    }
    case "AppLabel": {
      const refs = WORKLOAD_KINDS.flatMap((kind) =>
        objects(backend, kind, namespace)
          .filter((w) => APP_LABEL_KEYS.some((k) => spec<{ template?: { metadata?: { labels?: Record<string, string> } } }>(w)?.template?.metadata?.labels?.[k] === name))
          .map((w) => ({ namespace, kind, name: w.metadata.name ?? "" })),
      );
      return one(target, refs, `label ${target.via.split("+").pop() ?? "app"}=${name}`, `no workload in ${namespace} has a pod template labelled app=${name}`);
    }
    case "ConsumerGroup": {
      const named = WORKLOAD_KINDS.filter((kind) => byName(backend, kind, namespace, name) !== undefined).map((kind) => ({ namespace, kind, name }));
      if (named.length > 0) return one(target, named, `consumer group ${name}`, "");
      const readers = WORKLOAD_KINDS.flatMap((kind) =>
        objects(backend, kind, namespace)
          .filter((w) =>
            readsConsumerGroup(
              spec<{ template?: { spec?: { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }>; args?: string[]; command?: string[] }> } } }>(w)?.template?.spec
                ?.containers,
              name,
            ),
          )
          .map((w) => ({ namespace, kind, name: w.metadata.name ?? "" })),
      );
      return one(
        target,
        readers,
        `consumer group ${name} (the group id in the workload's env or args)`,
        `no workload in ${namespace} is named ${name} or configured with group id ${name} (env or args); map the alert in SUTURE_ALERT_TARGETS`,
      );
    }
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "Workload": {
      const kinds = WORKLOAD_KINDS.filter((k) => target.kind === k || target.kind === "Workload");
      const refs = kinds.filter((kind) => byName(backend, kind, namespace, name) !== undefined).map((kind) => ({ namespace, kind, name }));
      if (refs.length > 0 || target.kind !== "Workload" || byName(backend, "Service", namespace, name) === undefined) {
        return one(target, refs, `${target.kind} ${namespace}/${name}`, `no ${target.kind === "Workload" ? "Deployment, StatefulSet or DaemonSet" : target.kind} named ${name} in ${namespace}`);
      }
      return inNamespace(backend, { ...target, kind: "Service" }, namespace);
    }
    default:
      return { ...target, state: "resolved", namespace };
  }
}

/**
 * An alert's target in a simulated cluster, by the same rules as the Kubernetes adapter's
 * lookups (environments/kubernetes/alert-targets.ts), read from the world's objects directly: a
 * pod to its owner, an HPA to what it scales, a PVC to the workload mounting it, a Service or an
 * `app` label to the workload behind it; without a namespace, searched in every namespace.
 */
export function resolveInCluster(backend: ClusterBackend, target: AlertTarget): AlertTarget {
  if (target.state === "unresolved" || target.kind === undefined) return target;
  if (target.kind === "Node") {
    const nodes = objects(backend, "Node", undefined);
    if (nodes.some((n) => n.metadata.name === target.name)) return { ...target, state: "resolved" };
    // node-exporter's instance is often the node's address (as the Kubernetes adapter resolves it).
    const byAddress = nodes.find((n) => (status<{ addresses?: Array<{ address?: string }> }>(n)?.addresses ?? []).some((a) => a.address === target.name));
    const name = byAddress?.metadata.name;
    if (name !== undefined) return { ...target, state: "resolved", name, from: `address ${target.name ?? ""}` };
    return { ...target, state: "unresolved", reason: `no node is named ${target.name ?? ""} or has that address` };
  }
  if (target.kind === "Job" || target.kind === "CronJob" || target.kind === "ResourceQuota" || target.kind === "Cluster") return target;
  if (target.namespace !== undefined) return inNamespace(backend, target, target.namespace);
  const namespaces = objects(backend, "Namespace", undefined).map((n) => n.metadata.name ?? "");
  const found = namespaces.map((ns) => inNamespace(backend, target, ns)).filter((t) => t.state === "resolved");
  if (found.length === 1 && found[0] !== undefined) return found[0];
  const why = target.reason ?? `the alert names ${target.kind} "${target.name ?? ""}" but no namespace`;
  return { ...target, state: "unresolved", reason: found.length === 0 ? `${why}, and no namespace has it` : `${why}, and it exists in ${found.map((t) => t.namespace ?? "").join(" and ")}` };
}
