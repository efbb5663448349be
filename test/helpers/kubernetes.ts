import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import path from "node:path";
import type { KubeObject } from "../../environments/cluster-api/backend.js";
import { parseManifest } from "../../environments/cluster-api/manifest.js";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { rulesFromManifest, serviceAccountUser } from "../../environments/cluster-api/rbac.js";
import { startClusterApiServer, type ClusterApiServer } from "../../environments/cluster-api/server.js";
import { ROOT } from "./cli.js";

/** The prod namespace mid-rollout of checkout (test/fixtures/kubernetes/checkout.yaml). */
export const CHECKOUT_FIXTURE = readFileSync(path.join(ROOT, "test", "fixtures", "kubernetes", "checkout.yaml"), "utf8");
/** Suture's RBAC manifest as shipped. */
export const RBAC_MANIFEST = readFileSync(path.join(ROOT, "deploy", "kubernetes", "rbac.yaml"), "utf8");
/** The user the API server names for Suture's ServiceAccount. */
export const SUTURE_USER = serviceAccountUser({ namespace: "suture-system", name: "suture" });

/** The fixture's pods. */
export const PODS = { running: "checkout-6b7f9d5c48-x2x9p", restarted: "checkout-6b7f9d5c48-7kq4m", pullBackOff: "checkout-85d4c7b9f7-lmn8z" } as const;
/** The fixture's ReplicaSets by revision. */
export const REPLICA_SETS = { revision1: "checkout-6b7f9d5c48", revision2: "checkout-85d4c7b9f7" } as const;

/** The fixture's objects, parsed once (property tests build hundreds of backends). */
const CHECKOUT_OBJECTS = parseManifest(CHECKOUT_FIXTURE);

/** A backend seeded with the checkout fixture and the logs of its pods. */
export function checkoutBackend(): MemoryClusterBackend {
  const backend = new MemoryClusterBackend();
  for (const object of CHECKOUT_OBJECTS) backend.load(structuredClone(object));
  backend.setPodLog("prod", PODS.running, "checkout", "listening on :8080\nGET /cart 200\nGET /pay 200\n");
  backend.setPodLog("prod", PODS.restarted, "checkout", "listening on :8080\n");
  backend.setPodLog("prod", PODS.restarted, "checkout", "allocating cart cache\nfatal: out of memory\n", { previous: true });
  return backend;
}

/** A running API server over the checkout fixture; `rbac` enforces Suture's shipped manifest. */
export async function startCheckoutServer(options: { rbac?: boolean; backend?: MemoryClusterBackend } = {}): Promise<{ server: ClusterApiServer; backend: MemoryClusterBackend }> {
  const backend = options.backend ?? checkoutBackend();
  const server = await startClusterApiServer({ backend, ...(options.rbac === true ? { rbac: { rules: rulesFromManifest(RBAC_MANIFEST), user: SUTURE_USER } } : {}) });
  return { server, backend };
}

/** A minimal Deployment, with overrides merged at the top level. */
export function makeDeployment(name: string, overrides: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "prod", labels: { app: name } },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } } },
    ...overrides,
  };
}

/** A minimal Pod with one container. */
export function makePod(name: string, labels: Record<string, string> = {}, overrides: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "prod", labels }, spec: { containers: [{ name: "app", image: "app:1" }] }, ...overrides };
}

/** kubectl on PATH, if any: these tests drive the real client against the simulated server. */
function findKubectl(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "kubectl");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The kubectl binary on PATH (undefined when absent: tests that need it skip, saying so). */
export const kubectl = findKubectl();
const KUBECTL_TIMEOUT_MS = 20_000;

/** What one kubectl run printed and returned. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against `kubeconfig` with its own discovery cache, and a timeout. */
export function runKubectl(kubeconfig: string, cacheDir: string, args: readonly string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(kubectl ?? "kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args], { timeout: KUBECTL_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
