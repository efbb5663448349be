import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IncidentStore } from "../../store/incident-store.js";
import { SimEnvironment } from "../../environments/simulator/index.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { ROOT, runCli } from "../helpers/cli.js";

const SCENARIO = path.join(ROOT, "data", "scenarios", "bad-rollout-missing-image.yaml");

describe.each(testBackends())("a process killed mid-incident, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;

  afterEach(async () => {
    await pd?.cleanup();
    pd = undefined;
  });

  it("resumes from the checkpoint after act without executing the action a second time", async () => {
    pd = await backend.forProcesses();
    // Given a run that is SIGKILLed after act's checkpoint is written, as verify starts
    const first = await runCli(["run", "--scenario", SCENARIO], { ...pd.env, SUTURE_CRASH_BEFORE_NODE: "verify" });
    expect(first.signal).toBe("SIGKILL");
    const incidentId = /incident (inc-\S+) opened/.exec(first.stdout)?.[1];
    expect(incidentId, first.stdout + first.stderr).toBeDefined();
    expect(first.stdout).toContain("executed rollout_undo");
    expect(first.stdout).not.toMatch(/ verify /);

    // Then the action is recorded once and the incident is unfinished
    let db = await pd.open();
    let store = new IncidentStore(db);
    expect((await store.getIncident(incidentId!)).status).toBe("running");
    expect((await store.actionsFor(incidentId!)).map((a) => a.status)).toEqual(["succeeded"]);
    await db.close();

    // When a new process resumes the incident
    const second = await runCli(["resume", incidentId!], pd.env);
    expect(second.code, second.stderr).toBe(0);
    // Then it continues at verify (perceive, diagnose and act do not run again) and resolves
    expect(second.stdout).toMatch(/ verify /);
    expect(second.stdout).not.toMatch(/perceive|diagnose|policy-check| act /);
    expect(second.stdout).toContain("resolved");

    db = await pd.open();
    store = new IncidentStore(db);
    try {
      expect((await store.getIncident(incidentId!)).status).toBe("resolved");
      expect(await store.actionsFor(incidentId!)).toHaveLength(1);
      const actionAudits = (await store.auditFor(incidentId!)).filter((a) => a.kind === "action");
      expect(actionAudits).toHaveLength(1);
      // And the environment applied the rollout exactly once
      const saved = await store.loadEnvironment(incidentId!);
      const ops = SimEnvironment.fromJSON(saved?.state).operationsApplied();
      expect(ops.map((o) => o.op)).toEqual(["rolloutUndo"]);
    } finally {
      await db.close();
    }
  });

  it("re-runs act after a crash between the side effect and its checkpoint, without executing twice", async () => {
    pd = await backend.forProcesses();
    // Given a run killed the moment act reports, possibly before its checkpoint is written
    const first = await runCli(["run", "--scenario", SCENARIO], { ...pd.env, SUTURE_CRASH_AFTER_NODE: "act" });
    expect(first.signal).toBe("SIGKILL");
    const incidentId = /incident (inc-\S+) opened/.exec(first.stdout)?.[1];
    expect(incidentId).toBeDefined();
    // When the incident resumes
    const second = await runCli(["resume", incidentId!], pd.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("resolved");
    // Then whether act re-ran or not, the environment saw exactly one rollout and one action row exists
    const db = await pd.open();
    try {
      const store = new IncidentStore(db);
      expect(await store.actionsFor(incidentId!)).toHaveLength(1);
      const saved = await store.loadEnvironment(incidentId!);
      expect(
        SimEnvironment.fromJSON(saved?.state)
          .operationsApplied()
          .map((o) => o.op),
      ).toEqual(["rolloutUndo"]);
      if (/ act /.test(second.stdout)) expect(second.stdout).toContain("not run again");
    } finally {
      await db.close();
    }
  });
});
