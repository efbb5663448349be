import { describe, expect, it } from "vitest";
import type { Hypothesis } from "../../domain/model.js";
import { choose } from "../../nodes/diagnose.js";
import { likelyCause, NO_CAUSE } from "../../reasoners/likely-cause.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { deployLatest, fact, logSignature, makeAlert, makeContext } from "../helpers/factories.js";

const alert = makeAlert();
const firing = (): ReturnType<typeof fact> => fact("alert.firing", "checkout", "HighErrorRate", { severity: "critical" });
const flaps = (n = 0): ReturnType<typeof fact> => fact("alert.flaps", "checkout", n, { firing: 1, window_minutes: 60 });

describe("likely cause of an escalation", () => {
  it("Given a hypothesis below the confidence to act, when Suture escalates, then that hypothesis is the likely cause with its evidence for, what is missing against, and a check-first line", async () => {
    // Given an OOM kill with no rollout, which the shipped rules explain, and a policy that needs more confidence than they give
    const oom = fact("pod.last_termination", "checkout", "OOMKilled", { count: 3 });
    const evidence = [firing(), flaps(), oom, fact("replicas.desired", "checkout", 3, { ready: 1, memory_limit_mib: 500 })];
    const hypotheses = await (await RunbookReasoner.fromDirectory()).diagnose({ alert, context: makeContext(evidence), attempts: [] });
    const choice = choose(hypotheses, new Set(), 0.99, 3);
    expect(choice.decision).toBe("escalate");
    expect(choice.reason).toMatch(/below 0\.99 needed to act/);
    // When the likely cause is named
    const cause = likelyCause(evidence, hypotheses, "checkout", choice.hypothesis);
    // Then it is the hypothesis' class, at its confidence, citing the OOM kill
    expect(cause.basis).toBe("hypothesis");
    expect(cause.faultClass).toBe(choice.hypothesis?.faultClass);
    expect(cause.score).toBeCloseTo(choice.hypothesis?.confidence ?? -1, 2);
    expect(cause.for.map((f) => f.id)).toContain(oom.id);
    expect(cause.checkFirst.length).toBeGreaterThan(0);
    expect(cause.checkFirst.join(" ")).toMatch(/OOMKilled|memory/);
    // And nothing contradicts it (OOM kills are exactly what the class expects)
    expect(cause.against).toEqual([]);
  });

  it("Given a hypothesis whose expected facts are missing, when named, then the missing facts are listed against it", () => {
    const h: Hypothesis = {
      id: "llm:rollout",
      faultClass: "bad-rollout",
      category: "deploy",
      title: "Recent release broke checkout",
      confidence: 0.4,
      evidenceIds: [],
      reasoner: "llm",
      disposition: "act",
      candidates: [],
      explanation: "guess",
    };
    const evidence = [firing(), flaps(), deployLatest("checkout", 9000, ["image"])];
    const cause = likelyCause(evidence, [h], "checkout", h);
    expect(cause.faultClass).toBe("bad-rollout");
    expect(cause.against).toContain("expected a rollout in the last 2 hours, not seen");
  });

  it("Given no hypothesis and a DNS log signature, when scored, then the likely cause is dns-resolution with the signature for it and an nslookup check first", () => {
    const dns = logSignature("checkout", "getaddrinfo ENOTFOUND payments.prod.svc", "dns");
    const evidence = [firing(), flaps(), deployLatest("checkout", 9000, ["image"]), fact("metric.anomalous", "checkout", "error_rate", { role: "alerting" }), dns];
    const cause = likelyCause(evidence, [], "checkout");
    expect(cause).toMatchObject({ faultClass: "dns-resolution", basis: "evidence" });
    expect(cause.score).toBeGreaterThanOrEqual(0.5);
    expect(cause.for.map((f) => f.id)).toEqual([dns.id]);
    expect(cause.checkFirst[0]).toMatch(/nslookup/);
    expect(cause.checkFirst[0]).toContain("checkout");
  });

  it("Given no hypothesis and a rollout 12 minutes ago, when scored, then the likely cause is bad-rollout and the check names the deployment's rollout history", () => {
    const rollout = deployLatest("checkout", 12, ["env"]);
    const evidence = [firing(), flaps(), rollout, fact("metric.anomalous", "checkout", "error_rate", { role: "alerting" })];
    const cause = likelyCause(evidence, [], "checkout");
    expect(cause).toMatchObject({ faultClass: "bad-rollout", basis: "evidence" });
    expect(cause.for.map((f) => f.id)).toContain(rollout.id);
    expect(cause.checkFirst[0]).toBe("kubectl rollout history deploy/checkout and diff the last two revisions (kubectl rollout history deploy/checkout --revision=<n>)");
    // And an old rollout with the same metrics points elsewhere (only the alerting service abnormal, nothing changed)
    const old = likelyCause([firing(), flaps(), deployLatest("checkout", 9000, ["env"]), fact("metric.anomalous", "checkout", "error_rate", { role: "alerting" })], [], "checkout");
    expect(old.faultClass).toBe("external-dependency");
    expect(old.runnersUp.map((r) => r.faultClass)).not.toContain("bad-rollout");
  });

  it("Given no hypothesis and no evidence pointing anywhere, when scored, then it says so honestly", () => {
    const cause = likelyCause([firing(), flaps()], [], "checkout");
    expect(cause).toMatchObject({ faultClass: "unknown", score: 0, basis: "none", for: [], runnersUp: [] });
    expect(cause.against.join(" ")).toContain(NO_CAUSE);
    expect(cause.checkFirst[0]).toContain(NO_CAUSE);
  });

  it("Given no hypothesis, the alerting service's metrics, pods and logs read and nothing impaired, when scored, then the likely cause is a noisy alert that outweighs a quiet rollout, with the alert's own query to check first", () => {
    const read = [
      fact("metric.error_rate", "checkout", 0.002, { baseline: 0.002, anomalous: false, role: "alerting" }),
      fact("pod.restarts", "checkout", 0),
      logSignature("checkout", "slow request GET /api/v1/items/<num> took <num>", ""),
    ];
    const rollout = deployLatest("checkout", 30, ["image"]);
    const cause = likelyCause([firing(), flaps(), rollout, ...read], [], "checkout");
    expect(cause).toMatchObject({ faultClass: "noisy-alert", basis: "evidence", score: 0.55 });
    expect(cause.against).toEqual(["expected no rollout or config change in the last 4 hours, not seen"]);
    expect(cause.runnersUp.map((r) => r.faultClass)).toContain("bad-rollout");
    expect(cause.checkFirst[0]).toMatch(/run the alert's own query/);
    // And with the error rate abnormal it is never named
    const failing = likelyCause([firing(), flaps(), rollout, ...read, fact("metric.anomalous", "checkout", "error_rate", { role: "alerting" })], [], "checkout");
    expect(failing.faultClass).toBe("bad-rollout");
    expect(failing.runnersUp.map((r) => r.faultClass)).not.toContain("noisy-alert");
  });

  it("Given only the alert's words, when scored, then they name a class weakly and the flaps with healthy metrics outweigh them", () => {
    const words = fact("alert.text", "checkout", "latency", { field: "summary", excerpt: "p99 latency high" });
    const weak = likelyCause([firing(), flaps(), words], [], "checkout");
    expect(weak.faultClass).toBe("downstream-latency");
    expect(weak.score).toBeLessThanOrEqual(0.1);
    const flapping = likelyCause([firing(), flaps(3), words], [], "checkout");
    expect(flapping.faultClass).toBe("flapping-threshold");
    expect(flapping.runnersUp).toEqual([{ faultClass: "downstream-latency", score: 0.1 }]);
  });

  it("Given the same evidence under two different service names, when scored, then the cause does not depend on the names", () => {
    const make = (svc: string) => [fact("alert.firing", svc, "X"), fact("alert.flaps", svc, 0), logSignature(svc, "connect ECONNREFUSED <ip>", "connection_refused")];
    const a = likelyCause(make("checkout"), [], "checkout");
    const b = likelyCause(make("zz-ledger-7"), [], "zz-ledger-7");
    expect(a.faultClass).toBe("dependency-down");
    expect({ ...b, for: [], checkFirst: [] }).toEqual({ ...a, for: [], checkFirst: [] });
  });
});

describe("likely cause from a hypothesis without a class (regression: the diagnosis failed validation)", () => {
  it("names it unclassified instead of an empty class", () => {
    const h = {
      id: "h",
      faultClass: "",
      category: "deployment",
      title: "something",
      confidence: 0.9,
      evidenceIds: [],
      reasoner: "llm",
      disposition: "escalate" as const,
      candidates: [],
      explanation: "",
    };
    expect(likelyCause([], [h], "checkout").faultClass).toBe("unclassified");
  });
});
