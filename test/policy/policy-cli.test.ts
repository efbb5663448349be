import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { policyVersion } from "../../policy/policy.js";
import { startService, type RunningService } from "../../interfaces/service.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { alertmanagerBody, badRolloutWorld, post, waitFor, writeFleet } from "../helpers/fleet.js";

function stderrLines(text: string): string[] {
  return text
    .trim()
    .split("\n")
    .filter((l) => l !== "" && !l.includes("nodedir"));
}

describe("suture policy", () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-policy-cli-"));
    env = { SUTURE_HOME: path.join(dir, "home"), DATABASE_URL: "" };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("check: a broken file names line, path and expectation for every problem; a good one is summarized", async () => {
    // Given a policy with three mistakes
    const file = path.join(dir, "broken.yaml");
    await writeFile(
      file,
      'version: 1\nthresholds:\n  medium: 1.5\nfreezeWindows:\n  - name: weekend\n    timezone: Europe/Berlin\n    start: "25:00"\n    end: "08:00"\nrateLimits:\n  - action: restart\n    max: 3\n    perMinutes: 0\n',
    );
    // When it is checked
    const bad = await runCli(["policy", "check", file], env);
    // Then each problem is one line: file:line: path: expectation, and the exit code says it failed
    expect(bad.code).toBe(1);
    expect(stderrLines(bad.stderr)).toEqual([
      `${file}:3: thresholds.medium: expected a confidence between 0 and 1`,
      `${file}:7: freezeWindows[0].start: expected a time of day "HH:MM" (00:00–24:00)`,
      `${file}:12: rateLimits[0].perMinutes: Too small: expected number to be >=1`,
    ]);
    const good = await runCli(["policy", "check", path.join(ROOT, "data", "policies", "strict-policy.yaml")], env);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/strict-policy\.yaml is a valid policy \(version [0-9a-f]{12}\)/);
    expect(good.stdout).toMatch(/3 freeze window\(s\)/);
  });

  it("explain: prints every rule's finding for the call a freeze window denied", async () => {
    // Given the freeze scenario has run
    const demo = await runCli(["demo", "--only", "bad-rollout-during-change-freeze"], env, 120_000);
    expect(demo.code).toBe(0);
    const id = /show (inc-[0-9a-z-]+)/.exec(demo.stdout)?.[1];
    expect(id).toBeDefined();
    // When an operator asks why
    const out = await runCli(["policy", "explain", id!], env);
    // Then the freeze is the deny, and the rules that passed are listed with their values
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/rollout_undo \{"service":"storefront","toRevision":2\} \[medium risk\] proposed → deny/);
    expect(out.stdout).toMatch(/✗ freezeWindows\s+change freeze "year-end change freeze"/);
    expect(out.stdout).toMatch(/✓ thresholds\s+confidence 0\.\d\d ≥ 0\.75 required at medium risk/);
    expect(out.stdout).toMatch(/✓ blastRadius\.replicas\s+rolling replacement, 1 of 4 pod\(s\) out at once/);
    const show = await runCli(["show", id!], env);
    expect(show.stdout).toMatch(/Policy verdicts[\s\S]*rollout_undo .*: deny[\s\S]*change freeze "year-end change freeze"/);
  }, 180_000);

  it("test: shows which recorded decisions a stricter policy changes", async () => {
    // Given two shipped scenarios and the strict example policy
    const out = await runCli(
      ["policy", "test", path.join(ROOT, "data", "policies", "strict-policy.yaml"), "--scenarios", path.join(ROOT, "data", "scenarios"), "--only", "bad-rollout-missing-image,data-corruption"],
      env,
      180_000,
    );
    // Then the rollback the default policy allowed needs a human under the strict one, with the rule that says so
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/bad-rollout-missing-image\s+1\s+rollout_undo .*allow\s+needs approval/);
    expect(out.stdout).toMatch(/autonomy is recommend for prod\/checkout \(policy\.autonomy\.default\)/);
    expect(out.stdout).toMatch(/1 decision\(s\); 1 changed \(0 looser, 1 stricter\)/);
  }, 180_000);
});

describe("policy reload while serving", () => {
  let dir: string;
  let service: RunningService;
  let policyFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-reload-"));
    policyFile = path.join(dir, "policy.yaml");
    await writeFile(policyFile, "autonomy:\n  default: auto\n");
    const fleet = await writeFleet(dir, [badRolloutWorld("a", "team-a"), badRolloutWorld("b", "team-b"), badRolloutWorld("c", "team-c")]);
    service = await startService(loadConfig({ SUTURE_HOME: path.join(dir, "home"), SUTURE_POLICY: policyFile }), {
      migrate: true,
      serve: { host: "127.0.0.1", port: 0, fleetFile: fleet },
      worker: { concurrency: 1 },
    });
  }, 60_000);
  afterAll(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  const finished = async (namespace: string): Promise<{ status: string; summary: string | null }> => {
    const row = await service.suture.db.pool.query<{ status: string; summary: string | null }>(
      "SELECT i.status, i.summary FROM incidents i JOIN alerts a ON a.incident_id = i.id WHERE a.normalized->>'namespace' = $1 LIMIT 1",
      [namespace],
    );
    return row.rows[0] ?? { status: "none", summary: null };
  };
  const fire = async (namespace: string): Promise<void> => {
    const res = await post(`${service.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace }));
    expect(res.status).toBe(202);
    await waitFor(async () => ["resolved", "escalated"].includes((await finished(namespace)).status), 30_000, `incident in ${namespace} to finish`);
  };
  const reloads = async (result: string): Promise<number> => {
    const text = await (await fetch(`${service.url!}/metrics`)).text();
    return Number(new RegExp(`suture_policy_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it("keeps the last good policy when a reload fails, and applies the next good one", async () => {
    const good = service.suture.policy.policy;
    // Given a broken edit to the policy file
    await writeFile(policyFile, "autonomy:\n  default: yolo\n");
    await waitFor(async () => (await reloads("failed")) >= 1, 10_000, "the failed reload to be reported");
    expect(service.suture.policyFile?.lastError).toMatch(/policy\.yaml:2: autonomy\.default: expected observe, recommend or auto/);
    // Then Suture keeps running on the last good policy: an incident is still remediated
    expect(policyVersion(service.suture.policy.policy)).toBe(policyVersion(good));
    await fire("team-a");
    expect((await finished("team-a")).status).toBe("resolved");
    // When the file is fixed (to observe only), the new policy is in force for the next incident
    await writeFile(policyFile, "autonomy:\n  default: observe\n");
    await waitFor(async () => service.suture.policy.policy.autonomy.default === "observe", 10_000, "the good reload");
    await fire("team-b");
    const b = await finished("team-b");
    expect(b.status).toBe("escalated");
    expect(b.summary).toMatch(/autonomy is observe for team-b\/api/);
    expect(await readFile(policyFile, "utf8")).toContain("observe");
  }, 90_000);
});
