import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEPLOY_BOUNDS } from "../../domain/deploys.js";
import { testBackends } from "../helpers/backends.js";
import { post } from "../helpers/fleet.js";
import { startTestService, type TestService } from "../helpers/service.js";

const INTAKE_TOKEN = "intake-token-0123456789abcdef";
const AUTH = { authorization: `Bearer ${INTAKE_TOKEN}` };

/** A good deploy webhook body; `over` replaces or adds fields. */
function deployBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workload: "shop/checkout",
    version: "v1.4.2",
    commit: "3f9a2c1d0b",
    changedFiles: [
      { path: "src/payments/charge.ts", added: 12, removed: 3 },
      { path: "README.md", added: 1, removed: 0 },
    ],
    author: "alice",
    at: "2026-11-30T10:15:00Z",
    ...over,
  };
}

/** A good failed-build body; `over` replaces or adds fields. */
function buildBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workload: "checkout",
    namespace: "shop",
    commit: "3f9a2c1d0b4e5f60718293a4b5c6d7e8f9a0b1c2",
    status: "failed",
    logTail: "npm ERR! test failed\nFAIL src/payments/charge.test.ts",
    changedFiles: [{ path: "src/payments/charge.ts", added: 4, removed: 4 }],
    at: "2026-11-30T10:05:00Z",
    ...over,
  };
}

