import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_BOUNDS } from "../../domain/alerts/bounds.js";
import type { RunningService } from "../../interfaces/service.js";
import { testBackends } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, pagerDutyBody, post, waitFor } from "../helpers/fleet.js";
import { startTestService, type TestService } from "../helpers/service.js";

const APPROVER_TOKEN = "approve-token-0123456789";

/** The same alert, with `service` as its workload, in each source's shape. */
function eachSource(service: string): Array<{ route: string; body: Record<string, unknown> }> {
  const am = alertmanagerBody({ alertname: "KubePodNotReady", service, namespace: "alpha" });
  const pd = pagerDutyBody({ action: "trigger", dedupKey: `k-${service.length}`, service: "api", namespace: "alpha" });
  ((pd["payload"] as Record<string, unknown>)["custom_details"] as Record<string, unknown>)["service"] = service;
  return [
    { route: "/v1/alerts/alertmanager", body: am },
    { route: "/v1/alerts/pagerduty", body: pd },
    { route: "/v1/alerts", body: { name: "KubePodNotReady", service, namespace: "alpha" } },
  ];
}

/** A raw HTTP/1.1 GET with one oversized header, answered before any route runs. */
function getWithHugeHeader(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "GET", headers: { "x-padding": "a".repeat(20_000) } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe.each(testBackends())("field bounds and error shapes, on $name", (backend) => {
  let t: TestService;
  let service: RunningService;

  beforeAll(async () => {
    t = await startTestService(backend, { worlds: [badRolloutWorld("alpha", "alpha")], env: { SUTURE_API_TOKENS: `alice:${APPROVER_TOKEN}:approve` } });
    service = t.service;
  });

  afterAll(async () => {
    await t.close();
  });

  it("accepts an Alertmanager or PagerDuty workload label past Kubernetes' bound and leaves its target unresolved, naming the label; refuses the generic field", async () => {
    // Given a workload name at the bound and one past it, in every source's shape
    const atBound = "w".repeat(ALERT_BOUNDS.identifier);
    const pastBound = "w".repeat(ALERT_BOUNDS.identifier + 1);
    // When each is posted
    const accepted = await Promise.all(eachSource(atBound).map((r) => post(`${service.url!}${r.route}`, r.body)));
    const past = await Promise.all(eachSource(pastBound).map((r) => post(`${service.url!}${r.route}`, r.body)));
    // Then the one at the bound is accepted everywhere; past it, a well-formed Alertmanager or PagerDuty
    // alert is still accepted (never refused) with its target unresolved, and Suture's own field is refused
    expect(accepted.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(past.map((r) => r.status)).toEqual([202, 202, 400]);
    expect(String(past[2]!.body["error"])).toBe(`service: expected a workload name of at most ${ALERT_BOUNDS.identifier} characters`);
    for (const r of past.slice(0, 2)) {
      const incidentId = String((r.body["alerts"] as Array<Record<string, unknown>> | undefined)?.[0]?.["incidentId"] ?? r.body["incident_id"]);
      const stored = await service.suture.db.pool.query<{ normalized: { target?: { state: string; reason?: string } } }>(
        "SELECT normalized FROM alerts WHERE incident_id = $1 ORDER BY id DESC LIMIT 1",
        [incidentId],
      );
      expect(stored.rows[0]?.normalized.target?.state).toBe("unresolved");
      expect(stored.rows[0]?.normalized.target?.reason).toMatch(/^label service="w+…" is not a Kubernetes object name$/);
    }
  });

  it("refuses a 500 KB PagerDuty custom detail instead of making it the incident's workload", async () => {
    // Given a PagerDuty trigger whose custom_details.service is 500 KB
    const pdBody = pagerDutyBody({ action: "trigger", dedupKey: "huge", service: "api", namespace: "alpha" });
    ((pdBody["payload"] as Record<string, unknown>)["custom_details"] as Record<string, unknown>)["service"] = "s".repeat(500_000);
    const before = await service.suture.store.listIncidents(1000);
    // When it is posted
    const res = await post(`${service.url!}/v1/alerts/pagerduty`, pdBody);
    // Then it is refused, naming the detail and its bound, and no incident was opened
    expect(res.status).toBe(400);
    expect(String(res.body["error"])).toBe(`payload.custom_details.service: expected a label value of at most ${ALERT_BOUNDS.labelValue} characters`);
    expect(await service.suture.store.listIncidents(1000)).toHaveLength(before.length);
  });

  it("lists every failing field of a bad body, up to ten", async () => {
    // Given a generic alert with three wrong fields, and one with fifteen unknown fields
    const three = await post(`${service.url!}/v1/alerts`, { name: "", service: 7, severity: "loud" });
    const many = await post(`${service.url!}/v1/alerts`, { name: "A", service: "b", ...Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`extra${i}`, i])) });
    // Then each failing field is named, not just the first
    expect(three.status).toBe(400);
    const error = String(three.body["error"]);
    expect(error).toMatch(/^name: /);
    expect(error).toContain("; service: ");
    expect(error).toContain("; severity: ");
    expect(many.status).toBe(400);
    expect(String(many.body["error"]).split("\n")).toHaveLength(1);
  });

  it("answers Fastify's and Node's own refusals in the documented one-line shape", async () => {
    // When the URL is badly encoded, a path segment is too long, or a header is too large
    const badEncoding = await fetch(`${service.url!}/v1/incidents/%ZZ`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } });
    const tooLong = await fetch(`${service.url!}/v1/incidents/${"a".repeat(300)}`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } });
    const hugeHeader = await getWithHugeHeader(`${service.url!}/healthz`);
    // Then each is a 4xx whose body is exactly {"error": "<one line>"}
    expect(badEncoding.status).toBe(400);
    expect(await badEncoding.json()).toEqual({ error: expect.stringMatching(/^path: /) as unknown });
    expect(tooLong.status).toBe(414);
    expect(await tooLong.json()).toEqual({ error: "path: a path segment is longer than 200 characters" });
    expect(hugeHeader.status).toBe(431);
    expect(JSON.parse(hugeHeader.body)).toEqual({ error: expect.stringMatching(/^headers: /) as unknown });
    // And the server still answers
    expect((await fetch(`${service.url!}/healthz`)).status).toBe(200);
  });

  it("refuses an approval whose set names __proto__ instead of dropping it", async () => {
    // Given an incident (any id: the body is checked first)
    const opened = await post(`${service.url!}/v1/alerts`, { name: "KubePodNotReady", service: "api", namespace: "alpha", fingerprint: "proto-test" });
    const id = (opened.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
    await waitFor(async () => (await service.suture.store.getIncident(id)).status === "queued", 5_000, "the incident to be queued");
    // When someone approves with set: {"__proto__": …}
    const res = await fetch(`${service.url!}/v1/incidents/${id}/approve`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${APPROVER_TOKEN}` },
      body: '{"set": {"__proto__": {"replicas": 40}}}',
    });
    // Then it is refused with 400 naming the key, and nothing was decided
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'set.__proto__: a key may not be named "__proto__"' });
    expect(await service.suture.store.approvalsFor(id)).toEqual([]);
  });
});
