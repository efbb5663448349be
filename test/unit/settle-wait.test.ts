import { describe, expect, it } from "vitest";
import { awaitedApproval } from "../../domain/approval.js";
import { canTransition, OPEN_STATUSES, TERMINAL_STATUSES } from "../../domain/incident.js";
import { awaitedSettle, settleDue, type SettleWait } from "../../domain/settle.js";
import { describeOperatorStep, operatorStep } from "../../app/operator-step.js";
import { DEFAULT_POLICY, effectiveSettleSeconds, PolicySchema } from "../../policy/schema.js";
import { jobIdFor } from "../../store/queue.js";

const wait: SettleWait = { kind: "settle", incidentId: "inc-1", attempt: 1, until: "2026-11-30T12:00:30.000Z", tool: "rollout_undo" };
const paused = { tasks: [{ interrupts: [{ value: wait }] }] };

describe("settle waits", () => {
  it("are never mistaken for an approval request, and are found as settle waits", () => {
    // Given a graph paused in verify's settle wait
    // Then nothing reads it as an approval, and the settle wait is found with its deadline
    expect(awaitedApproval(paused)).toBeUndefined();
    expect(awaitedSettle(paused)).toEqual(wait);
    expect(settleDue(wait, Date.parse("2026-11-30T12:00:29.999Z"))).toBe(false);
    expect(settleDue(wait, Date.parse("2026-11-30T12:00:30.000Z"))).toBe(true);
  });

  it("tell the operator that a worker continues the incident at the deadline, with nothing to run", () => {
    // Given an incident that is verifying, paused in its settle wait
    const step = operatorStep("inc-1", { status: "verifying", next: ["verify"], tasks: [{}], settling: { tool: "rollout_undo", until: wait.until } });
    // Then the next step is to wait for the worker, not to resume or approve
    expect(step).toEqual({ kind: "wait", command: null, why: `rollout_undo is settling; a worker continues it at ${wait.until}` });
    expect(describeOperatorStep(step)).toContain("nothing to run");
  });

  it("keep the incident open (verifying) until verification decides; a source's resolve cannot close it", () => {
    expect(OPEN_STATUSES).toContain("verifying");
    expect(TERMINAL_STATUSES).not.toContain("verifying");
    expect(canTransition("running", "verifying")).toBe(true);
    expect(canTransition("verifying", "resolved")).toBe(true);
    expect(canTransition("verifying", "escalated")).toBe(true);
    expect(canTransition("verifying", "resolved_by_source")).toBe(false);
  });

  it("schedule continuations under a deterministic UUID job id per key", () => {
    const id = jobIdFor("inc-1:settle:1:job-a");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jobIdFor("inc-1:settle:1:job-a")).toBe(id);
    expect(jobIdFor("inc-1:settle:1:job-b")).not.toBe(id);
  });
});

describe("the policy's settle intervals", () => {
  it("override a tool's default settle interval, and leave the others at theirs", () => {
    // Given a policy that lets rollout_undo settle 30 s
    const policy = PolicySchema.parse({ verification: { settleSeconds: { rollout_undo: 30 } } });
    // Then rollout_undo settles 30 s and restart_pods keeps its default
    expect(effectiveSettleSeconds(policy, { name: "rollout_undo", settleSeconds: 180 })).toBe(30);
    expect(effectiveSettleSeconds(policy, { name: "restart_pods", settleSeconds: 120 })).toBe(120);
    expect(effectiveSettleSeconds(DEFAULT_POLICY, { name: "rollout_undo", settleSeconds: 180 })).toBe(180);
  });

  it("refuse an unknown tool, naming the known ones, and a value out of 5..3600 s, naming the field", () => {
    const unknown = PolicySchema.safeParse({ verification: { settleSeconds: { rollout_undoo: 30 } } });
    expect(unknown.success).toBe(false);
    const issue = unknown.error!.issues[0]!;
    expect(issue.path).toEqual(["verification", "settleSeconds", "rollout_undoo"]);
    expect(issue.message).toContain('unknown remediation tool "rollout_undoo"');
    expect(issue.message).toContain("rollout_undo");
    for (const bad of [4, 3601, 2.5]) {
      const r = PolicySchema.safeParse({ verification: { settleSeconds: { rollout_undo: bad } } });
      expect(r.success, String(bad)).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(["verification", "settleSeconds", "rollout_undo"]);
    }
  });
});
