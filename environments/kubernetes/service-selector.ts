import type { V1Service } from "@kubernetes/client-node";
import { InvalidInputError } from "../../domain/errors.js";
import { call, callOrMissing, KubernetesConflictError, type ApiRequest } from "./api-errors.js";
import { findActionRecord, recordActionOps, resourceVersionTest, type JsonPatchOp } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { describeObjectChange } from "./diff.js";
import { dryRunThenApply } from "./dry-run.js";
import { JSON_PATCH } from "./workloads.js";
import type { WorkloadRef } from "./workload-ref.js";
import { EnvironmentNotFoundError } from "../adapter.js";

function sameSelector(service: V1Service, selector: Record<string, string>): boolean {
  const current = service.spec?.selector ?? {};
  const keys = new Set([...Object.keys(current), ...Object.keys(selector)]);
  return [...keys].every((k) => current[k] === selector[k]);
}

/**
 * Sets the selector of a Service in the workload's namespace once per key (to point it back at
 * the workload's pods, or back to what it was as a rollback). Same discipline as every write:
 * resourceVersion precondition, the action recorded in the same patch, dry run first, and on a
 * 409 a fresh read decides whether someone else already did it.
 */
export async function setServiceSelector(context: AdapterContext, ref: WorkloadRef, kubeService: string, selector: Record<string, string>, key: string): Promise<void> {
  if (Object.keys(selector).length === 0) throw new InvalidInputError(`refusing to give Service ${ref.namespace}/${kubeService} an empty selector (it would select nothing, or be managed by hand)`);
  const namespace = ref.namespace;
  const request: ApiRequest = { verb: "patch", group: "", resource: "services", namespace, name: kubeService };
  const get = { ...request, verb: "get" as const };
  const read = await callOrMissing(get, () => context.apis.core.readNamespacedService({ name: kubeService, namespace }));
  if (read === undefined) throw new EnvironmentNotFoundError(`Service in namespace ${namespace}`, kubeService, []);
  if (findActionRecord(read.metadata, key) !== undefined || sameSelector(read, selector)) return;
  const ops: JsonPatchOp[] = [
    ...resourceVersionTest(read.metadata),
    { op: read.spec?.selector === undefined ? "add" : "replace", path: "/spec/selector", value: { ...selector } },
    ...recordActionOps(read.metadata, { key, op: "setServiceSelector", at: context.clock.now() }),
  ];
  const outcome = await dryRunThenApply(request, (dryRun) =>
    context.apis.core.patchNamespacedService({ name: kubeService, namespace, body: ops, fieldManager: context.fieldManager, ...(dryRun ? { dryRun: "All" } : {}) }, JSON_PATCH),
  );
  if (outcome.applied) return;
  const fresh = await call(get, () => context.apis.core.readNamespacedService({ name: kubeService, namespace }));
  if (findActionRecord(fresh.metadata, key) !== undefined || sameSelector(fresh, selector)) return;
  throw new KubernetesConflictError(request, describeObjectChange(read, fresh));
}
