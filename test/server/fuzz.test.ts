import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { startService, type RunningService } from "../../interfaces/service.js";
import { Rng } from "../../environments/simulator/rng.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, pagerDutyBody, writeFleet } from "../helpers/fleet.js";

/** One malformed request: where it goes, its content type and its body. */
interface BadRequest {
  kind: string;
  route: string;
  contentType: string | undefined;
  body: string;
}

const ROUTES = ["/v1/alerts/alertmanager", "/v1/alerts/pagerduty", "/v1/alerts"] as const;

function validBody(route: string): Record<string, unknown> {
  if (route === "/v1/alerts/pagerduty") return pagerDutyBody({ action: "trigger", dedupKey: "k", service: "api", namespace: "alpha" });
  if (route === "/v1/alerts") return { name: "KubePodNotReady", service: "api", namespace: "alpha", status: "firing", labels: { team: "core" } };
  return alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "alpha" });
}

/** Every path to a leaf or object in a JSON value. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== "object") return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setAt(root: unknown, at: Array<string | number>, replace: (old: unknown) => unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  if (at.length === 0) return replace(copy);
  let node = copy;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  const next = replace(node[last]);
  if (next === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = next;
  return copy;
}

/** Values of the wrong type for whatever was there. */
function wrongType(rng: Rng, old: unknown): unknown {
  const options: unknown[] = [42, -1.5, true, null, [], [1, 2], {}, { nested: { x: 1 } }, "", "text"];
  const candidates = options.filter((o) => typeof o !== typeof old || Array.isArray(o) !== Array.isArray(old) || (o === null) !== (old === null));
  return pick(rng, candidates);
}

