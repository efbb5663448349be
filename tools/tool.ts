import type { z } from "zod";
import type { ToolCall } from "../domain/model.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";

/** How much harm a tool can do; policy thresholds are set per level. */
export type RiskLevel = "read" | "low" | "medium" | "high";

/** What a remediation tool changes, so blast radius and locks can be computed. */
export interface ToolTarget {
  /** The workload (service) the call acts on. */
  service: string;
  /** Kind of object changed, e.g. deployment, service, networkpolicy, configmap, topic, volume. */
  resource: string;
  /** Name of the object changed. */
  name: string;
}

/** How much of the system one call touches, for blast-radius rules. */
export interface ToolImpact {
  /** Every workload the change applies to (the target, plus others sharing the changed object). */
  workloads: string[];
  /** Replicas of the target the call takes out of service at the same time. */
  replicasOutAtOnce: number;
  /** The target's replicas before the call. */
  replicas: number;
  /** How the numbers were derived, for the verdict's reason. */
  note: string;
}

/** How far a call grows a resource of its target, for the policy's parameter bounds. */
export interface ToolGrowth {
  dimension: "replicas" | "memoryMib";
  from: number;
  to: number;
  /**
   * The count the workload ran with before it was scaled down to where it is now (read from the
   * cluster's ScalingReplicaSet event, never from a model): the base a restore is bounded against.
   */
  ranWith?: number;
}

/** Result of validating a call against live metadata (the target exists, values are in bounds). */
export type LiveValidation = { ok: true } | { ok: false; reason: string };

/**
 * A registered tool: data (name, schema, risk, settle interval) plus the function that runs it.
 * Remediation tools also say how to undo themselves from the observed before-state.
 */
export interface ToolDefinition<P extends Record<string, unknown> = Record<string, unknown>, R = unknown> {
  name: string;
  description: string;
  params: z.ZodType<P>;
  risk: RiskLevel;
  /** Seconds to wait after the call before judging its effect. */
  settleSeconds: number;
  /** Action class used to group strategies and compare with expectations (e.g. "rollback", "scale"). */
  actionClass: string;
  /** The object the call changes (remediation tools only). */
  target?(params: P): ToolTarget;
  /** Checks parameters against the environment as it is now. */
  validateLive?(params: P, env: EnvironmentAdapter): Promise<LiveValidation>;
  /** What the call touches: workloads and replicas out of service at once (remediation tools). */
  impact?(params: P, env: EnvironmentAdapter): Promise<ToolImpact>;
  /** How far the call grows its target (scaling up, raising a limit); undefined = it grows nothing. */
  growth?(params: P, env: EnvironmentAdapter): Promise<ToolGrowth>;
  /** Captures what the rollback will need before the call runs. */
  captureBefore?(params: P, env: EnvironmentAdapter): Promise<unknown>;
  /** The call that undoes this one, given the captured before-state; undefined if not reversible. */
  rollback?(params: P, before: unknown): ToolCall | undefined;
  run(params: P, env: EnvironmentAdapter, idempotencyKey: string): Promise<R>;
}

/**
 * Any tool definition, with its parameter type erased. Methods (not function properties) keep
 * parameters bivariant, so a `ToolDefinition<{ service: string }>` fits here without `any`.
 */
export type AnyToolDefinition = ToolDefinition<Record<string, unknown>, unknown>;
