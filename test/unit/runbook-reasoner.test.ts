import path from "node:path";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { choose } from "../../nodes/diagnose.js";
import { loadRules, RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { fact, makeAlert, makeAttempt, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();
const alert = makeAlert();

describe("runbook reasoner", () => {
  it("diagnoses an image pull failure after a recent rollout and proposes rolling back to the previous revision", async () => {
    // Given pods of the alerting service failing to pull the image of a revision rolled out 6 minutes ago
    const context = makeContext([
      fact("pod.reason", "checkout", "ImagePullBackOff", { count: 2, revision: 8 }),
      fact("deploy.latest", "checkout", 6, { revision: 8, previous_revision: 7, rollback_revision: 7, has_previous: true, changes: "image" }),
      fact("event.reason", "checkout", "Failed", { message: "Failed to pull image: manifest unknown", type: "Warning", count: 4 }),
    ]);
    // When the reasoner diagnoses
    const [top] = await reasoner.diagnose({ alert, context, attempts: [] });
    // Then the top hypothesis is a bad rollout with a rollback to revision 7, citing the evidence
    expect(top?.faultClass).toBe("bad-rollout");
    expect(top?.confidence).toBeGreaterThanOrEqual(0.75);
    expect(top?.candidates[0]?.call).toEqual({ tool: "rollout_undo", params: { service: "checkout", toRevision: 7 } });
    expect(top?.evidenceIds.length).toBeGreaterThanOrEqual(2);
  });

  it("binds the dependency named by an open circuit breaker and proposes fixing that dependency", async () => {
    // Given checkout's breaker to payments is open and payments' pods run at their CPU limit
    const context = makeContext([
      fact("breaker.state", "checkout", "open", { dependency: "payments" }),
      fact("replicas.desired", "payments", 3, { ready: 3, memory_limit_mib: 512 }),
      fact("cpu.saturation", "payments", 0.97, { scale_to_replicas: 6 }),
      fact("metric.anomalous", "payments", "latency_p99_ms"),
    ]);
    const [top] = await reasoner.diagnose({ alert, context, attempts: [] });
    expect(top?.faultClass).toBe("downstream-latency");
    expect(top?.candidates[0]?.call).toEqual({ tool: "scale_deployment", params: { service: "payments", replicas: 6 } });
  });

  it("computes parameters with template filters (memory limit raised by half, rounded up to 64 MiB)", async () => {
    const context = makeContext([fact("pod.last_termination", "checkout", "OOMKilled", { count: 3 }), fact("replicas.desired", "checkout", 3, { ready: 1, memory_limit_mib: 500 })]);
    const [top] = await reasoner.diagnose({ alert, context, attempts: [] });
    expect(top?.candidates[0]?.call.params).toEqual({ service: "checkout", limitMib: 768 });
  });

  it("treats a limit raise that did not stop OOM kills as evidence of a leak", async () => {
    // Given OOM kills, an older revision to return to, and a failed limit raise
    const evidence = [
      fact("pod.last_termination", "checkout", "OOMKilled", { count: 3 }),
      fact("replicas.desired", "checkout", 3, { ready: 1, memory_limit_mib: 512 }),
      fact("deploy.latest", "checkout", 4000, { revision: 12, previous_revision: 11, rollback_revision: 11, has_previous: true, changes: "image" }),
      fact("metric.memory_mib", "checkout", 480, { slope_per_min: 18 }),
    ];
    const first = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
    const second = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [makeAttempt()] });
    const leakBefore = first.find((h) => h.faultClass === "memory-leak");
    const leakAfter = second.find((h) => h.faultClass === "memory-leak");
    // Then the leak hypothesis ranks below the limit raise at first, and gains confidence after it failed
    expect(first[0]?.faultClass).toBe("memory-limit-too-tight");
    expect(leakAfter!.confidence).toBeGreaterThan(leakBefore!.confidence);
    expect(leakAfter!.confidence).toBeGreaterThanOrEqual(0.75);
    expect(leakAfter!.evidenceIds).toContain("att-1");
  });

  it("explains nothing when the evidence fits no rule, so diagnose escalates instead of guessing", async () => {
    // Given an abnormal error rate with no pod, deploy, config, network or log evidence
    const context = makeContext([fact("metric.anomalous", "checkout", "error_rate", { ratio: 9 })]);
    const hypotheses = await reasoner.diagnose({ alert, context, attempts: [] });
    const choice = choose(hypotheses, new Set(), 0.7, 3);
    expect(hypotheses).toEqual([]);
    expect(choice.decision).toBe("escalate");
    expect(choice.reason).toMatch(/no rule or evidence explains/);
  });

  it("escalates a credential leak even when an actionable hypothesis ranks higher", async () => {
    const context = makeContext([
      fact("pod.reason", "checkout", "ImagePullBackOff", { count: 2, revision: 8 }),
      fact("deploy.latest", "checkout", 6, { revision: 8, previous_revision: 7, rollback_revision: 7, has_previous: true, changes: "image" }),
      fact("event.reason", "checkout", "Failed", { message: "manifest unknown", type: "Warning", count: 4 }),
      fact("log.secret_exposure", "checkout", "aws-access-key", { count: 1 }),
    ]);
    const hypotheses = await reasoner.diagnose({ alert, context, attempts: [] });
    const choice = choose(hypotheses, new Set(), 0.7, 3);
    expect(choice.decision).toBe("escalate");
    expect(choice.hypothesis?.category).toBe("security");
  });
});

describe("rule files", () => {
  it("rejects an invalid rules file with the file, the field and the expectation", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rules-"));
    await writeFile(
      path.join(dir, "bad.yaml"),
      "rules:\n  - id: x\n    title: t\n    fault_class: f\n    category: c\n    disposition: act\n    confidence: 2\n    when: [{ fact: a }]\n    explanation: e\n",
    );
    await expect(loadRules(dir)).rejects.toThrow(/^bad\.yaml:7: rules\[0\]\.confidence: .*(less than or equal|<=).*1/m);
  });

  it("rejects a pattern that is not a regular expression when the rules load, naming the file, line and field, not when the rule first runs", async () => {
    // Given a rule whose support condition's attribute pattern uses an inline flag JavaScript does not have
    const dir = await mkdtemp(path.join(os.tmpdir(), "rules-"));
    await writeFile(
      path.join(dir, "bad.yaml"),
      'rules:\n  - id: x\n    title: t\n    fault_class: f\n    category: c\n    disposition: act\n    confidence: 0.7\n    when: [{ fact: a }]\n    support:\n      - fact: event.reason\n        attrs: { message: { matches: "(?i)evicted" } }\n        weight: 0.1\n    explanation: e\n',
    );
    // When the folder is loaded Then it is refused with where and what was expected
    await expect(loadRules(dir)).rejects.toThrow(/^bad\.yaml:\d+: rules\[0\]\.support\[0\]\.attrs\.message\.matches: expected a JavaScript regular expression .*Invalid (regular expression|group)/m);
  });
});
