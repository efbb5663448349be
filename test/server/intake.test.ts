import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { startService, type RunningService, type ServiceOptions } from "../../interfaces/service.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { alertmanagerBody, badRolloutWorld, pagerDutyBody, post, waitFor, writeFleet } from "../helpers/fleet.js";

const APPROVER = "alice:approve-token-0123456789:approve";
const READER = "grafana:read-only-token-0123456789:read";

describe.each(testBackends())("alert intake over HTTP with workers, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;
  let service: RunningService | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await service?.close();
    service = undefined;
    await pd?.cleanup();
    pd = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function start(options: Omit<ServiceOptions, "serve"> & { serve?: boolean }, worlds: Array<Record<string, unknown>>): Promise<RunningService> {
    pd ??= await backend.forProcesses();
    dir ??= await mkdtemp(path.join(os.tmpdir(), "suture-fleet-"));
    const config = loadConfig({ ...process.env, ...pd.env, SUTURE_API_TOKENS: `${APPROVER},${READER}` });
    const { serve = true, ...rest } = options;
    return startService(config, { ...rest, migrate: true, ...(serve ? { serve: { host: "127.0.0.1", port: 0, fleetFile: await writeFleet(dir, worlds) } } : {}) });
  }

  async function statusOf(s: RunningService, id: string): Promise<string> {
    return (await s.suture.store.getIncident(id)).status;
  }

  it("resolves real Alertmanager v4 and PagerDuty v2 alerts through a worker, and stores every body verbatim", async () => {
    // Given a server with one worker and two simulated worlds with a bad rollout each
    service = await start({ worker: { concurrency: 2 } }, [badRolloutWorld("alpha", "alpha"), badRolloutWorld("beta", "beta", "web", 9)]);
    const url = service.url!;
    // When Alertmanager and PagerDuty post their notifications
    const am = alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "alpha" });
    const amRaw = JSON.stringify(am, null, 2);
    const r1 = await post(`${url}/v1/alerts/alertmanager`, amRaw);
    const r2 = await post(`${url}/v1/alerts/pagerduty`, pagerDutyBody({ action: "trigger", dedupKey: "beta-web-not-ready", service: "web", namespace: "beta" }));
    expect(r1.status).toBe(202);
    expect(r2.status).toBe(202);
    expect(r2.body["status"]).toBe("success");
    const amIncident = (r1.body["alerts"] as Array<{ incidentId: string; disposition: string }>)[0]!;
    const pdIncident = String(r2.body["incident_id"]);
    expect(amIncident.disposition).toBe("opened");
    // Then both incidents resolve through the worker with one rollout undo each
    const s = service;
    await waitFor(async () => (await statusOf(s, amIncident.incidentId)) === "resolved" && (await statusOf(s, pdIncident)) === "resolved", 30_000, "both incidents to resolve");
    // (the status is written inside verify; its checkpoint lands when the job finishes)
    await waitFor(async () => (await s.queue.depth()).every((d) => d.state === "completed"), 15_000, "the jobs to complete");
    for (const id of [amIncident.incidentId, pdIncident]) {
      const actions = await s.suture.store.actionsFor(id);
      expect(actions.map((a) => [a.tool, a.status])).toEqual([["rollout_undo", "succeeded"]]);
    }
    // And the request body was stored exactly as sent
    const stored = await s.suture.db.pool.query<{ raw_body: string }>("SELECT raw_body FROM intake_requests WHERE source = 'alertmanager'");
    expect(stored.rows.map((r) => r.raw_body)).toEqual([amRaw]);
    // And a repeat of the PagerDuty trigger after resolution opens nothing new while a resolve is stored
    const resolve = await post(`${url}/v1/alerts/pagerduty`, pagerDutyBody({ action: "resolve", dedupKey: "beta-web-not-ready", service: "web", namespace: "beta" }));
    expect(resolve.status).toBe(202);
    // And the API lists and explains them
    const list = (await (await fetch(`${url}/v1/incidents?status=resolved`, { headers: { authorization: "Bearer read-only-token-0123456789" } })).json()) as { incidents: unknown[] };
    expect(list.incidents).toHaveLength(2);
    const detail = (await (await fetch(`${url}/v1/incidents/${pdIncident}`, { headers: { authorization: "Bearer read-only-token-0123456789" } })).json()) as {
      timeline: Array<{ node: string }>;
      brief: unknown;
    };
    expect(detail.timeline.map((t) => t.node)).toContain("verify");
    expect(detail.brief).not.toBeNull();
    const history = (await (await fetch(`${url}/v1/incidents/${pdIncident}/history`, { headers: { authorization: "Bearer read-only-token-0123456789" } })).json()) as {
      steps: Array<{ node: string }>;
    };
    expect(history.steps.map((h) => h.node)).toEqual(expect.arrayContaining(["perceive", "diagnose", "policy-check", "act", "verify"]));
    // And /metrics counts what happened
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/suture_alerts_received_total\{source="alertmanager",status="firing"\} 1/);
    expect(metrics).toMatch(/suture_incidents\{status="resolved"\} 2/);
    expect(metrics).toMatch(/suture_actions\{tool="rollout_undo",kind="remediation",result="succeeded"\} 2/);
    expect(metrics).toMatch(/suture_node_duration_seconds_count\{node="verify"\} 2/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it("closes a queued incident when its source reports it resolved, and never acts on it", async () => {
    // Given intake with no worker running, and a firing alert queued
    service = await start({}, [badRolloutWorld("alpha", "alpha")]);
    const firing = await post(`${service.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "alpha" }));
    const id = (firing.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
    expect(await statusOf(service, id)).toBe("queued");
    // When the same alert arrives resolved
    const resolved = await post(`${service.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "alpha", status: "resolved" }));
    expect((resolved.body["alerts"] as Array<{ disposition: string }>)[0]!.disposition).toBe("closed");
    expect(await statusOf(service, id)).toBe("resolved_by_source");
    await service.close();
    // And a worker later takes the queued job
    service = await start({ serve: false, worker: { concurrency: 1 } }, []);
    const s = service;
    await waitFor(async () => (await s.queue.depth()).every((d) => d.state !== "created" && d.state !== "active"), 15_000, "the queued job to be taken");
    // Then nothing was executed and the incident stays closed by its source
    expect(await statusOf(s, id)).toBe("resolved_by_source");
    expect(await s.suture.store.actionsFor(id)).toEqual([]);
    const audit = await s.suture.store.auditFor(id);
    expect(audit.map((a) => a.kind)).toEqual(["opened", "resolved_by_source"]);
  });

  it("approvals over HTTP need an approver's token; the decision resumes the incident through the queue", async () => {
    // Given a paused incident: deleting a network policy needs a human under the default policy
    service = await start({ worker: { concurrency: 1 } }, [
      { name: "edge", namespace: "edge", scenario: path.join(ROOT, "data", "scenarios", "network-policy-blocks-callers.yaml") },
      { name: "edge2", namespace: "edge2", scenario: path.join(ROOT, "data", "scenarios", "network-policy-blocks-callers.yaml") },
    ]);
    const s = service;
    const url = s.url!;
    const open = async (ns: string): Promise<string> => {
      const r = await post(`${url}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "HighLatencyP99", service: "checkout", namespace: ns }));
      const id = (r.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
      await waitFor(async () => (await statusOf(s, id)) === "awaiting_approval", 30_000, `${id} to pause for approval`);
      return id;
    };
    const id = await open("edge");
    // When someone without a token, with a wrong token, or with a read-only token tries to approve
    const none = await post(`${url}/v1/incidents/${id}/approve`, {});
    const wrong = await post(`${url}/v1/incidents/${id}/approve`, {}, { authorization: "Bearer not-a-real-token-at-all" });
    const reader = await post(`${url}/v1/incidents/${id}/approve`, {}, { authorization: "Bearer read-only-token-0123456789" });
    // Then they are refused and nothing changes
    expect([none.status, wrong.status, reader.status]).toEqual([401, 401, 403]);
    expect(String(reader.body["error"])).toContain("grafana may read incidents but not approve");
    expect(await statusOf(s, id)).toBe("awaiting_approval");
    expect((await s.suture.store.latestApproval(id))?.decision).toBeNull();
    // When the approver approves
    const ok = await post(`${url}/v1/incidents/${id}/approve`, { note: "checked with the network team" }, { authorization: "Bearer approve-token-0123456789" });
    expect(ok.status).toBe(202);
    // Then a worker resumes it from its checkpoint and it resolves, with the approver on record
    await waitFor(async () => (await statusOf(s, id)) === "resolved", 30_000, "the approved incident to resolve");
    expect((await s.suture.store.latestApproval(id))?.approver).toBe("alice");
    const again = await post(`${url}/v1/incidents/${id}/approve`, {}, { authorization: "Bearer approve-token-0123456789" });
    expect(again.status).toBe(409);

    // And a second paused incident whose source resolves it is closed without action
    const other = await open("edge2");
    const resolved = await post(`${url}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "HighLatencyP99", service: "checkout", namespace: "edge2", status: "resolved" }));
    expect((resolved.body["alerts"] as Array<{ disposition: string }>)[0]!.disposition).toBe("closed");
    expect(await statusOf(s, other)).toBe("resolved_by_source");
    expect(await s.suture.store.actionsFor(other)).toEqual([]);
    const late = await post(`${url}/v1/incidents/${other}/approve`, {}, { authorization: "Bearer approve-token-0123456789" });
    expect(late.status).toBe(409);
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/suture_approvals_pending 0/);
    // And Suture's own rates are exported, each with its anomaly verdict (-1: too few decisions to judge yet)
    expect(metrics).toMatch(/suture_self_rate\{metric="escalation_rate",window="current"\} [0-9.]+/);
    expect(metrics).toMatch(/suture_self_anomalous\{metric="rollback_rate"\} -1/);
  });

  it("dead-letters an incident whose job fails every retry, visibly in `suture incidents`", async () => {
    // Given a queued incident whose world disappeared before any worker ran it
    service = await start({ queueTiming: { retryLimit: 1 } }, [badRolloutWorld("alpha", "alpha")]);
    const r = await post(`${service.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "alpha" }));
    const id = (r.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
    await service.suture.db.pool.query("DELETE FROM fleet_routes");
    await service.suture.db.pool.query("DELETE FROM environments WHERE id = 'world:alpha'");
    await service.close();
    // When a worker tries it (and retries it with backoff)
    service = await start({ serve: false, worker: { concurrency: 1 }, queueTiming: { retryLimit: 1 } }, []);
    const s = service;
    await waitFor(async () => (await statusOf(s, id)) === "dead_letter", 30_000, "the incident to be dead-lettered");
    // Then it is dead-lettered with the error, nothing was executed, and the audit says so
    expect(await s.suture.store.actionsFor(id)).toEqual([]);
    expect((await s.suture.store.auditFor(id)).map((a) => a.kind)).toContain("dead_letter");
    await service.close();
    service = undefined;
    const listed = await runCli(["incidents"], pd!.env);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+dead_letter.*last error: attempt 2: shared world "world:alpha" is not in the database`));
    // And `suture retry` queues it again
    const retried = await runCli(["retry", id], pd!.env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain("queued again");
  }, 90_000);
});
