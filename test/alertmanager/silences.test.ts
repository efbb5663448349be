import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../domain/errors.js";
import { incidentLink, silenceFor, type SilenceRequest } from "../../environments/alertmanager/silence-request.js";
import { AlertmanagerError, AlertmanagerSilences, SilenceNotFoundError } from "../../environments/alertmanager/silences.js";
import { alertmanagerBinary, freePort, startAlertmanager, type RunningAlertmanager } from "../helpers/alertmanager.js";

const NOW = new Date("2026-11-30T12:00:00.000Z");
const IN_TEN_MINUTES = new Date("2026-11-30T12:10:00.000Z");

/** Labels Prometheus attaches to kube-prometheus' KubePodCrashLooping (rule labels + series labels + an HA replica label). */
const CRASH_LOOP = {
  alertname: "KubePodCrashLooping",
  namespace: "shop",
  pod: "checkout-7d9f8b6c5d-x2k4p",
  container: "app",
  job: "kube-state-metrics",
  instance: "10.0.3.4:8080",
  severity: "warning",
  prometheus_replica: "prometheus-k8s-0",
};

describe("silenceFor: the silence that mutes an incident's alert while its action settles", () => {
  it("Given a kube-prometheus alert When a silence is built Then it matches every identifying label exactly, sorted, and not the HA replica label", () => {
    const s = silenceFor(CRASH_LOOP, { incidentId: "inc-42", endsAt: IN_TEN_MINUTES, now: NOW });
    expect(s.matchers).toEqual([
      { name: "alertname", value: "KubePodCrashLooping", isRegex: false, isEqual: true },
      { name: "container", value: "app", isRegex: false, isEqual: true },
      { name: "instance", value: "10.0.3.4:8080", isRegex: false, isEqual: true },
      { name: "job", value: "kube-state-metrics", isRegex: false, isEqual: true },
      { name: "namespace", value: "shop", isRegex: false, isEqual: true },
      { name: "pod", value: "checkout-7d9f8b6c5d-x2k4p", isRegex: false, isEqual: true },
      { name: "severity", value: "warning", isRegex: false, isEqual: true },
    ]);
  });

  it("Given an incident URL When a silence is built Then it lasts from now to the end of the settle window, is created by suture and says why with the link", () => {
    const url = incidentLink("https://suture.example.com/", "inc-42");
    const s = silenceFor(CRASH_LOOP, { incidentId: "inc-42", incidentUrl: url, endsAt: IN_TEN_MINUTES, now: NOW });
    expect(url).toBe("https://suture.example.com/v1/incidents/inc-42");
    expect(s).toMatchObject({
      startsAt: "2026-11-30T12:00:00.000Z",
      endsAt: "2026-11-30T12:10:00.000Z",
      createdBy: "suture",
      comment: "Suture incident inc-42: action settling until 2026-11-30T12:10:00.000Z; https://suture.example.com/v1/incidents/inc-42",
    });
  });

  it("Given no incident URL When a silence is built Then the comment ends at the settle time", () => {
    expect(silenceFor(CRASH_LOOP, { incidentId: "inc-7", endsAt: IN_TEN_MINUTES, now: NOW }).comment).toBe("Suture incident inc-7: action settling until 2026-11-30T12:10:00.000Z");
  });

  it.each([
    ["equal to now", NOW],
    ["before now", new Date("2026-11-30T11:59:59.000Z")],
  ])("Given endsAt %s When a silence is built Then it is refused naming both times", (_what, endsAt) => {
    expect(() => silenceFor(CRASH_LOOP, { incidentId: "inc-1", endsAt, now: NOW })).toThrow(InvalidInputError);
    expect(() => silenceFor(CRASH_LOOP, { incidentId: "inc-1", endsAt, now: NOW })).toThrow(/endsAt .* is not after now 2026-11-30T12:00:00.000Z/);
  });

  it("Given an alert without alertname When a silence is built Then it is refused: it could reach across alert rules", () => {
    const labels: Record<string, string> = { ...CRASH_LOOP };
    delete labels["alertname"];
    expect(() => silenceFor(labels, { incidentId: "inc-1", endsAt: IN_TEN_MINUTES, now: NOW })).toThrow(/no alertname label/);
  });

  it("Given a label that is not a Prometheus label name When a silence is built Then it is refused naming the matcher", () => {
    expect(() => silenceFor({ alertname: "X", "bad-name": "v" }, { incidentId: "inc-1", endsAt: IN_TEN_MINUTES, now: NOW })).toThrow(/matchers\[1\]\.name: expected a label name/);
  });

  it("Given ignoreLabels When a silence is built Then those labels are left out but alertname never is", () => {
    const s = silenceFor(CRASH_LOOP, { incidentId: "inc-1", endsAt: IN_TEN_MINUTES, now: NOW, ignoreLabels: ["alertname", "instance", "pod"] });
    expect(s.matchers.map((m) => m.name)).toEqual(["alertname", "container", "job", "namespace", "prometheus_replica", "severity"]);
  });
});

