import type { V1NetworkPolicy, V1ObjectMeta } from "@kubernetes/client-node";
import { z } from "zod";
import { InvalidInputError, NotFoundError } from "../../domain/errors.js";
import { EnvironmentNotFoundError, type NetworkPolicyState } from "../adapter.js";
import { AlreadyExistsError, apiStatusOf, call, callOrMissing, DryRunRejectedError, kubeRequestError, KubernetesConflictError, type ApiRequest } from "./api-errors.js";
import { ACTIONS_ANNOTATION, appendActionRecord, findActionRecord, resourceVersionTest, setAnnotationOps } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { describeDifferences } from "./diff.js";
import { dryRunOnly, dryRunThenApply, isStaleWrite } from "./dry-run.js";
import { selectorMatches } from "./selectors.js";
import { listWorkloads, patchWorkload, workloadRequest, type WorkloadObject } from "./workloads.js";
import { parseObjectName, type WorkloadKind, type WorkloadRef } from "./workload-ref.js";
import { fromWire, toWire } from "./wire.js";

/**
 * The annotation, on the workload a deleted NetworkPolicy selected, that keeps the policy's full
 * manifest: the contract's rollback carries only a summary ({@link NetworkPolicyState}), and a
 * restarted Suture must still be able to put the exact policy back. Suture may patch workloads but
 * not namespaces (deploy/kubernetes/rbac.yaml), so the selected workload is where it can write.
 */
export const DELETED_POLICIES_ANNOTATION = "suture.dev/deleted-network-policies";

/** How many deleted manifests a workload keeps (annotations share a 256 KiB budget per object). */
const MAX_KEPT_POLICIES = 5;

/** One deleted NetworkPolicy kept on a workload: the delete's key, when, and the manifest as API JSON. */
export interface KeptPolicy {
  key: string;
  at: number;
  /** uid of the deleted object: the delete is applied once no policy with this uid exists. */
  uid: string;
  manifest: Record<string, unknown>;
}

const KeptSchema = z.array(z.object({ key: z.string(), at: z.number(), uid: z.string(), manifest: z.record(z.string(), z.unknown()) }));

