import type { V1ConfigMap } from "@kubernetes/client-node";
import { InvalidInputError } from "../../domain/errors.js";
import { EnvironmentNotFoundError } from "../adapter.js";
import { call, KubernetesConflictError, type ApiRequest } from "./api-errors.js";
import { findActionRecord, recordActionOps, resourceVersionTest, type JsonPatchOp } from "./action-records.js";
import { sameData } from "../../domain/config-versions.js";
import { observeConfigMap, readConfigMap } from "./config-maps.js";
import type { AdapterContext } from "./context.js";
import { describeObjectChange } from "./diff.js";
import { dryRunThenApply } from "./dry-run.js";
import { JSON_PATCH } from "./workloads.js";
import { parseObjectName } from "./workload-ref.js";

/** Finds a ConfigMap by `name` (in the namespaces in scope, which must hold exactly one) or `namespace/name`. */
export async function findConfigMap(context: AdapterContext, text: string): Promise<V1ConfigMap> {
  const parsed = parseObjectName(text, "config map");
  const namespaces = parsed.namespace !== undefined ? [parsed.namespace] : context.namespaces;
  const found: V1ConfigMap[] = [];
  for (const namespace of namespaces) {
    const cm = await readConfigMap(context, namespace, parsed.name);
    if (cm !== undefined) found.push(cm);
  }
  const only = found[0];
  if (only === undefined) throw new EnvironmentNotFoundError("config map", text, [`(none named so in ${namespaces.join(", ")})`]);
  if (found.length > 1) throw new InvalidInputError(`config map "${text}" exists in ${found.map((c) => c.metadata?.namespace ?? "").join(", ")}; name it as namespace/name`);
  return only;
}

/**
 * Restores a ConfigMap's data to a version Suture recorded (Kubernetes keeps none): one JSON patch
 * replacing `data` with the resourceVersion precondition and the action's record; the new data is
 * recorded as the next version.
 */
export async function revertConfigMap(context: AdapterContext, text: string, toVersion: number, key: string): Promise<void> {
  const read = await findConfigMap(context, text);
  const namespace = read.metadata?.namespace ?? context.defaultNamespace;
  const name = read.metadata?.name ?? "";
  if (findActionRecord(read.metadata, key) !== undefined) return;
  // Record what is there now first, so this revert can itself be reverted.
  await observeConfigMap(context, read);
  const versions = await context.configHistory.versions(namespace, name);
  const target = versions.find((v) => v.version === toVersion);
  if (target === undefined)
    throw new EnvironmentNotFoundError(
      `recorded version of config map ${namespace}/${name}`,
      String(toVersion),
      versions.map((v) => String(v.version)),
    );
  if (target.redacted)
    throw new InvalidInputError(
      `version ${toVersion} of config map ${namespace}/${name} held secret-looking values, which Suture never stores; it cannot be written back (revert it by hand, or move the secret into a Secret)`,
    );
  if (sameData(read.data ?? {}, target.data)) return;
  const request: ApiRequest = { verb: "patch", group: "", resource: "configmaps", namespace, name };
  const ops: JsonPatchOp[] = [
    ...resourceVersionTest(read.metadata),
    { op: "add", path: "/data", value: target.data },
    ...recordActionOps(read.metadata, { key, op: "revertConfigMap", at: context.clock.now() }),
  ];
  const outcome = await dryRunThenApply(request, (dryRun) =>
    context.apis.core.patchNamespacedConfigMap({ name, namespace, body: ops, fieldManager: context.fieldManager, ...(dryRun ? { dryRun: "All" } : {}) }, JSON_PATCH),
  );
  if (outcome.applied) {
    await observeConfigMap(context, outcome.value);
    return;
  }
  const fresh = await call({ ...request, verb: "get" }, () => context.apis.core.readNamespacedConfigMap({ name, namespace }));
  if (findActionRecord(fresh.metadata, key) !== undefined || sameData(fresh.data ?? {}, target.data)) return;
  throw new KubernetesConflictError(request, describeObjectChange(read, fresh));
}