describe("AlertmanagerSilences without a reachable Alertmanager", () => {
  it("Given a URL with credentials in it When the client is made Then it is refused without echoing the password", () => {
    expect(() => new AlertmanagerSilences({ url: "http://admin:hunter2secret@am.example:9093" })).toThrow(/must not carry credentials/);
    try {
      new AlertmanagerSilences({ url: "http://admin:hunter2secret@am.example:9093" });
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2secret");
    }
  });

  it("Given nothing listens When version() is asked Then the error names the URL and says it did not answer", async () => {
    const port = await freePort();
    const client = new AlertmanagerSilences({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    await expect(client.version()).rejects.toThrow(new RegExp(`GET http://127\\.0\\.0\\.1:${port}/api/v2/status failed: .*ECONNREFUSED; is Alertmanager running`));
  });

  it("Given a proxy that echoes the Authorization header in a 401 When a silence is created Then the error has the status and no credential", async () => {
    const echo: typeof fetch = async (_url, init) => {
      const headers = new Headers(init?.headers);
      return new Response(`unauthorized: ${headers.get("authorization") ?? ""}`, { status: 401 });
    };
    const client = new AlertmanagerSilences({ url: "http://am.example:9093", auth: { type: "basic", username: "suture", password: "s3cret-password" }, fetch: echo });
    const failure = client.create(silenceFor(CRASH_LOOP, { incidentId: "inc-1", endsAt: IN_TEN_MINUTES, now: NOW }));
    await expect(failure).rejects.toThrow(AlertmanagerError);
    await expect(failure).rejects.toThrow(/answered 401: unauthorized: Basic \[redacted\]; check ALERTMANAGER_BEARER_TOKEN/);
    const message = await failure.then(
      () => "",
      (e: Error) => e.message,
    );
    expect(message).not.toContain("s3cret-password");
    expect(message).not.toContain(Buffer.from("suture:s3cret-password").toString("base64"));
  });

  it("Given a silence request that ends before it starts When created Then it is refused naming the field, before any request", async () => {
    let called = false;
    const client = new AlertmanagerSilences({
      url: "http://am.example:9093",
      fetch: async () => {
        called = true;
        return new Response("{}");
      },
    });
    const request = { ...silenceFor(CRASH_LOOP, { incidentId: "inc-1", endsAt: IN_TEN_MINUTES, now: NOW }), endsAt: "2026-11-30T11:00:00.000Z" };
    await expect(client.create(request)).rejects.toThrow(InvalidInputError);
    await expect(client.create(request)).rejects.toThrow(/silence endsAt: expected endsAt after startsAt/);
    expect(called).toBe(false);
  });

  it("Given an id that is not a UUID When get() is asked Then it is refused before any request", async () => {
    let called = false;
    const client = new AlertmanagerSilences({
      url: "http://am.example:9093",
      fetch: async () => {
        called = true;
        return new Response("{}");
      },
    });
    await expect(client.get("../status")).rejects.toThrow(/is not an Alertmanager silence id/);
    expect(called).toBe(false);
  });
});

const binary = alertmanagerBinary();

describe.skipIf(binary === undefined)(`AlertmanagerSilences against a real Alertmanager${binary === undefined ? " (skipped: no prometheus-alertmanager binary; set ALERTMANAGER_BIN)" : ""}`, () => {
  let am: RunningAlertmanager;
  let client: AlertmanagerSilences;

  beforeAll(async () => {
    am = await startAlertmanager();
    client = new AlertmanagerSilences({ url: am.url, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await am?.stop();
  });

  /** A silence from now for ten minutes, for the alert's labels. */
  function request(labels: Record<string, string>, incidentId: string): SilenceRequest {
    const now = new Date();
    return silenceFor(labels, { incidentId, incidentUrl: incidentLink("http://suture.test:8080", incidentId), endsAt: new Date(now.getTime() + 600_000), now });
  }

  it("Given a running Alertmanager When its version is asked Then it answers one", async () => {
    expect(await client.version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("Given a silence for an alert When created Then reading it back shows it active with our comment, author and matchers", async () => {
    const wanted = request(CRASH_LOOP, "inc-create");
    const id = await client.create(wanted);
    const silence = await client.get(id);
    expect(silence).toMatchObject({ id, state: "active", createdBy: "suture", comment: wanted.comment });
    expect(silence.comment).toContain("http://suture.test:8080/v1/incidents/inc-create");
    expect([...silence.matchers].sort((a, b) => a.name.localeCompare(b.name))).toEqual(wanted.matchers);
    expect(new Date(silence.endsAt).toISOString()).toBe(wanted.endsAt);
  });

  it("Given an active silence When expired, then expired again Then the first expires it and the second reports it already expired without throwing", async () => {
    const id = await client.create(request(CRASH_LOOP, "inc-expire"));
    expect(await client.expire(id)).toEqual({ id, outcome: "expired" });
    expect((await client.get(id)).state).toBe("expired");
    expect(await client.expire(id)).toEqual({ id, outcome: "already-expired" });
  });

  it("Given a silence id Alertmanager never issued When expired Then it is reported not found; When read Then SilenceNotFoundError", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect(await client.expire(unknown)).toEqual({ id: unknown, outcome: "not-found" });
    await expect(client.get(unknown)).rejects.toThrow(SilenceNotFoundError);
  });

  it("Given a silence request Alertmanager refuses When created Then the error names the status and Alertmanager's message", async () => {
    const bad = { ...request(CRASH_LOOP, "inc-bad"), matchers: [{ name: "alertname", value: ".*", isRegex: true, isEqual: true }] };
    await expect(client.create(bad)).rejects.toThrow(/POST \/api\/v2\/silences at http:\/\/127\.0\.0\.1:\d+ answered 400: .*must not match the empty string/);
  });

  it("Given an alert firing in Alertmanager When Suture silences it Then Alertmanager reports it suppressed by that silence, and a sibling pod's alert stays active", async () => {
    const sibling = { ...CRASH_LOOP, pod: "checkout-7d9f8b6c5d-9zz7q" };
    const posted = await fetch(`${am.url}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([CRASH_LOOP, sibling].map((labels) => ({ labels, annotations: { summary: "Pod is crash looping." }, startsAt: new Date().toISOString() }))),
    });
    expect(posted.status).toBe(200);
    const id = await client.create(request(CRASH_LOOP, "inc-mute"));

    interface AmAlert {
      labels: Record<string, string>;
      status: { state: string; silencedBy: string[] };
    }
    const statusOf = async (pod: string): Promise<AmAlert["status"] | undefined> => {
      const alerts = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AmAlert[];
      return alerts.find((a) => a.labels["pod"] === pod && a.labels["alertname"] === "KubePodCrashLooping")?.status;
    };
    // Alertmanager marks alerts on read in 0.25, but later versions may mark them asynchronously.
    let muted = await statusOf(CRASH_LOOP.pod);
    for (let i = 0; i < 50 && !(muted?.silencedBy ?? []).includes(id); i++) {
      await new Promise((r) => setTimeout(r, 100));
      muted = await statusOf(CRASH_LOOP.pod);
    }
    expect(muted).toMatchObject({ state: "suppressed" });
    expect(muted?.silencedBy).toContain(id);
    expect(await statusOf(sibling.pod)).toMatchObject({ state: "active", silencedBy: [] });

    expect((await client.expire(id)).outcome).toBe("expired");
    expect((await statusOf(CRASH_LOOP.pod))?.silencedBy ?? []).not.toContain(id);
  });
});
