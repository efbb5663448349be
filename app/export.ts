import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { z } from "zod";
import { AlertSchema } from "../domain/alerts/alert.js";
import { ToolObservationSchema } from "../domain/model.js";
import { formatZodError } from "../domain/problems.js";
import { alertsWithBodies } from "../store/alerts.js";
import { openWorldId } from "../store/environments.js";
import { observationsFor, restoreObservations } from "../store/observations.js";
import type { Suture } from "./suture.js";

/**
 * Version 2 writes each checkpoint's channel values only where they changed since the checkpoint
 * before it (with the channels that were dropped), as the checkpointer itself stores them;
 * version 1 (still read) repeated every value in every checkpoint.
 */
const FORMAT = "suture-incident-export/2";
const FORMAT_V1 = "suture-incident-export/1";

/** A self-contained incident: enough to replay its decisions on another machine. */
export const IncidentExportSchema = z.object({
  format: z.enum([FORMAT, FORMAT_V1]),
  exportedAt: z.string(),
  incident: z.object({
    id: z.string(),
    status: z.enum(["queued", "open", "running", "awaiting_approval", "verifying", "resolved", "escalated", "closed_no_action", "resolved_by_source", "dead_letter"]),
    scenario: z.string().nullable(),
    openedAt: z.string(),
    summary: z.string().nullable(),
  }),
  alerts: z.array(z.object({ source: z.string(), status: z.string(), rawBody: z.string(), normalized: AlertSchema })),
  actions: z.array(z.record(z.string(), z.unknown())),
  approvals: z.array(z.record(z.string(), z.unknown())),
  audit: z.array(z.record(z.string(), z.unknown())),
  /**
   * The world as the incident opened (a replay rebuilds any later moment from it and the recorded
   * actions); `latest`, the world when exported, only in version 1.
   */
  environment: z.object({ spec: z.unknown(), atOpen: z.unknown(), latest: z.unknown().default(null) }),
  /** The read-tool results the checkpoints refer to (stored once; a replay's are its origin's). */
  observations: z.array(ToolObservationSchema.extend({ incidentId: z.string(), perception: z.number().int(), seq: z.number().int() })).default([]),
  /** Every checkpoint of the thread, oldest first, as the checkpointer stores them. */
  checkpoints: z.array(
    z.object({
      checkpoint: z.record(z.string(), z.unknown()),
      metadata: z.record(z.string(), z.unknown()).optional(),
      parentId: z.string().nullable(),
      /** Channels the checkpoint before this one had and this one has not (version 2). */
      removedChannels: z.array(z.string()).default([]),
      pendingWrites: z.array(z.tuple([z.string(), z.string(), z.unknown()])),
    }),
  ),
});
/** An exported incident. */
export type IncidentExport = z.infer<typeof IncidentExportSchema>;

/** The incidents whose observations the checkpoints refer to: the incident itself and, for a replay, its origin. */
function referencedIncidents(incidentId: string, tuples: CheckpointTuple[]): Set<string> {
  const owners = new Set([incidentId]);
  for (const t of tuples) {
    const context = t.checkpoint.channel_values["context"] as { observationRefs?: string[] } | null | undefined;
    for (const ref of context?.observationRefs ?? []) owners.add(ref.slice(0, ref.lastIndexOf("#")));
  }
  return owners;
}

/** An export as the file `suture export` writes: compact JSON (it is for machines; `jq` shows it to people). */
export function exportText(data: IncidentExport): string {
  return `${JSON.stringify(data)}\n`;
}

