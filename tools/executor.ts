import { createHash } from "node:crypto";
import type { ActionRow, IncidentStore } from "../db/incident-store.js";
import type { EnvironmentAdapter } from "./environment.js";
import type { ToolRegistry } from "./registry.js";
import type { ToolCall } from "./tool.js";

/** Stable JSON: object keys sorted, so equal calls hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

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
}

/**
 * Runs a tool call at most once per idempotency key: registers the action (and, for a
 * remediation, the rollback computed from the captured before-state) before executing, and
 * checks both the actions table and the environment before running it again after a crash.
 */
export async function executeOnce(
  request: ExecutionRequest,
  services: { tools: ToolRegistry; env: EnvironmentAdapter; store: IncidentStore },
): Promise<ExecutionResult> {
  const { tools, env, store } = services;
  const existing = await store.findActionByKey(request.key);
  if (existing !== undefined && (existing.status === "succeeded" || existing.status === "failed")) {
    return { action: existing, executedNow: false, ...(existing.error ? { error: existing.error } : {}) };
  }
  const tool = tools.get(request.call.tool);
  const parsed = tools.parseCall(request.call);
  if (!parsed.ok) throw new Error(`refusing to execute ${request.call.tool}: ${parsed.error}`);
  let action = existing;
  if (action === undefined) {
    const before = tool.captureBefore ? await tool.captureBefore(parsed.params, env) : undefined;
    const rollbackCall = request.kind === "remediation" ? (tool.rollback?.(parsed.params, before) ?? null) : null;
    action = await store.registerAction({
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
    });
  }
  if (action.status === "executing" && (await env.appliedChange(request.key)) !== undefined) {
    // The process died after the environment applied the change but before we recorded it.
    await store.markFinished(action.id, "succeeded");
    return { action: { ...action, status: "succeeded" }, executedNow: false };
  }
  await store.markExecuting(action.id);
  try {
    await tool.run(parsed.params, env, request.key);
  } catch (error) {
    const message = (error as Error).message;
    await store.markFinished(action.id, "failed", message);
    return { action: { ...action, status: "failed", error: message }, executedNow: true, error: message };
  }
  await store.markFinished(action.id, "succeeded");
  return { action: { ...action, status: "succeeded" }, executedNow: true };
}
