/**
 * Versions of ConfigMaps Suture has observed. Kubernetes keeps no history of a ConfigMap, so every
 * read records what it saw and a revert writes one of these back. Implementations: in memory
 * (`environments/kubernetes/config-history.ts`, one process) and PostgreSQL
 * (`store/config-versions.ts`, survives restarts, shared by workers).
 */

/** One ConfigMap as Suture read it from the API server. */
export interface ObservedConfigMap {
  namespace: string;
  name: string;
  resourceVersion: string;
  data: Record<string, string>;
  /** Epoch ms when Suture read it. */
  observedAt: number;
}

/** One recorded version of a ConfigMap's data; versions count from 1 per ConfigMap. */
export interface ConfigMapVersion {
  version: number;
  data: Record<string, string>;
  resourceVersion: string;
  observedAt: number;
  /** The data held secret-looking values and was stored redacted: this version is never written back. */
  redacted: boolean;
  /** Who made the change, when the history's source knows (a GitOps log does; the API server does not). */
  changedBy?: string;
}

/** Where observed ConfigMap versions are kept. */
export interface ConfigMapHistory {
  /** Records the data as a new version unless it equals the latest recorded; returns the latest version number. */
  observe(cm: ObservedConfigMap): Promise<number>;
  /** Every recorded version, oldest first (empty when never observed). */
  versions(namespace: string, name: string): Promise<ConfigMapVersion[]>;
}

/** True when two ConfigMap data maps hold the same keys and values. */
export function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
