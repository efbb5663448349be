import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../helpers/cli.js";
import { onPath, runTool } from "../helpers/tools.js";

const run = runTool;

const RULES = path.join(ROOT, "deploy", "prometheus", "suture-rules.yaml");
const SELF_RULES = path.join(ROOT, "deploy", "prometheus", "suture-self-rules.yaml");
const PROMETHEUS = path.join(ROOT, "deploy", "prometheus", "prometheus.yml");
const ALERTMANAGER = path.join(ROOT, "deploy", "alertmanager", "alertmanager.yml");
const RULE_TESTS = path.join(ROOT, "test", "fixtures", "prometheus", "suture-rules.promtool-test.yaml");

interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(RULES, "utf8")) as { groups: Array<{ name: string; rules: AlertingRule[] }> }).groups.flatMap((g) => g.rules);

/** Alerts named as in kube-prometheus, with the runbook folder they live in upstream. */
const UPSTREAM: Record<string, "kubernetes" | "node"> = {
  KubePodCrashLooping: "kubernetes",
  KubePodNotReady: "kubernetes",
  KubeDeploymentGenerationMismatch: "kubernetes",
  KubeDeploymentReplicasMismatch: "kubernetes",
  KubeContainerWaiting: "kubernetes",
  KubeHpaMaxedOut: "kubernetes",
  KubeQuotaExceeded: "kubernetes",
  KubeQuotaFullyUsed: "kubernetes",
  KubeJobFailed: "kubernetes",
  KubePersistentVolumeFillingUp: "kubernetes",
  CPUThrottlingHigh: "kubernetes",
  NodeFilesystemSpaceFillingUp: "node",
  NodeFilesystemAlmostOutOfSpace: "node",
};

describe("deploy/prometheus/suture-rules.yaml: what each alert carries", () => {
  it("Given the rules file Then it has the kube-prometheus alerts Suture diagnoses, Kafka lag and the HTTP SLO alerts", () => {
    const names = new Set(rules.map((r) => r.alert));
    for (const name of [...Object.keys(UPSTREAM), "KubeContainerOOMKilled", "KafkaConsumerLagHigh", "HighErrorRate", "HighLatencyP99"]) expect(names, name).toContain(name);
  });

  it.each(rules.map((r, i) => [`${r.alert} #${i}`, r] as const))("Given %s Then it has a severity, a summary, a description and a runbook URL", (_name, rule) => {
    expect(["critical", "warning", "info"]).toContain(rule.labels?.["severity"]);
    expect(rule.annotations?.["summary"]?.length ?? 0).toBeGreaterThan(5);
    expect(rule.annotations?.["description"]?.length ?? 0).toBeGreaterThan(10);
    const folder = UPSTREAM[rule.alert];
    expect(rule.annotations?.["runbook_url"]).toBe(
      folder !== undefined ? `https://runbooks.prometheus-operator.dev/runbooks/${folder}/${rule.alert.toLowerCase()}` : `https://runbooks.example.com/suture/${rule.alert.toLowerCase()}`,
    );
  });
});

const promtool = onPath("promtool");

