import type { Alert } from "../domain/alerts/alert.js";
import { describeTarget, TargetMappingSchema, WORKLOAD_TARGET_KINDS, type AlertTarget, type TargetMapping } from "../domain/alerts/target.js";
import { InvalidFileError, loadYamlFile } from "../domain/yaml.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";

/** Thrown for an unreadable or invalid `SUTURE_ALERT_TARGETS` file (the message names line and field). */
export class InvalidTargetMappingError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "alert-targets", file);
    this.name = "InvalidTargetMappingError";
  }
}

/** Reads the explicit alert-target mapping (`SUTURE_ALERT_TARGETS`, docs/alert-targets.md). */
export async function loadTargetMapping(file: string): Promise<TargetMapping> {
  return (await loadYamlFile(file, { kind: "alert-targets", schema: TargetMappingSchema, error: InvalidTargetMappingError, empty: { targets: [] } })).data;
}

/**
 * The incident's alert with its target looked up in its world (a pod to its owner, an HPA to what
 * it scales…): a workload's alert names it in `service` and `namespace`; any other target is kept
 * with the reason, and the graph escalates it without reading or changing anything. An alert
 * stored before targets existed names its workload in `service` and is returned as it is. A lookup
 * that fails (the API refused, the pod is gone) leaves the target unresolved with what failed;
 * nothing is guessed.
 */
export async function resolveIncidentTarget(env: Pick<EnvironmentAdapter, "resolveAlertTarget">, alert: Alert): Promise<Alert> {
  const target = alert.target;
  if (target === undefined) return alert;
  let resolved: AlertTarget;
  if (env.resolveAlertTarget === undefined) {
    resolved =
      target.state === "lookup"
        ? { ...target, state: "unresolved", reason: `${target.reason ?? `${target.kind ?? "the target"} needs a lookup`}, and this environment cannot look targets up` }
        : target;
  } else {
    try {
      resolved = await env.resolveAlertTarget(target);
    } catch (error) {
      resolved = { ...target, state: "unresolved", reason: `looking up ${describeTarget({ ...target, state: "resolved" })} failed: ${(error as Error).message}` };
    }
  }
  const workload = resolved.state === "resolved" && resolved.kind !== undefined && WORKLOAD_TARGET_KINDS.includes(resolved.kind);
  return { ...alert, ...(workload ? { service: resolved.name ?? alert.service, namespace: resolved.namespace ?? alert.namespace } : {}), target: resolved };
}

/** One line for the audit log: how the target was found. */
export function describeResolution(before: AlertTarget, after: AlertTarget): string {
  const from = after.from ?? (before.kind !== after.kind || before.name !== after.name ? describeTarget(before) : undefined);
  return `target ${describeTarget(after)}${from !== undefined ? ` (from ${from})` : ""}, read from label${after.via.includes("+") ? "s" : ""} ${after.via}`;
}
