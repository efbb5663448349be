import { lstat, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IncidentStore } from "../../store/incident-store.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { ROOT, runCli, type CliResult } from "../helpers/cli.js";

const scenario = (name: string): string => path.join(ROOT, "data", "scenarios", `${name}.yaml`);

/** stderr without Node's own notices: what the operator reads. */
function errorLines(result: CliResult): string[] {
  return result.stderr
    .trim()
    .split("\n")
    .filter((l) => l !== "" && !l.includes("nodedir"));
}

function openedId(result: CliResult): string {
  expect(result.code, result.stderr).toBe(0);
  const id = /incident (inc-\S+) opened/.exec(result.stdout)?.[1];
  expect(id, result.stdout).toBeDefined();
  return id ?? "";
}

/** The lines of one `suture show` section: from its heading to the next blank line. */
function section(show: string, heading: RegExp): string[] {
  const lines = show.split("\n");
  const start = lines.findIndex((l) => heading.test(l));
  expect(start, `section ${String(heading)} in:\n${show}`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.trim() === "");
  return end === -1 ? rest : rest.slice(0, end);
}

/** (attempt number, tool) pairs that match `pattern` (two groups: number, tool) in `lines`. */
function numbered(lines: string[], pattern: RegExp): Array<[number, string]> {
  return lines.flatMap((l) => {
    const m = pattern.exec(l);
    return m?.[1] !== undefined && m[2] !== undefined ? [[Number(m[1]), m[2]] as [number, string]] : [];
  });
}