/** Everything about one incident, as JSON. */
export async function exportIncident(suture: Suture, incidentId: string): Promise<IncidentExport> {
  const incident = await suture.store.getIncident(incidentId);
  const alerts = (await alertsWithBodies(suture.db.pool, incidentId)).map((a) => ({ ...a, normalized: AlertSchema.parse(a.normalized) }));
  const atOpen = await suture.store.loadEnvironment(openWorldId(incidentId));
  const tuples: CheckpointTuple[] = [];
  for await (const t of suture.checkpointer.list({ configurable: { thread_id: incidentId } })) tuples.push(t);
  tuples.reverse();
  const observations: IncidentExport["observations"] = [];
  for (const owner of referencedIncidents(incidentId, tuples)) {
    observations.push(...(await observationsFor(suture.db.pool, owner)).map(({ ref: _ref, ...o }) => ({ incidentId: owner, ...o })));
  }
  return {
    format: FORMAT,
    exportedAt: new Date().toISOString(),
    incident: { id: incident.id, status: incident.status, scenario: incident.scenario, openedAt: incident.opened_at.toISOString(), summary: incident.summary },
    alerts,
    actions: (await suture.store.actionsFor(incidentId)) as unknown as Array<Record<string, unknown>>,
    approvals: (await suture.store.approvalsFor(incidentId)) as unknown as Array<Record<string, unknown>>,
    audit: (await suture.store.auditFor(incidentId)) as unknown as Array<Record<string, unknown>>,
    environment: { spec: atOpen?.spec ?? null, atOpen: atOpen?.state ?? null, latest: null },
    observations,
    checkpoints: tuples.map((t, i) => {
      const before = tuples[i - 1]?.checkpoint;
      const values = t.checkpoint.channel_values;
      const changed = Object.fromEntries(
        Object.entries(values).filter(([channel]) => before === undefined || before.channel_versions[channel] !== t.checkpoint.channel_versions[channel] || !(channel in before.channel_values)),
      );
      return {
        checkpoint: { ...t.checkpoint, channel_values: changed },
        ...(t.metadata !== undefined ? { metadata: t.metadata } : {}),
        parentId: (t.parentConfig?.configurable?.["checkpoint_id"] as string | undefined) ?? null,
        removedChannels: before === undefined ? [] : Object.keys(before.channel_values).filter((channel) => !(channel in values)),
        pendingWrites: (t.pendingWrites ?? []).map(([task, channel, value]) => [task, channel, value] as [string, string, unknown]),
      };
    }),
  };
}

/**
 * Loads an exported incident into this database under its own id (once), so it can be shown,
 * its history listed and its decisions replayed. Returns the incident id.
 */
export async function importIncident(suture: Suture, data: unknown, source: string): Promise<string> {
  const parsed = IncidentExportSchema.safeParse(data);
  if (!parsed.success) throw new Error(formatZodError(parsed.error, `${source}: `));
  const e = parsed.data;
  const id = e.incident.id;
  const existing = await suture.store.getIncident(id).then(
    () => true,
    () => false,
  );
  if (existing) return id;
  const first = e.alerts[0];
  if (first === undefined) throw new Error(`${source}: alerts: expected the incident's alert`);
  await suture.store.createIncident({ id, alert: first.normalized, ...(e.incident.scenario !== null ? { scenario: e.incident.scenario } : {}), environmentId: id });
  for (const a of e.alerts) await suture.store.recordAlert({ incidentId: id, alert: a.normalized, rawBody: a.rawBody });
  await restoreObservations(suture.db.pool, e.observations);
  if (e.environment.atOpen !== null) await suture.store.saveEnvironment(openWorldId(id), "sim", e.environment.spec, e.environment.atOpen);
  if (e.environment.latest !== null) await suture.store.saveEnvironment(id, "sim", e.environment.spec, e.environment.latest);
  let values: Record<string, unknown> = {};
  for (const c of e.checkpoints) {
    const config = { configurable: { thread_id: id, checkpoint_ns: "", ...(c.parentId !== null ? { checkpoint_id: c.parentId } : {}) } };
    const stored = c.checkpoint as unknown as CheckpointTuple["checkpoint"];
    // Version 2 carries what changed: rebuild each checkpoint's values from the one before it.
    values = e.format === FORMAT_V1 ? stored.channel_values : { ...Object.fromEntries(Object.entries(values).filter(([channel]) => !c.removedChannels.includes(channel))), ...stored.channel_values };
    const checkpoint = { ...stored, channel_values: values };
    const saved = await suture.checkpointer.put(
      config,
      checkpoint,
      (c.metadata ?? { source: "input", step: -1, parents: {} }) as unknown as NonNullable<CheckpointTuple["metadata"]>,
      checkpoint.channel_versions,
    );
    const byTask = new Map<string, Array<[string, unknown]>>();
    for (const [task, channel, value] of c.pendingWrites) byTask.set(task, [...(byTask.get(task) ?? []), [channel, value]]);
    for (const [task, w] of byTask) await suture.checkpointer.putWrites(saved, w, task);
  }
  await suture.store.setIncidentStatus(id, e.incident.status, e.incident.summary ?? undefined);
  await suture.store.audit({ incidentId: id, actor: "suture", kind: "import", summary: `imported from ${source} (exported ${e.exportedAt})` });
  return id;
}
