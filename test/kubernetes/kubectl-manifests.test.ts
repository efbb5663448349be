import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SimEnvironment } from "../../environments/simulator/index.js";
import { DEPLOYMENTS } from "../../environments/simulator/kinds.js";
import { ROOT } from "../helpers/cli.js";
import { waitFor } from "../helpers/fleet.js";
import { kubectl, runKubectl } from "../helpers/kubernetes.js";

// Several workloads in one namespace, with ConfigMaps and a shared dependency.
const SCENARIO = "data/scenarios/shared-config-flag-blast-radius.yaml";

async function startSimServe(dir: string): Promise<{ child: ChildProcess; kubeconfig: string }> {
  const kubeconfig = path.join(dir, "kubeconfig.yaml");
  const child = spawn(process.execPath, ["interfaces/cli/suture.js", "sim", "serve", "--scenario", SCENARIO, "--port", "0", "--kubeconfig", kubeconfig], {
    cwd: ROOT,
    env: { ...process.env, SUTURE_HOME: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(async () => /served as a Kubernetes API on http:\/\/127\.0\.0\.1:\d+/.test(output) || child.exitCode !== null, 30_000, "sim serve to print its address");
  if (!/served as a Kubernetes API/.test(output)) throw new Error(`suture sim serve did not start:\n${output}`);
  return { child, kubeconfig };
}

describe.skipIf(kubectl === undefined)(`kubectl get -o yaml output loads as a scenario environment${kubectl === undefined ? " (skipped: kubectl is not on PATH)" : ""}`, () => {
  let dir: string;
  let cacheDir: string;
  let sim: Awaited<ReturnType<typeof startSimServe>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-kubectl-manifests-"));
    cacheDir = path.join(dir, "kube-cache");
    sim = await startSimServe(dir);
  }, 60_000);
  afterAll(async () => {
    sim?.child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("Given `kubectl get deploy,svc,cm -o yaml` of a served scenario, When it is the manifests of an environment, Then the world builds the same Deployments (names, templates, replicas) with healthy pods", async () => {
    const result = await runKubectl(sim.kubeconfig, cacheDir, ["get", "deploy,svc,cm", "-n", "prod", "-o", "yaml"]);
    expect(result.code, result.stderr).toBe(0);
    const printed = parse(result.stdout) as { kind: string; items: V1Deployment[] };
    expect(printed.kind).toBe("List");
    const served = printed.items.filter((o) => o.kind === "Deployment");
    expect(served.length).toBeGreaterThanOrEqual(2);
    // What the API server adds is in the output, and accepted.
    expect(served[0]?.metadata?.uid).toBeTruthy();
    expect(served[0]?.status).toBeDefined();

    const env = SimEnvironment.create({ seed: 3, manifests: result.stdout });
    const built = env.list(DEPLOYMENTS, "prod") as unknown as V1Deployment[];
    expect(built.map((d) => d.metadata?.name).sort()).toEqual(served.map((d) => d.metadata?.name).sort());
    for (const d of served) {
      const b = built.find((x) => x.metadata?.name === d.metadata?.name);
      expect(b?.spec?.template, d.metadata?.name).toEqual(d.spec?.template);
      expect(b?.spec?.replicas, d.metadata?.name).toBe(d.spec?.replicas);
      expect(b?.status?.readyReplicas ?? 0, d.metadata?.name).toBe(d.spec?.replicas);
    }
  });
});
