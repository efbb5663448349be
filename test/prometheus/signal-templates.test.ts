import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeMetrics, loadConfig } from "../../app/config.js";
import type { WorkloadRef } from "../../environments/kubernetes/workload-ref.js";
import { escapePromqlString, escapeRegex, InvalidSignalsFileError, loadSignalsFile, parseSignalsFile, SignalTemplates } from "../../environments/prometheus/signal-templates.js";

const checkout: WorkloadRef = { namespace: "shop", kind: "Deployment", name: "checkout" };

/** A minimal valid file: every signal a plain template naming which level it came from. */
function file(extra = "", signalOverrides: Record<string, string> = {}): string {
  const signals = ["error_rate", "latency_p99_ms", "request_rate", "memory_mib", "cpu_cores", "disk_usage_pct", "consumer_lag"]
    .map((m) => `  ${m}: '${signalOverrides[m] ?? `default_${m}{namespace="{{namespace}}", pod=~"{{pod_regex}}"}`}'`)
    .join("\n");
  return [
    "window: 2m",
    "signals:",
    signals,
    "  ready_replicas:",
    "    deployment: 'kube_deployment_status_replicas_available{deployment=\"{{workload}}\"}'",
    "    statefulset: 'kube_statefulset_status_replicas_ready{statefulset=\"{{workload}}\"}'",
    "    daemonset: 'kube_daemonset_status_number_ready{daemonset=\"{{workload}}\"}'",
    extra,
  ].join("\n");
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "suture-signals-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function refusal(text: string): Error {
  try {
    parseSignalsFile(text, "signals.yaml");
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the file to be refused");
}

describe("signal templates file", () => {
  it("Given the shipped defaults, When loaded, Then every signal of every kind has a template that fills without leftover variables", async () => {
    const templates = new SignalTemplates((await loadSignalsFile()).data);
    for (const kind of ["Deployment", "StatefulSet", "DaemonSet"] as const) {
      const { queries } = templates.resolve({ namespace: "shop", kind, name: "checkout" });
      for (const [metric, query] of Object.entries(queries)) {
        expect(query, `${kind} ${metric}`).toBeDefined();
        expect(query).not.toMatch(/\{\{|\}\}/);
      }
    }
    // And the kind picks the kube-state-metrics series.
    expect(templates.resolve({ namespace: "shop", kind: "StatefulSet", name: "kafka" }).queries.ready_replicas).toContain(
      'kube_statefulset_status_replicas_ready{namespace="shop", statefulset="kafka"}',
    );
    expect(templates.resolve({ namespace: "shop", kind: "StatefulSet", name: "kafka" }).queries.memory_mib).toContain('pod=~"kafka-[0-9]+"');
  });

  it("Given a template naming an unknown variable, When loaded, Then it is refused with file:line, the signal's path and the variable", () => {
    const text = file("", { latency_p99_ms: 'histogram_quantile(0.99, x{service="{{service}}"})' });
    const error = refusal(text);
    expect(error).toBeInstanceOf(InvalidSignalsFileError);
    const line = text.split("\n").findIndex((l) => l.includes("{{service}}")) + 1;
    expect(error.message).toContain(`signals.yaml:${line}: signals.latency_p99_ms: unknown template variable {{service}}`);
  });

  it("Given an override's per-kind template and pvcRegex with unknown variables, When loaded, Then each is refused at its own line", () => {
    const text = file(["overrides:", "  - workload: kafka", "    pvcRegex: '{{pod_regex}}'", "    signals:", "      ready_replicas:", "        statefulset: 'x{a=\"{{nme}}\"}'"].join("\n"));
    const message = refusal(text).message;
    expect(message).toMatch(/signals\.yaml:\d+: overrides\[0\]\.pvcRegex: unknown template variable \{\{pod_regex\}\}/);
    expect(message).toMatch(/signals\.yaml:\d+: overrides\[0\]\.signals\.ready_replicas\.statefulset: unknown template variable \{\{nme\}\}/);
  });

  it("Given defaults missing a signal, an override with neither namespace nor workload, a duplicate override and a bad window, When loaded, Then each problem is named", () => {
    const text = file(["overrides:", "  - consumerGroup: x", "  - namespace: shop", "    window: 2 minutes", "  - namespace: shop"].join("\n")).replace(/ {2}cpu_cores: .*\n/, "");
    const message = refusal(text).message;
    expect(message).toContain("signals.cpu_cores: expected a template for cpu_cores");
    expect(message).toContain("overrides[0]: expected namespace, workload or both");
    expect(message).toContain("overrides[1].window: expected a PromQL duration");
    expect(message).toContain("overrides[2]: the same namespace/workload as overrides[1]");
  });

  it("Given overrides for the namespace, the workload and both, When resolved, Then the most specific wins field by field and other workloads keep the defaults", () => {
    const templates = new SignalTemplates(
      parseSignalsFile(
        file(
          [
            "overrides:",
            "  - namespace: shop",
            "    window: 5m",
            "    signals: { error_rate: 'ns_error', request_rate: 'ns_rate', memory_mib: 'ns_memory' }",
            "  - namespace: shop",
            "    workload: checkout",
            "    consumerGroup: checkout-consumers",
            "    dependencies: [payments, inventory]",
            "    signals: { error_rate: 'exact_error[{{window}}]' }",
            "  - workload: checkout",
            "    signals: { error_rate: 'workload_error', request_rate: 'workload_rate', consumer_lag: 'lag{g=\"{{consumer_group}}\"}' }",
          ].join("\n"),
        ),
      ),
    );
    const resolved = templates.resolve(checkout);
    expect(resolved.queries.error_rate).toBe("exact_error[5m]");
    expect(resolved.queries.request_rate).toBe("workload_rate");
    expect(resolved.queries.memory_mib).toBe("ns_memory");
    expect(resolved.queries.cpu_cores).toBe('default_cpu_cores{namespace="shop", pod=~"checkout-[a-z0-9]+-[a-z0-9]+"}');
    expect(resolved.queries.consumer_lag).toBe('lag{g="checkout-consumers"}');
    expect(resolved.dependencies).toEqual(["payments", "inventory"]);
    // Same name in another namespace: the workload-only override applies, the shop ones do not.
    const elsewhere = templates.resolve({ ...checkout, namespace: "staging" });
    expect(elsewhere.queries.error_rate).toBe("workload_error");
    expect(elsewhere.queries.memory_mib).toBe('default_memory_mib{namespace="staging", pod=~"checkout-[a-z0-9]+-[a-z0-9]+"}');
    expect(elsewhere.consumerGroup).toBe("checkout");
    expect(elsewhere.dependencies).toEqual([]);
    // Another workload in shop: only the namespace override.
    expect(templates.resolve({ ...checkout, name: "cart" }).queries.error_rate).toBe("ns_error");
  });

  it("Given names with quotes, backslashes and regex metacharacters, When filled, Then they stay inside their string literal and match literally", () => {
    const templates = new SignalTemplates(parseSignalsFile(file()));
    const { queries } = templates.resolve({ namespace: "shop", kind: "Deployment", name: 'a"}or vector(1) \\ x.y' });
    expect(queries.ready_replicas).toBe('kube_deployment_status_replicas_available{deployment="a\\"}or vector(1) \\\\ x.y"}');
    expect(queries.memory_mib).toBe('default_memory_mib{namespace="shop", pod=~"a\\"\\\\}or vector\\\\(1\\\\) \\\\\\\\ x\\\\.y-[a-z0-9]+-[a-z0-9]+"}');
    expect(escapePromqlString('"\\\n')).toBe('\\"\\\\\\n');
    expect(escapeRegex("a.b*c|d(e)[f]{g}^$?+\\")).toBe("a\\.b\\*c\\|d\\(e\\)\\[f\\]\\{g\\}\\^\\$\\?\\+\\\\");
    // The regex built from an escaped name matches exactly that name.
    expect(new RegExp(`^${escapeRegex("x.y|z")}$`).test("x.y|z")).toBe(true);
    expect(new RegExp(`^${escapeRegex("x.y|z")}$`).test("xay")).toBe(false);
  });

  it("Given a signals file on disk with a syntax error, When loaded, Then the error names the file and line", async () => {
    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, "window: 2m\nsignals: [\n");
    await expect(loadSignalsFile(bad)).rejects.toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+`));
  });
});

describe("Prometheus configuration", () => {
  const base = { SUTURE_HOME: "/tmp/suture-test-home" };

  it("Given PROMETHEUS_URL and a bearer token, When loaded, Then Config.prometheus has them, the step defaults to 15 s and the description hides the token", () => {
    const config = loadConfig({ ...base, PROMETHEUS_URL: "http://prometheus.monitoring:9090", PROMETHEUS_BEARER_TOKEN: "tok-very-secret", SUTURE_KUBECONFIG: "in-cluster" });
    expect(config.prometheus).toEqual({ url: "http://prometheus.monitoring:9090", auth: { kind: "bearer", token: "tok-very-secret" }, stepSeconds: 15 });
    const line = describeMetrics(config);
    expect(line).toContain("http://prometheus.monitoring:9090");
    expect(line).toContain("bearer token");
    expect(line).not.toContain("tok-very-secret");
  });

  it("Given basic auth, a signals file and a step, When loaded, Then they are kept and the password is never described", () => {
    const config = loadConfig({
      ...base,
      PROMETHEUS_URL: "https://vm.example:8428/prom",
      PROMETHEUS_USERNAME: "suture",
      PROMETHEUS_PASSWORD: "pw-secret",
      SUTURE_PROMETHEUS_SIGNALS: "/etc/suture/signals.yaml",
      SUTURE_PROMETHEUS_STEP_SECONDS: "30",
    });
    expect(config.prometheus).toEqual({
      url: "https://vm.example:8428/prom",
      auth: { kind: "basic", username: "suture", password: "pw-secret" },
      signalsFile: "/etc/suture/signals.yaml",
      stepSeconds: 30,
    });
    expect(describeMetrics(config)).not.toContain("pw-secret");
    expect(describeMetrics(config)).toContain("unused: SUTURE_KUBECONFIG is unset");
    expect(describeMetrics(loadConfig(base))).toContain("PROMETHEUS_URL unset");
  });

  it("Given conflicting or incomplete Prometheus settings, When loaded, Then each is refused with a message naming the variable and never the secret", () => {
    const refuse = (env: Record<string, string>): string => {
      try {
        loadConfig({ ...base, ...env });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`expected ${JSON.stringify(Object.keys(env))} to be refused`);
    };
    const url = "http://127.0.0.1:9090";
    expect(refuse({ PROMETHEUS_URL: url, PROMETHEUS_BEARER_TOKEN: "tok-x", PROMETHEUS_USERNAME: "u", PROMETHEUS_PASSWORD: "p" })).toContain(
      "either a bearer token or PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD, not both",
    );
    expect(refuse({ PROMETHEUS_URL: url, PROMETHEUS_USERNAME: "u" })).toContain("PROMETHEUS_PASSWORD: expected a password with PROMETHEUS_USERNAME");
    expect(refuse({ PROMETHEUS_URL: url, PROMETHEUS_PASSWORD: "pw-secret" })).toContain("PROMETHEUS_USERNAME: expected a user name");
    expect(refuse({ PROMETHEUS_URL: "ftp://prom:9090" })).toContain("PROMETHEUS_URL: expected an http(s) URL");
    expect(refuse({ PROMETHEUS_URL: "http://user:pw-secret@prom:9090" })).toContain("expected no credentials in the URL");
    expect(refuse({ PROMETHEUS_URL: "http://user:pw-secret@prom:9090" })).not.toContain("pw-secret");
    expect(refuse({ PROMETHEUS_BEARER_TOKEN: "tok-x" })).toContain("PROMETHEUS_URL: expected with PROMETHEUS_BEARER_TOKEN");
    expect(refuse({ PROMETHEUS_URL: url, SUTURE_PROMETHEUS_STEP_SECONDS: "0" })).toContain("SUTURE_PROMETHEUS_STEP_SECONDS");
  });
});
