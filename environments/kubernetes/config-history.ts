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
}

/**
 * The versions of ConfigMaps Suture has observed. Kubernetes keeps no history of a ConfigMap, so
 * every read records what it saw; a revert picks one of these. Implementations: in memory (one
 * process) and PostgreSQL (survives restarts, shared by workers).
 */
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

/** A {@link ConfigMapHistory} held in this process only: history starts again after a restart. */
export class InMemoryConfigMapHistory implements ConfigMapHistory {
  private readonly byConfigMap = new Map<string, ConfigMapVersion[]>();

  async observe(cm: ObservedConfigMap): Promise<number> {
    const id = `${cm.namespace}/${cm.name}`;
    const versions = this.byConfigMap.get(id) ?? [];
    const latest = versions.at(-1);
    if (latest !== undefined && sameData(latest.data, cm.data)) return latest.version;
    const version = (latest?.version ?? 0) + 1;
    versions.push({ version, data: { ...cm.data }, resourceVersion: cm.resourceVersion, observedAt: cm.observedAt });
    this.byConfigMap.set(id, versions);
    return version;
  }

  async versions(namespace: string, name: string): Promise<ConfigMapVersion[]> {
    return (this.byConfigMap.get(`${namespace}/${name}`) ?? []).map((v) => ({ ...v, data: { ...v.data } }));
  }
}
