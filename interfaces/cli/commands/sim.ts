import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../../../app/config.js";
import { loadScenario } from "../../../app/scenario.js";
import { startSimulatedCluster } from "../../../app/sim-cluster.js";
import { InvalidInputError } from "../../../domain/errors.js";
import type { CommandArgs } from "../args.js";
import { untilSignal } from "./serve.js";

function numberFlag(value: string | boolean | string[] | undefined, flag: string, fallback: number, min: number, max: number, whole: boolean): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
    throw new InvalidInputError(`--${flag}: expected a ${whole ? "whole " : ""}number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * `suture sim serve --scenario <file> [--port p] [--host h] [--speed n | --realtime] [--rbac <manifest>] [--kubeconfig <out>]`:
 * serves a scenario's simulated cluster over the Kubernetes API (and its Prometheus metrics on
 * `/metrics`) until SIGTERM, and writes a kubeconfig for kubectl and for Suture itself.
 */
export async function simCommand(config: Config, args: CommandArgs): Promise<number> {
  const [sub] = args.positionals;
  if (sub !== "serve") throw new InvalidInputError(`unknown sim command ${JSON.stringify(sub ?? "")}; known: serve`);
  const file = args.values["scenario"];
  if (typeof file !== "string") throw new InvalidInputError("sim serve: --scenario <file> is required (e.g. data/scenarios/bad-rollout-missing-image.yaml)");
  const scenario = await loadScenario(file);
  const speed = numberFlag(args.values["speed"], "speed", 1, 0.1, 3600, false);
  const realtime = args.values["realtime"] === true;
  if (realtime && speed !== 1) {
    throw new InvalidInputError(`sim serve: --realtime runs the world at the wall clock's pace (speed 1), so it cannot take --speed ${String(args.values["speed"])}; drop one of them`);
  }
  const rbac = args.values["rbac"];
  const cluster = await startSimulatedCluster(scenario, {
    host: typeof args.values["host"] === "string" ? args.values["host"] : "127.0.0.1",
    port: numberFlag(args.values["port"], "port", 0, 0, 65535, true),
    speed,
    realtime,
    ...(typeof rbac === "string" ? { rbacManifest: rbac } : {}),
  });
  const out = typeof args.values["kubeconfig"] === "string" ? args.values["kubeconfig"] : path.join(config.home, "sim-kubeconfig.yaml");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, cluster.server.kubeconfig({ namespace: cluster.namespaces[0] ?? "default" }), { mode: 0o600 });
  await chmod(out, 0o600);
  const ns = cluster.namespaces.join(",");
  const stopped = untilSignal(cluster, "suture sim serve");
  const clock = realtime ? "minute 0 is now, real time" : `clock at the alert, ${speed}× real time`;
  console.log(`suture sim serve: ${scenario.name} served as a Kubernetes API on ${cluster.server.url} (namespaces ${ns}; ${clock})`);
  console.log(`  metrics (Prometheus text format, no auth): ${cluster.metricsUrl}`);
  if (cluster.user !== undefined) console.log(`  RBAC: every request acts as ${cluster.user} with the roles ${String(rbac)} binds`);
  console.log(`  kubeconfig: ${out}`);
  console.log(`  kubectl --kubeconfig ${out} get deploy,rs,pods,svc,netpol,cm -n ${cluster.namespaces[0] ?? "default"}`);
  console.log(`  point Suture at it: SUTURE_KUBECONFIG=${out} SUTURE_KUBE_NAMESPACES=${ns} npx suture serve --with-worker`);
  return stopped;
}