/** A JSON text nested `depth` objects deep (built as text: serializing it would need the stack it tests). */
function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}"x"${"}".repeat(depth)}`;
}

/** Generates `count` malformed requests of every kind, deterministically. */
function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(0, items.length - 1)] as T;
}

function badRequests(count: number, seed: number): BadRequest[] {
  const rng = new Rng(seed);
  const out: BadRequest[] = [];
  const kinds = ["invalid-json", "wrong-content-type", "wrong-type", "missing-field", "huge-string", "deep-nesting", "not-an-object", "oversized-body"] as const;
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!;
    const route = pick(rng, [...ROUTES]);
    const valid = validBody(route);
    const json = JSON.stringify(valid);
    let body: string;
    let contentType: string | undefined = "application/json";
    switch (kind) {
      case "invalid-json": {
        const cut = rng.int(0, json.length - 1);
        body = pick(rng, [json.slice(0, cut), `${json.slice(0, -1)},}`, `${json.slice(0, -1)}}}`, `{'single': 'quotes'}`, `${json}garbage`, "\u0000\u0001\u0002", `{"a":1,}`, "undefined", "NaN"]);
        break;
      }
      case "wrong-content-type":
        contentType = pick(rng, ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", undefined]);
        body = pick(rng, [json, "a=1&b=2", "<alert/>"]);
        break;
      case "wrong-type": {
        const at = pick(
          rng,
          paths(valid).filter(
            (p) =>
              p.length > 0 && !(p.length === 3 && (p[1] === "custom_details" || p[1] === "labels" || p[1] === "annotations")) && !(p[0] === "labels" || p[0] === "annotations" || p[0] === "images"),
          ),
        );
        body = JSON.stringify(setAt(valid, at, (old) => wrongType(rng, old)));
        break;
      }
      case "missing-field": {
        const required =
          route === "/v1/alerts/alertmanager"
            ? [["version"], ["groupKey"], ["status"], ["receiver"], ["alerts"], ["alerts", 0, "status"], ["alerts", 0, "labels"], ["alerts", 0, "startsAt"]]
            : route === "/v1/alerts/pagerduty"
              ? [["routing_key"], ["event_action"], ["payload"], ["payload", "summary"], ["payload", "source"], ["payload", "severity"]]
              : [["name"]];
        body = JSON.stringify(setAt(valid, pick(rng, required), () => undefined));
        break;
      }
      case "huge-string": {
        const huge = "x".repeat(rng.int(70_000, 400_000));
        const at =
          route === "/v1/alerts/alertmanager"
            ? pick(rng, [["alerts", 0, "labels", "service"], ["alerts", 0, "annotations", "description"], ["groupKey"], ["commonLabels", "alertname"]])
            : route === "/v1/alerts/pagerduty"
              ? pick(rng, [["payload", "summary"], ["dedup_key"], ["routing_key"]])
              : pick(rng, [["name"], ["summary"], ["service"]]);
        body = JSON.stringify(setAt(valid, at, () => huge));
        break;
      }
      case "deep-nesting": {
        const depth = rng.int(50, 5000);
        const at = route === "/v1/alerts/alertmanager" ? ["alerts", 0, "labels"] : route === "/v1/alerts/pagerduty" ? ["payload", "severity"] : ["labels"];
        body = rng.chance(0.5) ? JSON.stringify(setAt(valid, at, () => "__DEEP__")).replace('"__DEEP__"', deepJson(depth)) : `${"[".repeat(depth)}${"]".repeat(depth)}`;
        break;
      }
      case "not-an-object":
        body = pick(rng, ["null", "[]", "42", '"string"', "true", "[{}]", "{}"]);
        break;
      case "oversized-body":
        body = JSON.stringify({ ...valid, padding: "y".repeat(1_100_000) });
        break;
    }
    out.push({ kind, route, contentType, body });
  }
  return out;
}

describe.each(testBackends())("malformed intake requests, on $name", (backend) => {
  let pd: ProcessDatabase;
  let service: RunningService;
  let dir: string;

  beforeAll(async () => {
    pd = await backend.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-fuzz-"));
    service = await startService(loadConfig({ ...process.env, ...pd.env }), {
      migrate: true,
      serve: { host: "127.0.0.1", port: 0, fleetFile: await writeFleet(dir, [badRolloutWorld("alpha", "alpha")]) },
    });
  });

  afterAll(async () => {
    await service.close();
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function rowCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of ["intake_requests", "alerts", "incidents", "audit_log"]) {
      counts[table] = (await service.suture.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? -1;
    }
    counts["jobs"] = (await service.suture.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'suture-incidents'")).rows[0]?.n ?? -1;
    return counts;
  }

  it("refuses 1,200 malformed bodies with a 4xx naming the problem, stays up, and writes nothing", async () => {
    // Given a running server with nothing stored
    const before = await rowCounts();
    const requests = badRequests(1200, 20261123);
    const byKind = new Map<string, number>();
    // When every malformed request is sent over HTTP
    for (const r of requests) {
      const res = await fetch(`${service.url!}${r.route}`, { method: "POST", headers: r.contentType !== undefined ? { "content-type": r.contentType } : {}, body: r.body });
      const text = await res.text();
      // Then each gets a 4xx with a one-line JSON error
      expect(res.status, `${r.kind} ${r.route}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${r.kind} ${r.route}: ${text.slice(0, 200)}`).toBeLessThan(500);
      const error = (JSON.parse(text) as { error?: string }).error ?? "";
      expect(error.length, r.kind).toBeGreaterThan(5);
      byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
    }
    expect([...byKind.values()].every((n) => n >= 100)).toBe(true);
    // And the server is still up, and no row of any kind was written
    expect((await fetch(`${service.url!}/healthz`)).status).toBe(200);
    expect(await rowCounts()).toEqual(before);
    // And a valid request right after is accepted
    const ok = await fetch(`${service.url!}/v1/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(validBody("/v1/alerts")) });
    expect(ok.status).toBe(202);
  }, 180_000);

  it("names the failing field and the expectation", async () => {
    const missing = await fetch(`${service.url!}/v1/alerts/alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(setAt(alertmanagerBody({ alertname: "X", service: "api", namespace: "alpha" }), ["alerts", 0, "startsAt"], () => 17)),
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^alerts\[0\]\.startsAt: /);
    const pdBad = await fetch(`${service.url!}/v1/alerts/pagerduty`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ routing_key: "k", event_action: "explode" }),
    });
    expect(((await pdBad.json()) as { error: string }).error).toMatch(/^event_action: .*trigger.*acknowledge.*resolve/);
  });
});
