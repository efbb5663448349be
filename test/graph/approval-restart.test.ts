import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IncidentStore } from "../../store/incident-store.js";
import { SimEnvironment } from "../../environments/simulator/index.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { ROOT, runCli } from "../helpers/cli.js";

const SCENARIO = path.join(ROOT, "data", "scenarios", "network-policy-blocks-callers.yaml");

describe.each(testBackends())("approval across processes, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;

  afterEach(async () => {
    await pd?.cleanup();
    pd = undefined;
  });

  it("resumes a paused incident approved from a new process, without repeating perceive or executing twice", async () => {
    pd = await backend.forProcesses();
    // Given a process that ran the incident until it paused for approval, then stopped
    const first = await runCli(["run", "--scenario", SCENARIO], pd.env);
    expect(first.code, first.stderr).toBe(0);
    const incidentId = /incident (inc-\S+) opened/.exec(first.stdout)?.[1];
    expect(first.stdout).toContain("awaiting approval");
    const pending = await runCli(["pending"], pd.env);
    expect(pending.stdout).toContain(`${incidentId!}  HighLatencyP99 on checkout`);
    expect(pending.stdout).toContain("proposed: delete_network_policy");

    // When a different process approves it
    const second = await runCli(["approve", incidentId!, "--as", "alice", "--note", "checked with netsec"], pd.env);
    expect(second.code, second.stderr).toBe(0);
    // Then the graph resumes at policy-check, acts, verifies and resolves
    expect(second.stdout).not.toMatch(/ perceive | diagnose /);
    expect(second.stdout).toMatch(/ act .*executed delete_network_policy/);
    expect(second.stdout).toMatch(/ verify .*recovered/);
    expect(second.stdout).toContain("resolved");

    const db = await pd.open();
    try {
      const store = new IncidentStore(db);
      expect((await store.getIncident(incidentId!)).status).toBe("resolved");
      expect(await store.actionsFor(incidentId!)).toHaveLength(1);
      expect((await store.approvalsFor(incidentId!)).map((a) => [a.decision, a.approver])).toEqual([["approved", "alice"]]);
      const audit = (await store.auditFor(incidentId!)).map((a) => a.kind);
      expect(audit.filter((k) => k === "diagnosis")).toHaveLength(1);
      expect(audit).toContain("approval_decision");
      const saved = await store.loadEnvironment(incidentId!);
      expect(
        SimEnvironment.fromJSON(saved?.state)
          .operationsApplied()
          .map((o) => o.op),
      ).toEqual(["deleteNetworkPolicy"]);
    } finally {
      await db.close();
    }
    // And approving again is a one-line error
    const again = await runCli(["approve", incidentId!, "--as", "bob"], pd.env);
    expect(again.code).toBe(1);
    expect(
      again.stderr
        .trim()
        .split("\n")
        .filter((l) => !l.includes("nodedir")),
    ).toEqual([expect.stringMatching(/^suture: incident ".*": delete_network_policy was already approved by alice at /)]);
  });
});
