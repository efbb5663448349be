import { DependencyTimeoutError } from "../domain/errors.js";
import { createHash } from "node:crypto";
import type { ActionRow, NewAction } from "../store/actions.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { Queryable } from "../store/database.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";
import type { ToolRegistry } from "./registry.js";
import { canonicalJson } from "../domain/json.js";
import type { ToolCall } from "../domain/model.js";

/** The idempotency key of one call within one incident step: same step + same call = same key. */
export function idempotencyKey(incidentId: string, step: string, call: ToolCall): string {
  const digest = createHash("sha256").update(canonicalJson(call)).digest("hex").slice(0, 12);
  return `${incidentId}:${step}:${call.tool}:${digest}`;
}

/** What executing (or finding already executed) a call produced. */
export interface ExecutionResult {
  action: ActionRow;
  /** False when the key had already run: nothing was executed this time. */
  executedNow: boolean;
  error?: string;
}

/** Inputs for running one remediation or rollback under an idempotency key. */
export interface ExecutionRequest {
  incidentId: string;
  attempt: number;
  kind: "remediation" | "rollback";
  call: ToolCall;
  key: string;
  beforeSignals?: unknown;
  rollbackOf?: number;
  /** Namespace of the workload acted on (policy counts actions per namespace). */
  namespace?: string;
  /** Environment time now, epoch ms (policy windows are in environment time). */
  envTime?: number;
}

/**
 * Registers a call before it runs: captures the before-state and the rollback computed from it,
 * and records both under the idempotency key (a no-op when the key is already registered).
 */
export async function registerCall(request: ExecutionRequest, services: { tools: ToolRegistry; env: EnvironmentAdapter; store: IncidentStore }, db?: Queryable): Promise<ActionRow> {
  return services.store.registerAction(await prepareRegistration(request, services), db);
}

/** The action row for a call, with the before-state and rollback read from the environment now. */
export async function prepareRegistration(request: ExecutionRequest, services: { tools: ToolRegistry; env: EnvironmentAdapter }): Promise<NewAction> {
  const { tools, env } = services;
  const tool = tools.get(request.call.tool);
  const parsed = tools.parseCall(request.call);
  if (!parsed.ok) throw new Error(`refusing to register ${request.call.tool}: ${parsed.error}`);
  const before = tool.captureBefore ? await tool.captureBefore(parsed.params, env) : undefined;
  const rollbackCall = request.kind === "remediation" ? (tool.rollback?.(parsed.params, before) ?? null) : null;
  return {
    incidentId: request.incidentId,
    attempt: request.attempt,
    kind: request.kind,
    tool: tool.name,
    params: parsed.params,
    risk: tool.risk,
    actionClass: tool.actionClass,
    ...(tool.target ? { targetService: tool.target(parsed.params).service } : {}),
    idempotencyKey: request.key,
    rollbackCall,
    ...(request.rollbackOf !== undefined ? { rollbackOf: request.rollbackOf } : {}),
    beforeSignals: request.beforeSignals,
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    ...(request.envTime !== undefined ? { envTime: request.envTime } : {}),
  };
}

/**
 * Runs a tool call at most once per idempotency key: registers the action (and, for a
 * remediation, the rollback computed from the captured before-state) before executing, and
 * checks both the actions table and the environment before running it again after a crash.
 */
export async function executeOnce(request: ExecutionRequest, services: { tools: ToolRegistry; env: EnvironmentAdapter; store: IncidentStore }): Promise<ExecutionResult> {
  const { tools, env, store } = services;
  const existing = await store.findActionByKey(request.key);
  if (existing !== undefined && (existing.status === "succeeded" || existing.status === "failed")) {
    return { action: existing, executedNow: false, ...(existing.error ? { error: existing.error } : {}) };
  }
  const tool = tools.get(request.call.tool);
  const parsed = tools.parseCall(request.call);
  if (!parsed.ok) throw new Error(`refusing to execute ${request.call.tool}: ${parsed.error}`);
  let action = existing;
  if (action === undefined) action = await registerCall(request, services);
  else if (action.before_signals == null && request.beforeSignals !== undefined) await store.setBeforeSignals(action.id, request.beforeSignals);
  if (action.status === "executing" && (await env.appliedChange(request.key)) !== undefined) {
    // The process died after the environment applied the change but before we recorded it.
    await store.markFinished(action.id, "succeeded");
    return { action: { ...action, status: "succeeded" }, executedNow: false };
  }
  await store.markExecuting(action.id);
  try {
    await tool.run(parsed.params, env, request.key);
  } catch (error) {
    // A call that timed out may still have been applied: the environment's own record decides.
    if (error instanceof DependencyTimeoutError && (await appliedAfterTimeout(env, request.key)) !== undefined) {
      await store.markFinished(action.id, "succeeded");
      return { action: { ...action, status: "succeeded" }, executedNow: true };
    }
    const message = (error as Error).message;
    await store.markFinished(action.id, "failed", message);
    return { action: { ...action, status: "failed", error: message }, executedNow: true, error: message };
  }
  await store.markFinished(action.id, "succeeded");
  return { action: { ...action, status: "succeeded" }, executedNow: true };
}

/** The change a timed-out call applied after all, if the environment can tell; a failing check is "cannot tell". */
async function appliedAfterTimeout(env: EnvironmentAdapter, key: string): Promise<unknown> {
  try {
    return await env.appliedChange(key);
  } catch {
    return undefined;
  }
}
