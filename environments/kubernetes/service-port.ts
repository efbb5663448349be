import type { V1Service } from "@kubernetes/client-node";
import { InvalidInputError } from "../../domain/errors.js";
import { call, KubernetesConflictError, type ApiRequest } from "./api-errors.js";
import { findActionRecord, recordActionOps, resourceVersionTest, type JsonPatchOp } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { servicesSelecting } from "./describe.js";
import { describeObjectChange } from "./diff.js";
import { dryRunThenApply } from "./dry-run.js";
import { JSON_PATCH, readWorkload } from "./workloads.js";
import type { WorkloadRef } from "./workload-ref.js";

/** The one Service in front of a workload (its selector matches the pod template); several are ambiguous. */
export async function serviceOf(context: AdapterContext, ref: WorkloadRef): Promise<V1Service> {
  const workload = await readWorkload(context.apis, ref);
  const services = await servicesSelecting(context, ref.namespace, workload.spec?.template);
  const only = services[0];
  if (only === undefined) throw new InvalidInputError(`no Service in namespace ${ref.namespace} selects the pods of ${ref.kind} ${ref.name}`);
  if (services.length > 1)
    throw new InvalidInputError(
      `${services.length} Services select the pods of ${ref.kind} ${ref.name} (${services.map((s) => s.metadata?.name ?? "").join(", ")}); Suture will not guess which one to re-target`,
    );
  return only;
}

function targetPortOf(service: V1Service): unknown {
  return service.spec?.ports?.[0]?.targetPort;
}

/** Points the first port of the workload's Service at `targetPort`, recorded on the Service. */
export async function patchServiceTargetPort(context: AdapterContext, ref: WorkloadRef, targetPort: number, key: string): Promise<void> {
  const read = await serviceOf(context, ref);
  const name = read.metadata?.name ?? "";
  const namespace = ref.namespace;
  const request: ApiRequest = { verb: "patch", group: "", resource: "services", namespace, name };
  if (findActionRecord(read.metadata, key) !== undefined || targetPortOf(read) === targetPort) return;
  if (read.spec?.ports?.[0] === undefined) throw new InvalidInputError(`Service ${namespace}/${name} has no port to re-target`);
  const ops: JsonPatchOp[] = [
    ...resourceVersionTest(read.metadata),
    { op: "replace", path: "/spec/ports/0/targetPort", value: targetPort },
    ...recordActionOps(read.metadata, { key, op: "patchServiceTargetPort", at: context.clock.now() }),
  ];
  const outcome = await dryRunThenApply(request, (dryRun) =>
    context.apis.core.patchNamespacedService({ name, namespace, body: ops, fieldManager: context.fieldManager, ...(dryRun ? { dryRun: "All" } : {}) }, JSON_PATCH),
  );
  if (outcome.applied) return;
  const fresh = await call({ ...request, verb: "get" }, () => context.apis.core.readNamespacedService({ name, namespace }));
  if (findActionRecord(fresh.metadata, key) !== undefined || targetPortOf(fresh) === targetPort) return;
  throw new KubernetesConflictError(request, describeObjectChange(read, fresh));
}