describe.each(testBackends())("show, history, resume and export through the CLI, on $name", (backend) => {
  let pd: ProcessDatabase;
  let dir: string;
  let schemaIncident: string;
  let leakIncident: string;
  let pausedIncident: string;

  beforeAll(async () => {
    pd = await backend.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-inspect-"));
    // An incident with a rollback runs first, so the leak incident's action ids (3, 4) are not its attempt numbers (1, 2).
    schemaIncident = openedId(await runCli(["run", "--scenario", scenario("rollback-blocked-by-schema-migration")], pd.env));
    leakIncident = openedId(await runCli(["run", "--scenario", scenario("memory-leak-old-revision")], pd.env));
    pausedIncident = openedId(await runCli(["run", "--scenario", scenario("network-policy-blocks-callers")], pd.env));
  }, 240_000);

  afterAll(async () => {
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  describe("show", () => {
    let show: string;

    beforeAll(async () => {
      const result = await runCli(["show", leakIncident], pd.env);
      expect(result.code, result.stderr).toBe(0);
      show = result.stdout;
    });

    it("labels the timeline as environment time and the audit log as wall-clock time", async () => {
      // Given the memory-leak incident, whose simulated world runs on its own clock (2026-11-23)
      // When it is shown
      // Then each clock is named in its section's heading
      expect(show).toMatch(/^Timeline \(environment time, UTC\)$/m);
      expect(show).toMatch(/^Audit log \(wall-clock time, UTC; env = environment time/m);
      // And the timeline's times are the environment's, the audit log's the database's (today, not the world's date)
      const timeline = section(show, /^Timeline /);
      expect(timeline[0]).toMatch(/^ {2}2026-11-23T10:00:00\.000Z perceive:/);
      const audit = section(show, /^Audit log /);
      const db = await pd.open();
      try {
        const rows = await new IncidentStore(db).auditFor(leakIncident);
        expect(audit[0]).toContain(rows[0]?.at.toISOString());
        expect(audit[0]).toContain(`env ${rows[0]?.env_time?.toISOString() ?? "?"}`);
        expect(rows[0]?.at.toISOString().slice(0, 10)).not.toBe("2026-11-23");
      } finally {
        await db.close();
      }
    });

    it("shows verify's verdict next to each action's execution status", () => {
      // Given attempt 1 (set_memory_limit) ran and verify judged it not recovered, attempt 2 (rollout_undo) recovered
      // When the incident is shown
      const table = section(show, /^Actions table/);
      // Then the Actions table says the call ran and what verify made of it, and never just "succeeded"
      expect(table).toEqual([
        expect.stringMatching(/^ {2}attempt 1 remediation set_memory_limit \{.*\} {2}ran: succeeded · verify: not recovered {2}key=/),
        expect.stringMatching(/^ {2}attempt 2 remediation rollout_undo \{.*\} {2}ran: succeeded · verify: recovered {2}key=/),
      ]);
      // And the brief's Actions section says the same verdicts in words
      const actions = section(show, /^Actions$/).filter((l) => /^ {2}attempt/.test(l));
      expect(actions[0]).toMatch(/→ not recovered$/);
      expect(actions[1]).toMatch(/→ recovered$/);
    });

    it("numbers the actions 1 and 2 the same way in every section", () => {
      // Given the memory-leak incident's two attempts, stored with database ids 3 and 4
      // When it is shown
      const expected: Array<[number, string]> = [
        [1, "set_memory_limit"],
        [2, "rollout_undo"],
      ];
      // Then the brief's Actions, the Policy verdicts, the Timeline, the Actions table and the Audit log agree
      expect(numbered(section(show, /^Actions$/), /^ {2}attempt (\d+) (\w+) /)).toEqual(expected);
      expect(numbered(section(show, /^Timeline /), /act: attempt (\d+): executed (\w+)/)).toEqual(expected);
      expect(numbered(section(show, /^Actions table/), /^ {2}attempt (\d+) remediation (\w+) /)).toEqual(expected);
      expect(numbered(section(show, /^Audit log /), /action +attempt (\d+): executed (\w+)/)).toEqual(expected);
      const granted = section(show, /^Policy verdicts/).flatMap((l) => /granted as attempt (\d+)/.exec(l)?.[1] ?? []);
      expect(granted).toEqual(["1", "2"]);
    });

    it("names a rollback by the attempt it rolled back", async () => {
      // Given the schema-migration incident: attempt 1 (rollout_undo) made things worse and was rolled back
      // When it is shown
      const result = await runCli(["show", schemaIncident], pd.env);
      expect(result.code, result.stderr).toBe(0);
      // Then the Actions table shows the remediation with verify's verdict and the rollback as "rollback of attempt 1"
      expect(section(result.stdout, /^Actions table/)).toEqual([
        expect.stringMatching(/^ {2}attempt 1 remediation rollout_undo \{"service":"orders","toRevision":2\} {2}ran: succeeded · verify: worse {2}key=/),
        expect.stringMatching(/^ {2}rollback of attempt 1 rollout_undo \{"service":"orders","toRevision":3\} {2}ran: succeeded {2}key=/),
      ]);
      expect(section(result.stdout, /^Actions$/)[0]).toMatch(/^ {2}attempt 1 rollout_undo .*→ worse \(rolled back\)$/);
    });
  });

  describe("history and resume", () => {
    it("history's hint for an incident awaiting approval names approve/reject, and resume refuses with the same command", async () => {
      // Given an incident paused for approval of delete_network_policy, nobody has answered
      // When the operator reads its history
      const history = await runCli(["history", pausedIncident], pd.env);
      expect(history.code, history.stderr).toBe(0);
      // Then the hint names approve/reject, not resume
      const hint = /^next: .*$/m.exec(history.stdout)?.[0] ?? "";
      expect(hint).toContain(`\`suture approve|reject ${pausedIncident} --as <you>\``);
      expect(hint).not.toContain("suture resume");
      // And resume, tried anyway, refuses naming the same command
      const resume = await runCli(["resume", pausedIncident], pd.env);
      expect(resume.code).toBe(1);
      expect(errorLines(resume)).toEqual([
        `suture: incident "${pausedIncident}" cannot resume: it is awaiting approval of delete_network_policy; run \`suture approve|reject ${pausedIncident} --as <you>\``,
      ]);
      // And show says the same
      const show = await runCli(["show", pausedIncident], pd.env);
      expect(show.stdout).toContain(`answer: suture approve ${pausedIncident} --as <you>`);
    });

    it("once a decision is recorded but not acted on, history names resume and resume then works", async () => {
      // Given the paused incident's approval was recorded by a process that died before resuming the graph
      const db = await pd.open();
      try {
        const store = new IncidentStore(db);
        const request = await store.latestApproval(pausedIncident);
        expect(request?.decision).toBeNull();
        await store.decideApproval(request?.request_key ?? "", "approved", "alice", "checked with netsec", request?.call);
      } finally {
        await db.close();
      }
      // When the operator reads its history
      const history = await runCli(["history", pausedIncident], pd.env);
      // Then the hint names resume
      expect(history.stdout).toMatch(new RegExp(`^next: policy-check — delete_network_policy was approved but the incident has not resumed since; run \`suture resume ${pausedIncident}\`$`, "m"));
      // And resume does what the hint said: the approved call runs and the incident resolves
      const resume = await runCli(["resume", pausedIncident], pd.env);
      expect(resume.code, resume.stderr).toBe(0);
      expect(resume.stdout).toMatch(/ act .*executed delete_network_policy/);
      expect(resume.stdout).toContain(`incident ${pausedIncident}: resolved`);
      // And a finished incident's history has no hint
      const after = await runCli(["history", pausedIncident], pd.env);
      expect(after.stdout).not.toMatch(/^next:/m);
    });
  });

  // Writing the file does not depend on the database: once, on the embedded back end, is enough.
  describe.runIf(backend.name === "embedded")("export --out", () => {
    const mode = async (file: string): Promise<string> => ((await stat(file)).mode & 0o777).toString(8);

    it("creates the file with mode 0600", async () => {
      // Given a path nothing exists at
      const out = path.join(dir, "new.json");
      // When the incident is exported there
      const result = await runCli(["export", leakIncident, "--out", out], pd.env);
      // Then the export is written, readable by its owner only
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(await readFile(out, "utf8")) as { incident: { id: string } }).incident.id).toBe(leakIncident);
      expect(await mode(out)).toBe("600");
    });

    it("refuses an existing file without --force and leaves it untouched", async () => {
      // Given an existing file
      const out = path.join(dir, "existing.json");
      await writeFile(out, "keep me\n", { mode: 0o644 });
      // When the incident is exported to it without --force
      const result = await runCli(["export", leakIncident, "--out", out], pd.env);
      // Then one line says it exists and to pass --force, and the file is unchanged
      expect(result.code).toBe(1);
      expect(errorLines(result)).toEqual([`suture: ${out} already exists; pass --force to replace it`]);
      expect(await readFile(out, "utf8")).toBe("keep me\n");
      expect(await mode(out)).toBe("644");
    });

    it("replaces an existing regular file with --force, as a fresh 0600 file", async () => {
      // Given an existing world-readable file
      const out = path.join(dir, "replace.json");
      await writeFile(out, "old\n", { mode: 0o644 });
      // When the incident is exported to it with --force
      const result = await runCli(["export", leakIncident, "--out", out, "--force"], pd.env);
      // Then it holds the export, mode 0600
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(await readFile(out, "utf8")) as { incident: { id: string } }).incident.id).toBe(leakIncident);
      expect(await mode(out)).toBe("600");
    });

    it("never writes through a symlink, dangling or not, with or without --force", async () => {
      // Given a symlink to an existing file and a symlink to a path that does not exist yet
      const target = path.join(dir, "victim.txt");
      await writeFile(target, "precious\n", { mode: 0o644 });
      const link = path.join(dir, "link.json");
      await symlink(target, link);
      const missing = path.join(dir, "not-yet.txt");
      const dangling = path.join(dir, "dangling.json");
      await symlink(missing, dangling);
      for (const [out, force] of [
        [link, false],
        [link, true],
        [dangling, false],
        [dangling, true],
      ] as const) {
        // When the incident is exported to the link
        const result = await runCli(["export", leakIncident, "--out", out, ...(force ? ["--force"] : [])], pd.env);
        // Then one line refuses the symlink
        expect(result.code, `${out} force=${String(force)}: ${result.stdout}`).toBe(1);
        expect(errorLines(result)).toEqual([
          expect.stringMatching(new RegExp(`^suture: ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is a symbolic link; export never writes through or replaces a symlink`)),
        ]);
      }
      // And the link's target was never written or created, and the links are still links
      expect(await readFile(target, "utf8")).toBe("precious\n");
      await expect(stat(missing)).rejects.toMatchObject({ code: "ENOENT" });
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(dangling)).toBe(missing);
    });
  });
});
