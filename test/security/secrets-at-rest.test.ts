import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.js";
import { exportIncident } from "../../app/export.js";
import { runScenario } from "../../app/scenario-run.js";
import type { RunningService } from "../../interfaces/service.js";
import { testBackends } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, pagerDutyBody, post, waitFor } from "../helpers/fleet.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { shippedScenario } from "../helpers/suture.js";

/** The secret values the credential-leak world prints into its logs, and the ones these tests put into alerts. */
const SECRETS = ["Xk29fPq7LmZ2wQ", "AKIAIOSFODNN7EXAMPLE", "Sup3rS3cretVal", "pd-T0k3n-9f8e7d6c5b4a", "Bearer-0123456789abcdefXYZ"];

/** Every row of every table Suture (and pg-boss, and the checkpointer) writes, as text; bytea decoded as UTF-8. */
async function everyTableAsText(db: Database): Promise<Map<string, string>> {
  const tables = await db.pool.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const out = new Map<string, string>();
  for (const t of tables.rows) {
    const rows = await db.pool.query<Record<string, unknown>>(`SELECT * FROM "${t.schema}"."${t.name}"`);
    // Buffer.toJSON would turn bytea into a list of numbers before a replacer sees it: decode first.
    const decoded = rows.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : v])));
    out.set(`${t.schema}.${t.name}`, JSON.stringify(decoded));
  }
  return out;
}

/** Where each secret was found: `table: secret`. */
function leaks(texts: Map<string, string>): string[] {
  return [...texts].flatMap(([where, text]) => SECRETS.filter((s) => text.includes(s)).map((s) => `${where}: ${s}`));
}

describe.each(testBackends())("secrets at rest, on $name", (backend) => {
  let t: TestService;
  let service: RunningService;

  beforeAll(async () => {
    t = await startTestService(backend, { worlds: [badRolloutWorld("alpha", "alpha")], worker: { concurrency: 1, expiryIntervalMs: 0 } });
    service = t.service;
  });

  afterAll(async () => {
    await t.close();
  });

  it("stores no secret value anywhere after the credential-leak incident, its export, and alerts that carry secrets", async () => {
    // Given the credential-leak scenario, whose alert also quotes a password in its description
    const scenario = await shippedScenario("credential-leak-in-logs");
    const withSecretAnnotation = {
      ...scenario,
      alerts: scenario.alerts.map((a) => ({ ...a, annotations: { ...a.annotations, description: "login as svc_reporting failed; db_password=Sup3rS3cretVal" } })),
    };
    // When Suture handles it
    const run = await runScenario(service.suture, withSecretAnnotation);
    // Then it still recognises the leak (escalated as a security incident, naming the kinds of secret)
    expect(run.state.outcome?.status).toBe("escalated");
    const exposures = (run.state.context?.evidence ?? []).filter((e) => e.key === "log.secret_exposure").map((e) => e.value);
    expect(exposures).toEqual(expect.arrayContaining(["aws-access-key", "key-value-secret"]));
    // And when alerts with secrets in annotations and custom details come in over HTTP, and the incident is exported
    const am = alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "alpha" });
    (am["alerts"] as Array<{ annotations: Record<string, string> }>)[0]!.annotations["description"] = "pods log: auth_token=Bearer-0123456789abcdefXYZ rejected";
    const pd1 = pagerDutyBody({ action: "trigger", dedupKey: "pd-secret", service: "api", namespace: "alpha" });
    ((pd1["payload"] as Record<string, unknown>)["custom_details"] as Record<string, unknown>)["api_key"] = "pd-T0k3n-9f8e7d6c5b4a";
    expect((await post(`${service.url!}/v1/alerts/alertmanager`, am)).status).toBe(202);
    expect((await post(`${service.url!}/v1/alerts/pagerduty`, pd1)).status).toBe(202);
    const s = service;
    await waitFor(async () => (await s.suture.store.listIncidents(100)).every((i) => !["queued", "open", "running"].includes(i.status)), 60_000, "every incident to finish");
    const exported = `${JSON.stringify(await exportIncident(service.suture, run.incidentId), null, 2)}\n`;

    // Then no table (checkpoint blobs and writes decoded) holds any secret value
    expect(leaks(await everyTableAsText(service.suture.db))).toEqual([]);
    // And neither does the export, nor any notification
    expect(SECRETS.filter((secret) => exported.includes(secret))).toEqual([]);
    const notifications = await readFile(path.join(t.pd.env["SUTURE_HOME"]!, "notifications.jsonl"), "utf8").catch(() => "");
    expect(notifications).not.toBe("");
    expect(SECRETS.filter((secret) => notifications.includes(secret))).toEqual([]);
    // And the redaction says what kind of secret was there
    expect(exported).toContain("[REDACTED]");
  }, 120_000);
});