/** The manifests kept on a workload; an unreadable annotation reads as none. */
export function keptPolicies(meta: V1ObjectMeta | undefined): KeptPolicy[] {
  const text = meta?.annotations?.[DELETED_POLICIES_ANNOTATION];
  if (text === undefined) return [];
  try {
    const parsed = KeptSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** A policy as API JSON that can be created again: without server-assigned fields. */
export function recreatableManifest(policy: V1NetworkPolicy): Record<string, unknown> {
  const wire = toWire(policy, "V1NetworkPolicy") as { metadata?: Record<string, unknown>; status?: unknown };
  const metadata = { ...(wire.metadata ?? {}) };
  for (const field of ["uid", "resourceVersion", "managedFields", "creationTimestamp", "generation", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"]) delete metadata[field];
  const rest: Record<string, unknown> = { ...wire };
  delete rest.status;
  return { ...rest, apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata };
}

/** The request naming a verb on a NetworkPolicy. */
function policyRequest(verb: ApiRequest["verb"], namespace: string, name?: string): ApiRequest {
  return { verb, group: "networking.k8s.io", resource: "networkpolicies", namespace, ...(name !== undefined ? { name } : {}) };
}

/** The workloads (Deployments and StatefulSets) in scope, with their refs. */
async function workloadsInScope(context: AdapterContext, namespaces: string[]): Promise<Array<{ ref: WorkloadRef; workload: WorkloadObject }>> {
  const found: Array<{ ref: WorkloadRef; workload: WorkloadObject }> = [];
  for (const namespace of namespaces) {
    for (const kind of ["Deployment", "StatefulSet"] as WorkloadKind[]) {
      for (const workload of await listWorkloads(context.apis, namespace, kind)) found.push({ ref: { namespace, kind, name: workload.metadata?.name ?? "" }, workload });
    }
  }
  return found;
}

/** Every manifest kept in scope, newest first, with the workload holding it. */
export async function keptPoliciesInScope(context: AdapterContext, namespaces = context.namespaces): Promise<Array<KeptPolicy & { holder: WorkloadRef }>> {
  const all = (await workloadsInScope(context, namespaces)).flatMap(({ ref, workload }) => keptPolicies(workload.metadata).map((k) => ({ ...k, holder: ref })));
  return all.sort((a, b) => b.at - a.at);
}

/** Finds a NetworkPolicy by `name` (exactly one in scope) or `namespace/name`; undefined when there is none. */
async function findPolicy(context: AdapterContext, text: string): Promise<{ namespace: string; name: string; policy: V1NetworkPolicy | undefined }> {
  const parsed = parseObjectName(text, "network policy");
  const namespaces = parsed.namespace !== undefined ? [parsed.namespace] : context.namespaces;
  const found: V1NetworkPolicy[] = [];
  for (const namespace of namespaces) {
    const policy = await callOrMissing(policyRequest("get", namespace, parsed.name), () => context.apis.networking.readNamespacedNetworkPolicy({ name: parsed.name, namespace }));
    if (policy !== undefined) found.push(policy);
  }
  if (found.length > 1) throw new InvalidInputError(`network policy "${text}" exists in ${found.map((p) => p.metadata?.namespace ?? "").join(", ")}; name it as namespace/name`);
  const policy = found[0];
  return { namespace: policy?.metadata?.namespace ?? parsed.namespace ?? context.defaultNamespace, name: parsed.name, policy };
}

/**
 * Deletes a NetworkPolicy and keeps its manifest, in this order: the delete's dry run (RBAC and
 * admission, so a refused delete changes nothing), the manifest written to the first workload
 * (by kind and name) the policy selects (dry run, then for real), then the delete with uid and
 * resourceVersion preconditions. A crash after the manifest is kept but before the delete leaves
 * the policy in place; {@link policyDeleteApplied} then says "not applied" and the retry deletes it.
 */
export async function deleteNetworkPolicy(context: AdapterContext, text: string, key: string, keep: (manifest: Record<string, unknown>) => void): Promise<void> {
  const { namespace, name, policy } = await findPolicy(context, text);
  const kept = (await keptPoliciesInScope(context, [namespace])).find((k) => k.key === key);
  // This key's delete already took effect when the policy it kept is gone (even if one of that name was restored since).
  if (kept !== undefined && (policy === undefined || policy.metadata?.uid !== kept.uid)) return;
  if (policy === undefined) {
    const names = (await call(policyRequest("list", namespace), () => context.apis.networking.listNamespacedNetworkPolicy({ namespace }))).items.map((p) => p.metadata?.name ?? "");
    throw new EnvironmentNotFoundError(`network policy in namespace ${namespace}`, name, names);
  }
  const uid = policy.metadata?.uid ?? "";
  const resourceVersion = policy.metadata?.resourceVersion;
  const request = policyRequest("delete", namespace, name);
  const remove = (dryRun: boolean): Promise<unknown> =>
    context.apis.networking.deleteNamespacedNetworkPolicy({
      name,
      namespace,
      ...(dryRun ? { dryRun: "All" } : {}),
      body: { preconditions: { uid, ...(resourceVersion !== undefined ? { resourceVersion } : {}) } },
    });
  const stale = await dryRunOnly(request, () => remove(true));
  if (stale === undefined) {
    const manifest = recreatableManifest(policy);
    if (kept === undefined) await keepManifest(context, namespace, policy, { key, at: context.clock.now(), uid, manifest });
    keep(manifest);
    try {
      await remove(false);
      return;
    } catch (error) {
      const status = apiStatusOf(error);
      if (status?.code === 404) return;
      if (status === undefined || !isStaleWrite(status)) throw kubeRequestError(error, request);
    }
  }
  const fresh = await callOrMissing(policyRequest("get", namespace, name), () => context.apis.networking.readNamespacedNetworkPolicy({ name, namespace }));
  if (fresh === undefined || fresh.metadata?.uid !== uid) return;
  throw new KubernetesConflictError(
    request,
    `resourceVersion ${resourceVersion ?? "?"} → ${fresh.metadata?.resourceVersion ?? "?"}: ${describeDifferences(toWire(policy.spec, "V1NetworkPolicySpec"), toWire(fresh.spec, "V1NetworkPolicySpec"))}`,
  );
}

/** Writes a deleted policy's manifest to the first workload it selects (dry run first; re-read on a conflict). */
async function keepManifest(context: AdapterContext, namespace: string, policy: V1NetworkPolicy, record: KeptPolicy): Promise<void> {
  const name = policy.metadata?.name ?? "";
  // Bookkeeping on another object: re-reading and re-appending on a conflict loses nothing.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const holders = (await workloadsInScope(context, [namespace]))
      .filter(({ workload }) => selectorMatches(policy.spec?.podSelector, workload.spec?.template.metadata?.labels))
      .sort((a, b) => `${a.ref.kind}/${a.ref.name}`.localeCompare(`${b.ref.kind}/${b.ref.name}`));
    const holder = holders[0];
    if (holder === undefined) {
      throw new InvalidInputError(
        `refusing to delete NetworkPolicy ${namespace}/${name}: it selects no Deployment or StatefulSet to keep its manifest on, so it could not be restored; nothing was changed`,
      );
    }
    const meta = holder.workload.metadata;
    const value = JSON.stringify([...keptPolicies(meta).filter((k) => k.key !== record.key), record].slice(-MAX_KEPT_POLICIES));
    const ops = [...resourceVersionTest(meta), ...setAnnotationOps(meta, { [DELETED_POLICIES_ANNOTATION]: value })];
    const outcome = await dryRunThenApply(workloadRequest(holder.ref, "patch"), (dryRun) => patchWorkload(context.apis, holder.ref, ops, dryRun, context.fieldManager));
    if (outcome.applied) return;
  }
  throw new KubernetesConflictError(policyRequest("delete", namespace, name), "the workload to keep its manifest on kept changing; nothing was deleted");
}

/** True when a kept delete took effect: no policy with the deleted uid exists any more. */
export async function policyDeleteApplied(context: AdapterContext, kept: KeptPolicy & { holder: WorkloadRef }): Promise<boolean> {
  const metadata = kept.manifest.metadata as { name?: string } | undefined;
  const name = metadata?.name ?? "";
  const namespace = kept.holder.namespace;
  const current = await callOrMissing(policyRequest("get", namespace, name), () => context.apis.networking.readNamespacedNetworkPolicy({ name, namespace }));
  return current === undefined || current.metadata?.uid !== kept.uid;
}

/**
 * Re-creates a deleted NetworkPolicy exactly as it was: from the manifest this process kept, else
 * from the one kept on a workload in scope (so a restarted Suture can restore it too). The created
 * policy carries the action's record. A policy of that name already there counts as restored when
 * its spec equals the manifest's, and is a conflict otherwise.
 */
export async function restoreNetworkPolicy(context: AdapterContext, state: NetworkPolicyState, key: string, remembered: Record<string, unknown> | undefined): Promise<void> {
  const manifest = remembered ?? (await keptPoliciesInScope(context)).find((k) => (k.manifest.metadata as { name?: string } | undefined)?.name === state.name)?.manifest;
  if (manifest === undefined) {
    throw new NotFoundError(
      `no manifest of NetworkPolicy "${state.name}" was kept (Suture keeps one on the selected workload's ${DELETED_POLICIES_ANNOTATION} annotation when it deletes a policy); recreate it from source control — nothing was changed`,
    );
  }
  const metadata = { ...((manifest.metadata as Record<string, unknown> | undefined) ?? {}) } as { name?: string; namespace?: string; annotations?: Record<string, string> };
  const namespace = metadata.namespace ?? context.defaultNamespace;
  const name = metadata.name ?? state.name;
  const request = policyRequest("create", namespace, name);
  const existing = await callOrMissing(policyRequest("get", namespace, name), () => context.apis.networking.readNamespacedNetworkPolicy({ name, namespace }));
  if (existing !== undefined) return assertSameSpec(existing, manifest, key, request);
  const annotations = { ...(metadata.annotations ?? {}), [ACTIONS_ANNOTATION]: appendActionRecord(undefined, { key, op: "restoreNetworkPolicy", at: context.clock.now() }) };
  const body = fromWire<V1NetworkPolicy>({ ...manifest, metadata: { ...metadata, annotations } }, "V1NetworkPolicy");
  try {
    const outcome = await dryRunThenApply(request, (dryRun) =>
      context.apis.networking.createNamespacedNetworkPolicy({ namespace, body, fieldManager: context.fieldManager, ...(dryRun ? { dryRun: "All" } : {}) }),
    );
    if (outcome.applied) return;
  } catch (error) {
    // Created in between (by another Suture process or a person): compare it below.
    const exists = (error instanceof DryRunRejectedError && error.status.reason === "AlreadyExists") || error instanceof AlreadyExistsError;
    if (!exists) throw error;
  }
  const now = await call(policyRequest("get", namespace, name), () => context.apis.networking.readNamespacedNetworkPolicy({ name, namespace }));
  assertSameSpec(now, manifest, key, request);
}

/** A policy already present is the restored one when it carries the key or the manifest's spec; else a conflict. */
function assertSameSpec(existing: V1NetworkPolicy, manifest: Record<string, unknown>, key: string, request: ApiRequest): void {
  if (findActionRecord(existing.metadata, key) !== undefined) return;
  const want = JSON.parse(JSON.stringify(manifest.spec ?? {})) as unknown;
  const have = toWire(existing.spec, "V1NetworkPolicySpec");
  const differences = describeDifferences(want, have);
  if (differences === "no field Suture compares changed") return;
  throw new KubernetesConflictError(request, `a NetworkPolicy of that name exists with another spec: ${differences}`);
}
