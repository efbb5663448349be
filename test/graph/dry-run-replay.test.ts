import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IncidentStore } from "../../store/incident-store.js";
import { SimEnvironment } from "../../environments/simulator/index.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { ROOT, runCli } from "../helpers/cli.js";

const SCENARIO = path.join(ROOT, "data", "scenarios", "bad-rollout-missing-image.yaml");

describe.each(testBackends())("approving a dry-run replay, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await pd?.cleanup();
    pd = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("executes nothing and remembers nothing, whoever approves it, and pending says it is a replay", async () => {
    pd = await backend.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-dry-run-"));
    const strict = path.join(dir, "strict.yaml");
    await writeFile(strict, "approval:\n  requiredFor: [medium, high]\n");
    // Given an incident resolved by a rollback, and a dry-run replay of it from before policy-check under a policy that wants a human
    const run = await runCli(["run", "--scenario", SCENARIO], pd.env);
    expect(run.code, run.stderr).toBe(0);
    const original = /incident (inc-\S+) opened/.exec(run.stdout)?.[1] ?? "";
    const history = await runCli(["history", original], pd.env);
    const checkpoint = /^\s*\d+\s+(\S+)\s+diagnose\s/m.exec(history.stdout)?.[1] ?? "";
    expect(checkpoint, history.stdout).not.toBe("");
    const replay = await runCli(["replay", original, "--from", checkpoint, "--policy", strict], pd.env);
    expect(replay.code, replay.stderr).toBe(0);
    const replayId = /incident (inc-\S+): awaiting approval/.exec(replay.stdout)?.[1] ?? "";
    expect(replayId, replay.stdout).not.toBe("");

    // When someone lists what waits for a human
    const pending = await runCli(["pending"], pd.env);
    // Then the replay is marked as a dry run of the original
    expect(pending.stdout).toContain(replayId);
    expect(pending.stdout).toMatch(new RegExp(`dry-run replay of ${original}: approving it executes nothing`));

    // When a human approves it from another process, which resumes it without any replay options
    const approved = await runCli(["approve", replayId, "--as", "alice"], pd.env);
    expect(approved.code, approved.stderr).toBe(0);

    // Then nothing was executed: no action ran and the replay's world is untouched
    const db = await pd.open();
    try {
      const store = new IncidentStore(db);
      const actions = await store.actionsFor(replayId);
      expect(actions.filter((a) => a.status !== "registered" && a.status !== "cancelled")).toEqual([]);
      const world = await store.loadEnvironment(replayId);
      expect(SimEnvironment.fromJSON(world?.state).operationsApplied()).toEqual([]);
      // And the replay closed as a dry run, saying what it would have done
      const row = await store.getIncident(replayId);
      expect(row.status).toBe("closed_no_action");
      expect(row.summary).toMatch(/dry run stopped before act: would execute rollout_undo/);
      // And incident memory learned nothing from it
      const remembered = await db.pool.query("SELECT incident_id FROM incident_memory WHERE incident_id = $1", [replayId]);
      expect(remembered.rows).toEqual([]);
    } finally {
      await db.close();
    }
    // And resuming it again runs nothing either
    const resumed = await runCli(["resume", replayId], pd.env);
    expect(resumed.stdout).not.toMatch(/executed rollout_undo/);
  }, 180_000);
});
