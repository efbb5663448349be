import { describe, expect, it } from "vitest";
import { operatorStep, type ThreadPosition } from "../../app/operator-step.js";

describe("operatorStep: what to run next, the one answer history and resume share", () => {
  const base: ThreadPosition = { status: "awaiting_approval", next: ["policy-check"], tasks: [{}], awaitingApprovalOf: "delete_network_policy" };
  const now = new Date("2026-11-30T12:00:00Z");
  const later = new Date("2026-11-30T13:00:00Z");
  const earlier = new Date("2026-11-30T11:00:00Z");

  it.each<[string, ThreadPosition, string | null]>([
    ["awaiting approval, nobody answered", { ...base, approval: { decision: null, expiresAt: later }, now }, "suture approve|reject inc-1 --as <you>"],
    ["awaiting approval, the request expired unanswered", { ...base, approval: { decision: null, expiresAt: earlier }, now }, "suture tick"],
    ["approved, not resumed yet", { ...base, approval: { decision: "approved", expiresAt: later }, now }, "suture resume inc-1"],
    ["rejected, not resumed yet", { ...base, approval: { decision: "rejected", expiresAt: later }, now }, "suture resume inc-1"],
    ["interrupted mid-run", { status: "running", next: ["verify"], tasks: [{}] }, "suture resume inc-1"],
    ["a step whose checkpoint was lost", { status: "running", next: [], tasks: [{}] }, "suture resume inc-1"],
    ["finished", { status: "resolved", next: [], tasks: [] }, null],
    ["closed by its source while awaiting approval", { ...base, status: "resolved_by_source", approval: { decision: null, expiresAt: later }, now }, null],
    ["dead-lettered mid-run", { status: "dead_letter", next: ["act"], tasks: [{}] }, "suture retry inc-1"],
  ])("%s", (_name, position, command) => {
    // Given the incident's position When the next step is decided Then it names the command that works (or none)
    expect(operatorStep("inc-1", position).command).toBe(command);
  });
});
