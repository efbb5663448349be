import type { Queryable } from "./database.js";

/** Saves a simulated environment's snapshot. */
export async function saveEnvironment(q: Queryable, id: string, kind: string, spec: unknown, state: unknown): Promise<void> {
  await q.query(
    `INSERT INTO environments (id, kind, spec, state) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [id, kind, JSON.stringify(spec), JSON.stringify(state)],
  );
}

/** Loads a simulated environment's snapshot. */
export async function loadEnvironment(q: Queryable, id: string): Promise<{ kind: string; spec: unknown; state: unknown } | undefined> {
  const result = await q.query<{ kind: string; spec: unknown; state: unknown }>("SELECT kind, spec, state FROM environments WHERE id = $1", [id]);
  return result.rows[0];
}

/** The environment id of an incident's world as it was when the incident opened (kept for replays). */
export function openWorldId(incidentId: string): string {
  return `${incidentId}@open`;
}

/** Whether an environment row exists. */
export async function environmentExists(q: Queryable, id: string): Promise<boolean> {
  return (await q.query("SELECT 1 FROM environments WHERE id = $1", [id])).rows.length > 0;
}

/** Copies an environment row under another id (the world as an incident opened, for replays). */
export async function copyEnvironment(q: Queryable, from: string, to: string): Promise<void> {
  await q.query(`INSERT INTO environments (id, kind, spec, state) SELECT $2, kind, spec, state FROM environments WHERE id = $1`, [from, to]);
}

/** The fleet world that owns a workload, if any. */
export async function routeFor(q: Queryable, namespace: string, service: string): Promise<string | undefined> {
  const route = await q.query<{ environment_id: string }>("SELECT environment_id FROM fleet_routes WHERE namespace = $1 AND service = $2", [namespace, service]);
  return route.rows[0]?.environment_id;
}

/** The one fleet world with workloads in `namespace` (undefined when none or several have). */
export async function worldOfNamespace(q: Queryable, namespace: string): Promise<string | undefined> {
  const rows = await q.query<{ environment_id: string }>("SELECT DISTINCT environment_id FROM fleet_routes WHERE namespace = $1 LIMIT 2", [namespace]);
  return rows.rows.length === 1 ? rows.rows[0]?.environment_id : undefined;
}

/** The one fleet world with a workload of this name in any namespace (undefined when none or several have). */
export async function worldOfWorkloadName(q: Queryable, service: string): Promise<string | undefined> {
  const rows = await q.query<{ environment_id: string }>("SELECT DISTINCT environment_id FROM fleet_routes WHERE service = $1 LIMIT 2", [service]);
  return rows.rows.length === 1 ? rows.rows[0]?.environment_id : undefined;
}

/** Whose time a shared world keeps: its own simulated clock, or the wall clock it follows. */
export type WorldClockKind = "simulated" | "wall";

/** Stores a new fleet world and routes its workloads to it. */
export async function installWorld(
  q: Queryable,
  id: string,
  spec: unknown,
  state: unknown,
  workloads: Array<{ namespace: string; service: string }>,
  clock: WorldClockKind = "simulated",
): Promise<void> {
  await q.query("INSERT INTO environments (id, kind, spec, state, clock) VALUES ($1, 'sim', $2, $3, $4)", [id, JSON.stringify(spec), JSON.stringify(state), clock]);
  for (const w of workloads) {
    await q.query("INSERT INTO fleet_routes (namespace, service, environment_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [w.namespace, w.service, id]);
  }
}

/** A shared world's version (locked for the caller's transaction when `lock`), or undefined when it is not stored. */
export async function worldVersion(q: Queryable, id: string, lock: boolean): Promise<string | undefined> {
  const head = await q.query<{ version: string }>(`SELECT version::text AS version FROM environments WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [id]);
  return head.rows[0]?.version;
}

/** A shared world's stored state. */
export async function worldState(q: Queryable, id: string): Promise<unknown> {
  return (await q.query<{ state: unknown }>("SELECT state FROM environments WHERE id = $1", [id])).rows[0]?.state;
}

/** Saves a shared world's state as its next version; returns the version. */
export async function saveWorldState(q: Queryable, id: string, state: unknown): Promise<string> {
  const saved = await q.query<{ version: string }>("UPDATE environments SET state = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version::text AS version", [
    id,
    JSON.stringify(state),
  ]);
  return saved.rows[0]?.version ?? "";
}

/** A shared world's clock kind (undefined when the world is not stored). */
export async function worldClock(q: Queryable, id: string): Promise<WorldClockKind | undefined> {
  const row = await q.query<{ clock: WorldClockKind }>("SELECT clock FROM environments WHERE id = $1", [id]);
  return row.rows[0]?.clock;
}
