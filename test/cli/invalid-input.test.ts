import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAlertmanagerWebhook } from "../../domain/alerts/alert.js";
import { parseScenario } from "../../app/scenario.js";
import { ROOT, runCli } from "../helpers/cli.js";

const SCENARIO = path.join(ROOT, "data", "scenarios", "bad-rollout-missing-image.yaml");

describe("bad input gets a one-line error naming the field", () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-bad-"));
    env = { SUTURE_HOME: path.join(dir, "home"), DATABASE_URL: "" };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("rejects an alert whose startsAt is not a timestamp, and stores nothing", async () => {
    // Given an Alertmanager webhook with a malformed startsAt
    const file = path.join(dir, "bad-alert.json");
    await writeFile(
      file,
      JSON.stringify({ version: "4", groupKey: "g", status: "firing", receiver: "r", alerts: [{ status: "firing", labels: { alertname: "X", service: "checkout" }, startsAt: "yesterday" }] }),
    );
    // When it is run
    const result = await runCli(["run", file, "--scenario", SCENARIO], env);
    // Then one line names alerts[0].startsAt, and the database was not even touched
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.includes("nodedir"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^suture: alerts\[0\]\.startsAt: .*(datetime|date)/i);
    const list = await runCli(["incidents"], env);
    expect(list.stderr).toMatch(/has no Suture tables yet; run `suture migrate`/);
  });

  it("rejects a scenario with a misspelled fault kind, naming the file and the path", async () => {
    const file = path.join(dir, "bad-scenario.yaml");
    await writeFile(
      file,
      "name: x\ntitle: x\nenvironment:\n  services: [{ name: a }]\n  faults: [{ kind: scaled-to-zer0, service: a, atMinutes: -5 }]\nalerts: [{ atMinutes: 0, labels: { alertname: A, service: a } }]\nexpect: { outcome: escalated }\n",
    );
    const result = await runCli(["eval", file], env);
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.includes("nodedir"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^suture: bad-scenario\.yaml:5: environment\.faults\[0\]\.kind: Invalid option: expected one of/);
  });

  it("accepts an alert that names no workload, its target read as the cluster as a whole with the reason (never refused, never guessed)", () => {
    // Given an Alertmanager alert with only an alertname, and one whose labels describe only the scraper
    const bare = parseAlertmanagerWebhook({
      version: "4",
      groupKey: "g",
      status: "firing",
      receiver: "r",
      alerts: [{ status: "firing", labels: { alertname: "X" }, startsAt: "2026-11-23T10:00:00Z" }],
    });
    const scraper = parseAlertmanagerWebhook({
      version: "4",
      groupKey: "g",
      status: "firing",
      receiver: "r",
      alerts: [{ status: "firing", labels: { alertname: "KubeStateMetricsListErrors", job: "kube-state-metrics", service: "ksm", instance: "10.0.0.9:8080" }, startsAt: "2026-11-23T10:00:00Z" }],
    });
    // Then both parse, name no workload and say why
    expect(bare.alerts[0]?.service).toBe("");
    expect(bare.alerts[0]?.target).toMatchObject({ state: "resolved", kind: "Cluster", reason: expect.stringMatching(/^no label names a workload, pod, node/) as unknown });
    expect(scraper.alerts[0]?.service).toBe("");
    expect(scraper.alerts[0]?.target).toMatchObject({ kind: "Cluster", reason: expect.stringMatching(/kube-state-metrics, whose job\/service\/instance labels describe the scraper/) as unknown });
  });

  it("names a dependency on a service the scenario does not define", () => {
    expect(() =>
      parseScenario(
        {
          name: "x",
          title: "x",
          environment: { services: [{ name: "a", dependencies: ["b"] }] },
          alerts: [{ atMinutes: 0, labels: { alertname: "A", service: "a" } }],
          expect: { outcome: "escalated" },
        },
        "x.yaml",
      ),
    ).toThrow(/^x\.yaml: environment\.services\[0\]\.dependencies\[0\]: unknown service "b"; known: a/);
  });

  it("requires resolvedBy for a scenario expected to resolve", () => {
    expect(() =>
      parseScenario(
        { name: "x", title: "x", environment: { services: [{ name: "a" }] }, alerts: [{ atMinutes: 0, labels: { alertname: "A", service: "a" } }], expect: { outcome: "resolved" } },
        "x.yaml",
      ),
    ).toThrow(/^x\.yaml: expect\.resolvedBy: expected resolvedBy/);
  });
});

describe("suture run with an Alertmanager webhook file", () => {
  it("runs the alert against the scenario's world and reports the outcome", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "suture-run-"));
    try {
      const env = { SUTURE_HOME: dir, DATABASE_URL: "" };
      // Given the example webhook and a world where payments was scaled to zero
      const alert = path.join(ROOT, "data", "examples", "alerts", "checkout-high-error-rate.json");
      const result = await runCli(["run", alert, "--scenario", path.join(ROOT, "data", "scenarios", "dependency-scaled-to-zero.yaml")], env);
      // Then the incident resolves by scaling payments back up, and show prints its brief
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/scale_deployment \{"service":"payments","replicas":3\}/);
      const incidentId = /incident (inc-\S+): resolved/.exec(result.stdout)?.[1];
      expect(incidentId).toBeDefined();
      const show = await runCli(["show", incidentId!], env);
      expect(show.stdout).toContain("Hypotheses");
      expect(show.stdout).toContain("scaled-to-zero");
      expect(show.stdout).toContain("rollback registered");
      const history = await runCli(["history", incidentId!], env);
      for (const node of ["perceive", "diagnose", "policy-check", "act", "verify"]) expect(history.stdout).toContain(node);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
