import { KubeConfig } from "@kubernetes/client-node";
import type { ApiFaults } from "../environments/cluster-api/faults.js";
import { startClusterApiServer } from "../environments/cluster-api/server.js";
import { KubernetesEnvironment } from "../environments/kubernetes/kubernetes-environment.js";
import { SimConfigMapHistory, SimRunbookActions, SimSignals, type SimEnvironment } from "../environments/simulator/index.js";

/** How a scenario's world is perceived and acted on: through its Kubernetes API, or by calling the simulator directly. */
export const PERCEPTION_PATHS = ["kubernetes", "in-process"] as const;
/** One of {@link PERCEPTION_PATHS}. */
export type PerceptionPath = (typeof PERCEPTION_PATHS)[number];

/**
 * The path scenario runs take unless told otherwise: the world's Kubernetes API through the real
 * adapter, so the adapter is the code that runs every day (the demo, `suture eval`, resume,
 * approval and replay). In-process stays for speed in tests; test/kubernetes/parity.test.ts
 * shows both give identical evidence and outcomes on every shipped scenario.
 */
export const DEFAULT_PERCEPTION_PATH: PerceptionPath = "kubernetes";

/** Parses `--via`, failing with the accepted values. */
export function parsePerceptionPath(value: unknown): PerceptionPath {
  if (value === undefined) return DEFAULT_PERCEPTION_PATH;
  if (typeof value === "string" && (PERCEPTION_PATHS as readonly string[]).includes(value)) return value as PerceptionPath;
  throw new Error(`--via ${JSON.stringify(value)}: expected one of ${PERCEPTION_PATHS.join(", ")}`);
}

/** The real Kubernetes adapter over a simulated world served on loopback; close it to stop the server. */
export interface SimulatedClusterAdapter {
  adapter: KubernetesEnvironment;
  close(): Promise<void>;
}

/** Every namespace of the simulated world. */
function namespacesOf(env: SimEnvironment): string[] {
  const namespaceType = env.types().find((t) => t.plural === "namespaces");
  return namespaceType === undefined ? [] : env.list(namespaceType, undefined).map((n) => n.metadata.name ?? "");
}

/**
 * Serves a simulated world as a Kubernetes API on loopback and connects the real adapter to it:
 * Kubernetes objects go over HTTP through `@kubernetes/client-node`; what Kubernetes does not model
 * (metrics, consumer groups, disks, breakers, dependencies, runbook steps, ConfigMap history) comes
 * from the simulator in-process. The adapter's clock is the world's, so verify's settle sleep
 * advances the world; every write is persisted through the world's `onChange` before it is answered.
 */
export async function connectToSimulatedCluster(env: SimEnvironment, namespace: string, faults?: ApiFaults): Promise<SimulatedClusterAdapter> {
  const server = await startClusterApiServer({ backend: env, now: () => new Date(env.now()), afterWrite: () => env.flush(), ...(faults !== undefined ? { faults } : {}) });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(server.kubeconfig({ namespace }));
  const adapter = new KubernetesEnvironment({
    kubeConfig,
    namespace,
    namespaces: namespacesOf(env),
    signals: new SimSignals(env),
    runbookActions: new SimRunbookActions(env),
    configHistory: new SimConfigMapHistory(env),
    clock: env.clock,
  });
  return { adapter, close: () => server.close() };
}

/**
 * Runs `work` against a simulated world along `via`: the world itself, or the Kubernetes adapter
 * over its API with bare workload names resolved in `namespace` (where the alerting workload lives),
 * its API server failing as `faults` say (none by default; chaos tests inject them).
 */
export async function alongPath<T>(env: SimEnvironment, namespace: string, via: PerceptionPath, work: (world: SimEnvironment | KubernetesEnvironment) => Promise<T>, faults?: ApiFaults): Promise<T> {
  if (via === "in-process") return work(env);
  const cluster = await connectToSimulatedCluster(env, namespace, faults);
  try {
    return await work(cluster.adapter);
  } finally {
    await cluster.close();
  }
}
