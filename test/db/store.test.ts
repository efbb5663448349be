import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.js";
import { IncidentStore } from "../../store/incident-store.js";
import { UnknownIncidentError } from "../../store/incidents.js";
import { migrate } from "../../store/migrate.js";
import { makeAlert } from "../helpers/factories.js";
import { testBackends } from "../helpers/backends.js";

describe.each(testBackends())("database on $name", (backend) => {
  let db: Database;
  let store: IncidentStore;

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db);
    store = new IncidentStore(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it("applies migrations once and reports them as already applied afterwards", async () => {
    // Given a migrated database, when migrate runs again, then nothing is applied twice
    const again = await migrate(db);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBeGreaterThanOrEqual(1);
    const ext = await db.pool.query<{ extname: string }>("SELECT extname FROM pg_extension WHERE extname = 'vector'");
    expect(ext.rows).toHaveLength(1);
    const tables = await db.pool.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    const names = tables.rows.map((r) => r.tablename);
    for (const t of ["incidents", "alerts", "actions", "audit_log", "checkpoints", "checkpoint_writes"]) expect(names).toContain(t);
  });

  it("keeps the raw alert body verbatim", async () => {
    // Given a raw body with its own key order and spacing
    const alert = makeAlert();
    await store.createIncident({ id: `inc-raw-${backend.name}`, alert });
    const raw = '{ "version":"4",  "status":"firing", "alerts":[{"labels":{"z":"1","a":"2"}}] }';
    await store.recordAlert({ incidentId: `inc-raw-${backend.name}`, alert, rawBody: raw });
    // When read back, then it is byte-for-byte what was received
    const rows = await db.pool.query<{ raw_body: string }>("SELECT raw_body FROM alerts WHERE incident_id = $1", [`inc-raw-${backend.name}`]);
    expect(rows.rows[0]?.raw_body).toBe(raw);
  });

  it("registers an action once per idempotency key", async () => {
    // Given an incident and an action registered under a key
    const id = `inc-idem-${backend.name}`;
    await store.createIncident({ id, alert: makeAlert() });
    const action = {
      incidentId: id,
      attempt: 1,
      kind: "remediation" as const,
      tool: "rollout_undo",
      params: { service: "checkout", toRevision: 7 },
      risk: "medium",
      actionClass: "rollback",
      idempotencyKey: `${id}:attempt-1:rollout_undo:abc`,
    };
    const first = await store.registerAction(action);
    await store.markFinished(first.id, "succeeded");
    // When the same key is registered again (a resumed step)
    const second = await store.registerAction(action);
    // Then it is the same row, still succeeded, and only one row exists
    expect(second.id).toBe(first.id);
    expect(second.status).toBe("succeeded");
    expect(await store.actionsFor(id)).toHaveLength(1);
  });

  it("keeps the audit log append-only and writes a deduplicated entry once", async () => {
    const id = `inc-audit-${backend.name}`;
    await store.createIncident({ id, alert: makeAlert() });
    const entry = { incidentId: id, actor: "diagnose", kind: "diagnosis", summary: "round 1", dedupeKey: `${id}:diagnose:1` };
    await store.audit(entry);
    await store.audit(entry);
    expect(await store.auditFor(id)).toHaveLength(1);
    await expect(db.pool.query("UPDATE audit_log SET summary = 'changed' WHERE incident_id = $1", [id])).rejects.toThrow(/append-only/);
    await expect(db.pool.query("DELETE FROM audit_log WHERE incident_id = $1", [id])).rejects.toThrow(/append-only/);
  });

  it("names an unknown incident in its error", async () => {
    await expect(store.getIncident("inc-nope")).rejects.toThrow(UnknownIncidentError);
    await expect(store.getIncident("inc-nope")).rejects.toThrow(/unknown incident "inc-nope"/);
  });
});

describe("embedded database ownership", () => {
  it("refuses a second process while one holds the data directory, and lets it in afterwards", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const { openDatabase } = await import("../../store/database.js");
    const { runCli } = await import("../helpers/cli.js");
    const home = await mkdtemp(path.join(os.tmpdir(), "suture-lock-"));
    const env = { SUTURE_HOME: home, DATABASE_URL: "" };
    try {
      // Given this process holds the embedded database
      const held = await openDatabase({ dataDir: path.join(home, "pgdata") });
      await migrate(held);
      // When another process opens it, then it gets one clear line and changes nothing
      const refused = await runCli(["incidents"], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is in use by process \d+; stop it, or set DATABASE_URL/);
      // And once released, the other process gets in
      await held.close();
      const allowed = await runCli(["incidents"], env);
      expect(allowed.stdout).toContain("no incidents yet");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
