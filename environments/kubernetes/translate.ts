import type { CoreV1Event, V1Container, V1NetworkPolicy, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from "@kubernetes/client-node";
import type { DeploymentRevision, KubeEvent, NetworkPolicyState, PodStatus } from "../adapter.js";
import { containmentOf, managedByOf } from "./managed-by.js";
import { cpuCores, memoryMib } from "./quantity.js";

/** The annotation the Deployment controller numbers ReplicaSets (and the Deployment) with. */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** The annotation `kubectl --record` and people write the reason for a rollout in. */
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";

/** Epoch ms of a timestamp the client parsed (or a string), 0 when absent. */
export function epochMs(value: Date | string | undefined): number {
  if (value === undefined) return 0;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(t) ? 0 : t;
}

/** The revision number an object carries in {@link REVISION_ANNOTATION}, 0 when absent. */
export function revisionOf(annotations: Record<string, string> | undefined): number {
  const n = Number(annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

const PHASES = new Set<PodStatus["phase"]>(["Pending", "Running", "Succeeded", "Failed", "Unknown"]);

/** A pod as the contract describes it; `revision` comes from its owner (ReplicaSet annotation). */
export function podStatus(pod: V1Pod, revision: number): PodStatus {
  const statuses = pod.status?.containerStatuses ?? [];
  const phase = pod.status?.phase;
  // The first container that is not running well explains the pod, as `kubectl get pods` shows it.
  const unschedulable = pod.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable") === true ? "Unschedulable" : undefined;
  const reason = statuses.map((s) => s.state?.waiting?.reason ?? s.state?.terminated?.reason).find((r) => r !== undefined) ?? pod.status?.reason ?? unschedulable;
  const lastTermination = statuses.map((s) => s.lastState?.terminated?.reason).find((r) => r !== undefined);
  const lastExitCode = statuses.map((s) => s.lastState?.terminated?.exitCode).find((r) => r !== undefined);
  return {
    name: pod.metadata?.name ?? "",
    phase: phase !== undefined && PHASES.has(phase as PodStatus["phase"]) ? (phase as PodStatus["phase"]) : "Unknown",
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    ...(reason !== undefined ? { reason } : {}),
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    ...(lastTermination !== undefined ? { lastTerminationReason: lastTermination } : {}),
    ...(lastExitCode !== undefined ? { lastExitCode } : {}),
    revision,
    // When the container last started (its running state, or the run that just crashed while it backs off); else when the pod did.
    startedAt: epochMs(
      pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? pod.status?.containerStatuses?.[0]?.lastState?.terminated?.startedAt ?? pod.status?.startTime ?? pod.metadata?.creationTimestamp,
    ),
  };
}

/** An event as the contract describes it; `object` is `kind/name` as kubectl prints it. */
export function kubeEvent(event: CoreV1Event): KubeEvent {
  const involved = event.involvedObject;
  return {
    t: epochMs(event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp),
    type: event.type === "Warning" ? "Warning" : "Normal",
    reason: event.reason ?? "",
    object: `${(involved.kind ?? "object").toLowerCase()}/${involved.name ?? ""}`,
    message: event.message ?? "",
    count: event.count ?? event.series?.count ?? 1,
  };
}

/**
 * The environment of a container as it can be shown without reading secrets: literal values as
 * they are, references as `<from configMap x>` / `<from secret x>` (Suture never reads Secrets).
 */
export function containerEnv(container: V1Container | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container?.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) env[variable.name] = variable.value ?? "";
    else if (from.configMapKeyRef !== undefined) env[variable.name] = `<from configMap ${from.configMapKeyRef.name ?? ""}>`;
    else if (from.secretKeyRef !== undefined) env[variable.name] = `<from secret ${from.secretKeyRef.name ?? ""}>`;
    else if (from.fieldRef !== undefined) env[variable.name] = `<from field ${from.fieldRef.fieldPath}>`;
    else if (from.resourceFieldRef !== undefined) env[variable.name] = `<from resource ${from.resourceFieldRef.resource}>`;
    else env[variable.name] = "<from reference>";
  }
  return env;
}

/** The first container of a pod template: the one the contract's image/env/limits describe. */
export function mainContainer(template: V1PodTemplateSpec | undefined): V1Container | undefined {
  return template?.spec?.containers[0];
}

/** One rollout revision from the ReplicaSet that holds it. */
export function deploymentRevision(rs: V1ReplicaSet): DeploymentRevision {
  const container = mainContainer(rs.spec?.template);
  const changeCause = rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return {
    revision: revisionOf(rs.metadata?.annotations),
    image: container?.image ?? "",
    env: containerEnv(container),
    memoryLimitMib: memoryMib(container?.resources?.limits?.memory),
    cpuLimitCores: cpuCores(container?.resources?.limits?.cpu),
    deployedAt: epochMs(rs.metadata?.creationTimestamp),
    ...(changeCause !== undefined ? { changeCause } : {}),
  };
}

/** The name a set of labels gives its workload: `app`, else `app.kubernetes.io/name`. */
export function appName(labels: Record<string, string> | undefined): string | undefined {
  return labels?.app ?? labels?.["app.kubernetes.io/name"];
}

/**
 * A NetworkPolicy as the contract describes it, for the workload it selects: the `app` names its
 * ingress rules let in (`*` for a rule open to all, `namespace:<labels>` and `ipBlock:<cidr>` for
 * other peers); an empty list means all ingress is denied.
 */
export function networkPolicyState(policy: V1NetworkPolicy, selectedWorkload: string): NetworkPolicyState {
  const types = policy.spec?.policyTypes;
  const restrictsIngress = types === undefined || types.includes("Ingress");
  const allow = new Set<string>();
  if (!restrictsIngress) allow.add("*");
  else {
    for (const rule of policy.spec?.ingress ?? []) {
      if (rule._from === undefined || rule._from.length === 0) allow.add("*");
      for (const peer of rule._from ?? []) {
        if (peer.podSelector !== undefined) allow.add(appName(peer.podSelector.matchLabels) ?? "*");
        else if (peer.namespaceSelector !== undefined)
          allow.add(
            `namespace:${
              Object.entries(peer.namespaceSelector.matchLabels ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(",") || "*"
            }`,
          );
        else if (peer.ipBlock !== undefined) allow.add(`ipBlock:${peer.ipBlock.cidr}`);
      }
    }
  }
  return {
    name: policy.metadata?.name ?? "",
    podSelector: selectedWorkload,
    allowIngressFrom: [...allow].sort(),
    createdAt: epochMs(policy.metadata?.creationTimestamp),
    managedBy: managedByOf(policy.metadata),
    containment: containmentOf(policy.metadata?.name ?? "", policy.metadata),
  };
}
