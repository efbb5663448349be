import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { METRIC_NAMES, type WorkloadDescription } from "../../environments/adapter.js";
import { KubernetesEnvironment } from "../../environments/kubernetes/kubernetes-environment.js";
import { extractEvidence } from "../../evidence/extract.js";
import { makeAlert } from "../helpers/factories.js";
import { ROOT } from "../helpers/cli.js";
import { kubectl, runKubectl } from "../helpers/kubernetes.js";
import { waitFor } from "../helpers/fleet.js";

const SCENARIO = "data/scenarios/bad-rollout-missing-image.yaml";

/** Starts `suture sim serve` as a person would and waits for the address it prints. */
async function startSimServe(dir: string): Promise<{ child: ChildProcess; url: string; kubeconfig: string; output: () => string }> {
  const kubeconfig = path.join(dir, "kubeconfig.yaml");
  // 60 simulated seconds per second: a rollout settles in seconds of the test's time.
  const child = spawn(process.execPath, ["interfaces/cli/suture.js", "sim", "serve", "--scenario", SCENARIO, "--port", "0", "--speed", "60", "--kubeconfig", kubeconfig], {
    cwd: ROOT,
    env: { ...process.env, SUTURE_HOME: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(async () => /served as a Kubernetes API on http:\/\/127\.0\.0\.1:\d+/.test(output) || child.exitCode !== null, 30_000, "sim serve to print its address");
  const url = /served as a Kubernetes API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  if (url === undefined) throw new Error(`suture sim serve did not start:\n${output}`);
  return { child, url, kubeconfig, output: () => output };
}

/** What Suture's perceive makes of the workload: the same reads, through the Kubernetes adapter, reduced to evidence. */
async function perceive(env: KubernetesEnvironment): Promise<{ workload: WorkloadDescription; facts: Array<{ key: string; value: unknown; summary: string }> }> {
  const workload = await env.describeWorkload("checkout");
  const deploys = await env.deployHistory("checkout");
  const logs = await env.tailLogs("checkout", 200);
  const ready = await env.queryMetric("checkout", "ready_replicas", 30);
  const alert = makeAlert({ service: "checkout", namespace: "prod", name: "KubePodNotReady" });
  const extracted = extractEvidence(
    alert,
    [{ service: "checkout", role: "alerting", workload, deploys, logs, consumerGroups: [], metrics: { ready_replicas: ready } }],
    { firing: 1, resolved: 0, windowMinutes: 60 },
    env.clock.now(),
  );
  return { workload, facts: extracted.evidence.map((e) => ({ key: e.key, value: e.value, summary: e.summary })) };
}

describe.skipIf(kubectl === undefined)(`kubectl against \`suture sim serve\` on a shipped bad-rollout scenario${kubectl === undefined ? " (skipped: kubectl is not on PATH)" : ""}`, () => {
  let dir: string;
  let sim: Awaited<ReturnType<typeof startSimServe>>;
  let cacheDir: string;
  const run = async (...args: string[]): Promise<string> => {
    const result = await runKubectl(sim.kubeconfig, cacheDir, args);
    expect(result.code, `kubectl ${args.join(" ")}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-sim-serve-"));
    cacheDir = path.join(dir, "kube-cache");
    sim = await startSimServe(dir);
  }, 60_000);
  afterAll(async () => {
    sim?.child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("lists, describes, shows logs and rollout history; after `kubectl rollout undo` Suture's perception sees checkout healthy", async () => {
    // Given the scenario served at the moment its alert fires
    const listing = await run("get", "deploy,rs,pods,svc,netpol,cm", "-n", "prod");
    expect(listing).toMatch(/deployment\.apps\/checkout\s+3\/4/);
    expect(listing).toMatch(/ImagePullBackOff|ErrImagePull/);
    expect(listing).toMatch(/service\/checkout/);
    const failing = /pod\/(checkout-\S+)\s+0\/1\s+(?:ImagePullBackOff|ErrImagePull)/.exec(listing)?.[1];
    const healthy = /pod\/(checkout-\S+)\s+1\/1\s+Running/.exec(listing)?.[1];
    expect(failing, listing).toBeDefined();
    expect(await run("describe", "pod", failing!, "-n", "prod")).toMatch(/Failed to pull image "registry\.internal\/checkout:2\.4\.0"/);
    expect(await run("logs", healthy!, "-n", "prod", "--tail", "5")).toMatch(/GET \/api\/v1\/checkout/);
    const history = await run("rollout", "history", "deployment/checkout", "-n", "prod");
    expect(history).toMatch(/2\s+deploy registry\.internal\/checkout:2\.3\.1/);
    expect(history).toMatch(/3\s+deploy registry\.internal\/checkout:2\.4\.0/);
    // and Suture, reading through the Kubernetes API, sees the failing rollout
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(sim.kubeconfig);
    const env = new KubernetesEnvironment({ kubeConfig, namespace: "prod" });
    const before = await perceive(env);
    expect(before.facts.filter((f) => f.key === "pod.reason").map((f) => f.value)).toEqual(expect.arrayContaining([expect.stringMatching(/ImagePullBackOff|ErrImagePull/)]));

    // When an operator runs `kubectl rollout undo`
    expect(await run("rollout", "undo", "deployment/checkout", "-n", "prod")).toMatch(/rolled back/);

    // Then, once the controllers have rolled the pods, Suture's perception sees checkout healthy
    await waitFor(
      async () => {
        const w = await env.describeWorkload("checkout");
        return w.deployment.readyReplicas === w.deployment.desiredReplicas && w.pods.every((p) => p.ready);
      },
      30_000,
      "checkout's pods to be ready after the undo",
    );
    const after = await perceive(env);
    expect(after.facts.filter((f) => f.key === "pod.reason")).toEqual([]);
    expect(after.workload.deployment).toMatchObject({ desiredReplicas: 4, readyReplicas: 4, image: "registry.internal/checkout:2.3.1" });
    // and the history reads as Kubernetes keeps it: revision 2's ReplicaSet came back as revision 4
    const undone = await run("rollout", "history", "deployment/checkout", "-n", "prod");
    expect(undone).toMatch(/4\s+deploy registry\.internal\/checkout:2\.3\.1/);
    expect(undone).not.toMatch(/^2\s/m);
    expect(METRIC_NAMES).toContain("ready_replicas");
  }, 120_000);
});