describe.skipIf(promtool === undefined)(`promtool on deploy/prometheus${promtool === undefined ? " (skipped: promtool is not on PATH)" : ""}`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-promtool-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("Given the rules file When `promtool check rules` runs Then every rule is valid", async () => {
    const { code, output } = await run(promtool!, ["check", "rules", RULES]);
    expect(code, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it("Given Suture's self-health rules When `promtool check rules` runs Then all three rules are valid, and the alerts read the gauges /metrics exports", async () => {
    const { code, output } = await run(promtool!, ["check", "rules", SELF_RULES]);
    expect(code, output).toBe(0);
    expect(output).toContain("SUCCESS: 3 rules found");
    expect(readFileSync(SELF_RULES, "utf8")).toContain("max by (metric) (suture_self_anomalous) == 1");
    expect(readFileSync(SELF_RULES, "utf8")).toContain("max by (kind, metric) (suture_self_recoveries_in_force) == 1");
  });

  it("Given series named as the simulated cluster exposes them When `promtool test rules` runs Then each alert fires with its labels and annotations, and only where it should", async () => {
    const { code, output } = await run(promtool!, ["test", "rules", RULE_TESTS]);
    expect(code, output).toBe(0);
    expect(output).toContain("SUCCESS");
  });

  it("Given the example prometheus.yml When `promtool check config` runs Then it and the rule file it names are valid", async () => {
    await copyFile(RULES, path.join(dir, "suture-rules.yaml"));
    let config = readFileSync(PROMETHEUS, "utf8");
    // Debian's promtool is built without Kubernetes service discovery; there, every
    // kubernetes_sd_configs block is checked as a static target so the rest is still validated.
    const probe = path.join(dir, "probe.yml");
    await writeFile(probe, "scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: node\n");
    const probed = await run(promtool!, ["check", "config", probe]);
    if (probed.code !== 0 && /kubernetes_sd_configs not found/.test(probed.output)) {
      console.warn("promtool has no Kubernetes service discovery (a distribution build): checking prometheus.yml with its kubernetes_sd_configs as static targets");
      config = config.replace(/kubernetes_sd_configs:\n(\s+)- role: \w+\n(\s+namespaces:\n\s+names: \[[^\]]*\]\n)?/g, (_m, indent: string) => `static_configs:\n${indent}- targets: ["127.0.0.1:9"]\n`);
      expect(config).not.toContain("kubernetes_sd_configs");
    }
    // promtool stats the in-cluster ServiceAccount files the kubelet jobs name: point them at stand-ins.
    await writeFile(path.join(dir, "token"), "not-a-real-token\n");
    await writeFile(path.join(dir, "ca.crt"), "");
    config = config.replaceAll("/var/run/secrets/kubernetes.io/serviceaccount/", `${dir}/`);
    await writeFile(path.join(dir, "prometheus.yml"), config);
    const { code, output } = await run(promtool!, ["check", "config", "prometheus.yml"], dir);
    expect(code, output).toBe(0);
    expect(output).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});

const amtool = onPath("amtool");

describe.skipIf(amtool === undefined)(`amtool on deploy/alertmanager/alertmanager.yml${amtool === undefined ? " (skipped: amtool is not on PATH)" : ""}`, () => {
  it("Given the Alertmanager config When `amtool check-config` runs Then it is valid with the suture receiver", async () => {
    const { code, output } = await run(amtool!, ["check-config", ALERTMANAGER]);
    expect(code, output).toBe(0);
    expect(output).toContain("SUCCESS");
  });

  it.each<[string, string, string[]]>([
    ["a kube-prometheus pod alert", "suture,default", ["alertname=KubePodCrashLooping", "namespace=shop", "severity=warning"]],
    ["an application SLO alert", "suture,default", ["alertname=HighErrorRate", "namespace=shop", "service=checkout"]],
    ["Kafka lag", "suture,default", ["alertname=KafkaConsumerLagHigh", "consumergroup=fulfillment"]],
    ["an alert Suture does not handle", "default", ["alertname=Watchdog", "severity=none"]],
  ])("Given %s When routed Then it reaches the receivers %s", async (_what, receivers, labels) => {
    const { code, output } = await run(amtool!, ["config", "routes", "test", `--config.file=${ALERTMANAGER}`, ...labels]);
    expect(code, output).toBe(0);
    expect(output.split("\n")[0]?.trim()).toBe(receivers);
  });

  it("Given the suture receiver Then it posts every alert and its resolution to Suture's Alertmanager intake with a bearer token from a file", () => {
    const config = parse(readFileSync(ALERTMANAGER, "utf8")) as { receivers: Array<{ name: string; webhook_configs?: Array<Record<string, unknown>> }> };
    const webhook = config.receivers.find((r) => r.name === "suture")?.webhook_configs?.[0];
    expect(webhook).toEqual({
      url: "http://suture.example:8080/v1/alerts/alertmanager",
      send_resolved: true,
      max_alerts: 0,
      http_config: { authorization: { type: "Bearer", credentials_file: "/etc/alertmanager/suture-intake-token" } },
    });
  });
});
