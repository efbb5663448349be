import { SharedWorld } from "../environments/shared-world.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import { openWorldId } from "../store/environments.js";
import type { Suture } from "./suture.js";
import type { Clock } from "../domain/clock.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";
import { clusterNamespaceOf } from "./cluster.js";
import { InvalidInputError } from "../domain/errors.js";

/**
 * The world a queued incident runs against: the configured Kubernetes cluster (environment id
 * `kubernetes:<namespace>`), or the fleet world its workload belongs to.
 */
export async function openIncidentWorld(suture: Suture, environmentId: string): Promise<EnvironmentAdapter & { readonly clock: Clock }> {
  const namespace = clusterNamespaceOf(environmentId);
  if (namespace === undefined) return openFleetWorld(suture, environmentId);
  if (suture.cluster === undefined) throw new ClusterNotConfiguredError(environmentId);
  return suture.cluster.environmentFor(namespace);
}

/** Thrown when an incident was routed to the cluster but this process has none configured. */
export class ClusterNotConfiguredError extends InvalidInputError {
  constructor(environmentId: string) {
    super(`incident's environment is ${environmentId}, but this process has no cluster configured (set SUTURE_KUBECONFIG as the intake did)`);
    this.name = "ClusterNotConfiguredError";
  }
}

/** The fleet world an incident's workload belongs to, shared by every incident on it and every worker. */
export async function openFleetWorld(suture: Suture, environmentId: string): Promise<SharedWorld> {
  return new SharedWorld(suture.db, environmentId).open();
}

/** Persists a simulated world after every change, so a killed run resumes against the same world. */
export function persistEnvironment(suture: Suture, incidentId: string, spec: unknown, env: SimEnvironment): void {
  env.onChange = async (snapshot) => {
    await suture.store.saveEnvironment(incidentId, "sim", spec, snapshot);
  };
}

/** Saves the world as the incident opens (kept for replays) and keeps saving it as it changes. */
export async function saveOpenWorld(suture: Suture, incidentId: string, spec: unknown, env: SimEnvironment): Promise<void> {
  const snapshot = env.toJSON();
  await suture.store.saveEnvironment(openWorldId(incidentId), "sim", spec, snapshot);
  await suture.store.saveEnvironment(incidentId, "sim", spec, snapshot);
  persistEnvironment(suture, incidentId, spec, env);
}

/** Loads the persisted world of an incident (a scenario run's or a replay's own) and keeps persisting it. */
export async function loadEnvironment(suture: Suture, incidentId: string): Promise<SimEnvironment> {
  const saved = await suture.store.loadEnvironment(incidentId);
  if (saved === undefined) throw new Error(`incident "${incidentId}" has no saved environment to resume against`);
  const env = SimEnvironment.fromJSON(saved.state);
  persistEnvironment(suture, incidentId, saved.spec, env);
  return env;
}