describe.each(testBackends())("deploy markers and failed builds over HTTP, on $name", (backend) => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService(backend, { env: { SUTURE_INTAKE_TOKEN: INTAKE_TOKEN } });
  });

  afterAll(async () => {
    await t.close();
  });

  it("stores a deploy once even when the webhook is retried, and lists it with what changed", async () => {
    // Given a deploy marker for shop/checkout
    const body = deployBody({ migration: true });
    // When the webhook posts it, then retries the same delivery
    const first = await post(`${t.url}/v1/deploys`, body, AUTH);
    const retry = await post(`${t.url}/v1/deploys`, body, AUTH);
    // Then the first is created, the retry answers 200 with the same id, and one row exists
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.any(Number) as number, duplicate: false });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ id: first.body["id"], duplicate: true });
    const store = t.service.suture.store;
    const since = new Date("2026-11-30T00:00:00Z");
    const stored = await store.deploysOf({ namespace: "shop", name: "checkout" }, since);
    expect(stored).toHaveLength(1);
    // And it is stored as sent: the workload split, the changed files with their line counts, the migration flag
    expect(stored[0]).toMatchObject({
      id: first.body["id"],
      workload: { namespace: "shop", name: "checkout" },
      version: "v1.4.2",
      commit: "3f9a2c1d0b",
      author: "alice",
      migration: true,
      source: "webhook",
      changedFiles: [
        { path: "src/payments/charge.ts", added: 12, removed: 3 },
        { path: "README.md", added: 1, removed: 0 },
      ],
    });
    expect(stored[0]?.at.toISOString()).toBe("2026-11-30T10:15:00.000Z");
  });

  it("keeps a new version, or the same version redeployed later, as separate deploys, newest first", async () => {
    // Given a workload written as name plus namespace
    const base = { workload: "web", namespace: "blog", commit: undefined, changedFiles: [] };
    // When three distinct deploys arrive: v1, v2, then v1 again (a rollback) at a later time
    const v1 = await post(`${t.url}/v1/deploys`, deployBody({ ...base, version: "v1", at: "2026-11-30T09:00:00Z" }), AUTH);
    const v2 = await post(`${t.url}/v1/deploys`, deployBody({ ...base, version: "v2", at: "2026-11-30T09:30:00Z" }), AUTH);
    const again = await post(`${t.url}/v1/deploys`, deployBody({ ...base, version: "v1", at: "2026-11-30T11:00:00+01:00", source: "cluster" }), AUTH);
    // Then each is created with its own id
    expect([v1.status, v2.status, again.status]).toEqual([201, 201, 201]);
    expect(new Set([v1.body["id"], v2.body["id"], again.body["id"]]).size).toBe(3);
    // And the workload's deploys since 09:15 are v2 then the rollback (oldest first), with no commit and no migration flag
    const store = t.service.suture.store;
    const since = await store.deploysOf({ namespace: "blog", name: "web" }, new Date("2026-11-30T09:15:00Z"));
    expect(since.map((d) => [d.version, d.source, d.commit, d.migration])).toEqual([
      ["v2", "webhook", null, null],
      ["v1", "cluster", null, null],
    ]);
    // And the recent deploys of every workload come newest first
    const recent = await store.recentDeploys(2);
    expect(recent.map((d) => `${d.workload.namespace}/${d.workload.name}@${d.version}`)).toEqual(["shop/checkout@v1.4.2", "blog/web@v1"]);
  });

  it.each([
    ["missing workload", deployBody({ workload: undefined }), "workload: expected the workload, as namespace/name or a name with `namespace`"],
    ["a name without a namespace", deployBody({ workload: "checkout" }), "namespace: expected the workload's namespace"],
    ["a namespace that contradicts workload", deployBody({ namespace: "other" }), 'namespace: expected "shop" as in workload'],
    ["a negative line count", deployBody({ changedFiles: [{ path: "a.ts", added: -1, removed: 0 }] }), "changedFiles[0].added: expected the number of lines added, at least 0"],
    ["a fractional line count", deployBody({ changedFiles: [{ path: "a.ts", added: 1, removed: 2.5 }] }), "changedFiles[0].removed: expected a whole number of lines removed"],
    ["a non-hex commit", deployBody({ commit: "not-a-sha!" }), "commit: expected a git commit id of 7 to 40 hexadecimal digits"],
    ["a commit too short", deployBody({ commit: "abc12" }), "commit: expected a git commit id of 7 to 40 hexadecimal digits"],
    ["an unknown field", deployBody({ branch: "main" }), '(root): Unrecognized key: "branch"'],
    ["hunks that are not a list", deployBody({ changedFiles: [{ path: "a.ts", added: 1, removed: 0, hunks: "@@ -1 +1 @@" }] }), "changedFiles[0].hunks: expected a list of diff hunks"],
    [
      "a hunk without its @@ header",
      deployBody({ changedFiles: [{ path: "a.ts", added: 1, removed: 0, hunks: ["+const x = 1;"] }] }),
      "changedFiles[0].hunks[0]: expected a unified-diff hunk starting with @@",
    ],
    ["a time that is not ISO 8601", deployBody({ at: "yesterday" }), "at: "],
    [
      "too many changed files",
      deployBody({ changedFiles: Array.from({ length: DEPLOY_BOUNDS.changedFiles + 1 }, (_, i) => ({ path: `f${i}`, added: 0, removed: 0 })) }),
      "changedFiles: expected at most 5000 changed files",
    ],
  ])("refuses a deploy with %s with 400 naming the field, and stores nothing", async (_what, body, message) => {
    // Given a deploy body with one bad field; When it is posted
    const before = (await t.service.suture.store.recentDeploys(1000)).length;
    const res = await post(`${t.url}/v1/deploys`, body, AUTH);
    // Then it is refused with a one-line error naming the field, and no deploy is added
    expect(res.status).toBe(400);
    expect(String(res.body["error"])).toContain(message);
    expect(await t.service.suture.store.recentDeploys(1000)).toHaveLength(before);
  });

  it("starts a regression watch for each new deploy, listed by GET /v1/regressions and counted on /metrics", async () => {
    // Given a deploy with its diff hunks
    const body = deployBody({
      version: "v2.0.0",
      changedFiles: [{ path: "src/payments/charge.ts", added: 2, removed: 1, hunks: ["@@ -80,3 +80,4 @@ export async function chargeCard(order) {\n+  const amount = order.payment.amount;"] }],
    });
    // When it is posted (twice: a retry)
    const first = await post(`${t.url}/v1/deploys`, body, AUTH);
    await post(`${t.url}/v1/deploys`, body, AUTH);
    // Then one watch is started for it, still watching, with the hunks stored as sent
    const res = await fetch(`${t.url}/v1/regressions?limit=500`);
    expect(res.status).toBe(200);
    const { regressions } = (await res.json()) as { regressions: Array<{ deployId: number; status: string; version: string; source: string }> };
    expect(regressions.filter((r) => r.deployId === first.body["id"])).toEqual([expect.objectContaining({ deployId: first.body["id"], status: "watching", version: "v2.0.0", source: "webhook" })]);
    const stored = await t.service.suture.store.deployById(Number(first.body["id"]));
    expect(stored?.changedFiles[0]?.hunks).toEqual(["@@ -80,3 +80,4 @@ export async function chargeCard(order) {\n+  const amount = order.payment.amount;"]);
    // And /metrics counts the new deploy and the retry, and the watch by status
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/suture_deploys_received_total\{kind="deploy",result="duplicate"\} [1-9]/);
    expect(metrics).toMatch(/suture_regression_watches\{status="watching"\} [1-9]/);
    // And a bad query is a 400 naming the field
    const bad = await fetch(`${t.url}/v1/regressions?limit=0`);
    expect(bad.status).toBe(400);
    expect(String(((await bad.json()) as { error: string }).error)).toContain("query.limit: expected at least 1");
  });

  it("refuses a body that is not JSON with 400, not a server error", async () => {
    // Given a truncated body; When it is posted to either route
    const deploy = await post(`${t.url}/v1/deploys`, '{"workload": "shop/checkout",', AUTH);
    const build = await post(`${t.url}/v1/builds`, "[]", AUTH);
    // Then both are client errors with the problem named
    expect(deploy.status).toBe(400);
    expect(String(deploy.body["error"])).toMatch(/^invalid JSON/);
    expect(build.status).toBe(400);
    expect(String(build.body["error"])).toBe("(root): expected a failed build as a JSON object");
  });

  it("stores a failed build's log tail with a GitHub token redacted, once per workload, commit and time", async () => {
    // Given a failed build whose log printed a GitHub token
    const token = `ghp_${"A1b2C3d4E5".repeat(3)}F6g7H8`;
    expect(token).toHaveLength(40);
    const body = buildBody({ logTail: `cloning with ${token}\nnpm ERR! Test failed: charge.test.ts` });
    // When CI posts it twice
    const first = await post(`${t.url}/v1/builds`, body, AUTH);
    const retry = await post(`${t.url}/v1/builds`, body, AUTH);
    // Then it is created once and the retry gets the same id
    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ id: first.body["id"], duplicate: true });
    // And the stored log keeps the failure but not the token, and records that a token was redacted
    const builds = await t.service.suture.store.recentBuilds(10);
    expect(builds).toHaveLength(1);
    expect(builds[0]?.logTail).toBe("cloning with [REDACTED]\nnpm ERR! Test failed: charge.test.ts");
    expect(builds[0]?.redactedSecrets).toEqual(["api-token"]);
    expect(builds[0]).toMatchObject({ workload: { namespace: "shop", name: "checkout" }, commit: "3f9a2c1d0b4e5f60718293a4b5c6d7e8f9a0b1c2", status: "failed" });
    // And no column of any build holds the token
    const raw = await t.service.suture.db.pool.query<{ row: string }>("SELECT b::text AS row FROM builds b");
    expect(raw.rows.some((r) => r.row.includes(token))).toBe(false);
  });

  it.each([
    ["an oversized log tail", buildBody({ logTail: "x".repeat(DEPLOY_BOUNDS.logTailBytes + 1) }), "logTail: expected at most 65536 bytes (64 KiB) of log"],
    ["a log tail over 64 KiB only in UTF-8 bytes", buildBody({ logTail: "é".repeat(DEPLOY_BOUNDS.logTailBytes / 2 + 1) }), "logTail: expected at most 65536 bytes"],
    ["a status other than failed", buildBody({ status: "passed" }), 'status: expected "failed"'],
    ["a missing commit", buildBody({ commit: undefined }), "commit: expected a git commit id"],
    ["a negative removed count", buildBody({ changedFiles: [{ path: "a.ts", added: 0, removed: -3 }] }), "changedFiles[0].removed: expected the number of lines removed, at least 0"],
    ["missing workload", buildBody({ workload: undefined }), "workload: expected the workload"],
  ])("refuses a build with %s with 400 naming the field", async (_what, body, message) => {
    // Given a build body with one bad field; When it is posted
    const res = await post(`${t.url}/v1/builds`, body, AUTH);
    // Then it is refused naming the field
    expect(res.status).toBe(400);
    expect(String(res.body["error"])).toContain(message);
  });

  it("accepts a log tail of exactly 64 KiB", async () => {
    // Given a log tail at the bound; When it is posted
    const res = await post(`${t.url}/v1/builds`, buildBody({ logTail: "y".repeat(DEPLOY_BOUNDS.logTailBytes), at: "2026-11-30T10:06:00Z" }), AUTH);
    // Then it is stored whole
    expect(res.status).toBe(201);
    const stored = (await t.service.suture.store.recentBuilds(10)).find((b) => b.id === res.body["id"]);
    expect(stored?.logTail).toHaveLength(DEPLOY_BOUNDS.logTailBytes);
  });

  it("refuses deploys and builds without the intake token with 401, storing nothing", async () => {
    // Given a server with an intake token configured
    const before = (await t.service.suture.store.recentDeploys(1000)).length;
    // When a deploy and a build arrive with no token, and a deploy with a wrong one
    const none = await post(`${t.url}/v1/deploys`, deployBody({ version: "v9" }));
    const build = await post(`${t.url}/v1/builds`, buildBody({ at: "2026-11-30T12:00:00Z" }));
    const wrong = await post(`${t.url}/v1/deploys`, deployBody({ version: "v9" }), { authorization: "Bearer not-the-intake-token-0000" });
    // Then each is 401 with the setting named, and nothing was stored
    expect([none.status, build.status, wrong.status]).toEqual([401, 401, 401]);
    expect(String(none.body["error"])).toContain("SUTURE_INTAKE_TOKEN");
    expect(await t.service.suture.store.recentDeploys(1000)).toHaveLength(before);
    expect((await t.service.suture.store.recentBuilds(1000)).every((b) => b.at.toISOString() !== "2026-11-30T12:00:00.000Z")).toBe(true);
  });
});
