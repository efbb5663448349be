import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "../../app/scenario-run.js";
import type { Brief } from "../../graphs/brief.js";
import { formatBrief } from "../../interfaces/cli/format.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

describe.each(testBackends())("escalations that explain, on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("Given errors nothing explains, when Suture escalates, then the brief, the reason, the audit and `suture show` name the likely cause and what to check first", async () => {
    // Given the shipped scenario whose error rate no rule explains
    const run = await runScenario(t.suture, await shippedScenario("unexplained-error-rate"));
    // Then it escalates without acting and without a hypothesis
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.env.operationsApplied()).toEqual([]);
    expect(run.state.diagnosis?.hypotheses).toEqual([]);
    // And the checkpointed diagnosis holds a likely cause scored from the evidence, citing real facts
    const cause = run.state.diagnosis?.likelyCause;
    expect(cause).toBeDefined();
    expect(cause?.basis).toBe("evidence");
    expect(cause?.faultClass).not.toBe("unknown");
    expect(cause?.checkFirst.length).toBeGreaterThan(0);
    const ids = new Set(run.state.context?.evidence.map((e) => e.id));
    expect(cause?.for.length).toBeGreaterThan(0);
    for (const f of cause?.for ?? []) expect(ids.has(f.id)).toBe(true);
    // And the escalation reason says it in one clause, with the first check
    expect(run.state.outcome?.reason).toBe(`no rule or evidence explains the alert; likely cause: ${cause?.faultClass} — check first: ${cause?.checkFirst[0]}`);
    // And the diagnose audit entry carries it
    const audit = await t.suture.store.auditFor(run.incidentId);
    expect(audit.find((a) => a.kind === "diagnosis")?.summary).toContain(`likely cause: ${cause?.faultClass} (${cause?.score.toFixed(2)})`);
    // And the stored brief has the section, and `suture show` prints it
    const row = await t.suture.store.getIncident(run.incidentId);
    const brief = row.brief as Brief;
    expect(brief.likelyCause).toMatchObject({ faultClass: cause?.faultClass, checkFirst: cause?.checkFirst });
    const shown = formatBrief(brief);
    expect(shown).toContain("Likely cause");
    expect(shown).toContain("Check first:");
    expect(shown).toContain(`1. ${cause?.checkFirst[0]}`);
  });

  it("Given an incident Suture resolves itself, when it acts, then no likely cause is attached", async () => {
    const run = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    expect(run.state.outcome?.status).toBe("resolved");
    expect(run.state.diagnoses.every((d) => d.likelyCause === undefined)).toBe(true);
    expect(formatBrief((await t.suture.store.getIncident(run.incidentId)).brief as Brief)).not.toContain("Likely cause");
  });
});
