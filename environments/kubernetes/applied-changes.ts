import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { AppliedChange } from "../adapter.js";
import { call } from "./api-errors.js";
import { findActionRecord } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { keptPoliciesInScope, policyDeleteApplied } from "./network-policies.js";
import { listWorkloads } from "./workloads.js";

/** Every object kind Suture writes its action records on, listed in one namespace. */
async function recordHolders(context: AdapterContext, namespace: string): Promise<Array<V1ObjectMeta | undefined>> {
  const { apis } = context;
  const [deployments, statefulSets, services, configMaps, policies, autoscalers] = await Promise.all([
    listWorkloads(apis, namespace, "Deployment"),
    listWorkloads(apis, namespace, "StatefulSet"),
    call({ verb: "list", group: "", resource: "services", namespace }, () => apis.core.listNamespacedService({ namespace })),
    call({ verb: "list", group: "", resource: "configmaps", namespace }, () => apis.core.listNamespacedConfigMap({ namespace })),
    call({ verb: "list", group: "networking.k8s.io", resource: "networkpolicies", namespace }, () => apis.networking.listNamespacedNetworkPolicy({ namespace })),
    call({ verb: "list", group: "autoscaling", resource: "horizontalpodautoscalers", namespace }, () => apis.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace })),
  ]);
  return [...deployments, ...statefulSets, ...services.items, ...configMaps.items, ...policies.items, ...autoscalers.items].map((o) => o.metadata);
}

/**
 * The change applied under a key, read from the cluster itself so a new process (after a crash)
 * sees what an earlier one did: the `suture.dev/actions` records on Deployments, StatefulSets,
 * Services, ConfigMaps, NetworkPolicies and HorizontalPodAutoscalers in scope, and the kept manifests of deleted
 * NetworkPolicies (applied only once the policy is really gone).
 */
export async function findAppliedChange(context: AdapterContext, key: string): Promise<AppliedChange | undefined> {
  for (const namespace of context.namespaces) {
    for (const meta of await recordHolders(context, namespace)) {
      const record = findActionRecord(meta, key);
      if (record !== undefined) return { idempotencyKey: record.key, operation: record.op, at: record.at };
    }
  }
  const kept = (await keptPoliciesInScope(context)).find((k) => k.key === key);
  if (kept !== undefined && (await policyDeleteApplied(context, kept))) return { idempotencyKey: key, operation: "deleteNetworkPolicy", at: kept.at };
  return undefined;
}
