import { sameData, type ConfigMapHistory, type ConfigMapVersion, type ObservedConfigMap } from "../../domain/config-versions.js";

/** A {@link ConfigMapHistory} held in this process only: history starts again after a restart. */
export class InMemoryConfigMapHistory implements ConfigMapHistory {
  private readonly byConfigMap = new Map<string, ConfigMapVersion[]>();

  async observe(cm: ObservedConfigMap): Promise<number> {
    const id = `${cm.namespace}/${cm.name}`;
    const versions = this.byConfigMap.get(id) ?? [];
    const latest = versions.at(-1);
    if (latest !== undefined && sameData(latest.data, cm.data)) return latest.version;
    const version = (latest?.version ?? 0) + 1;
    versions.push({ version, data: { ...cm.data }, resourceVersion: cm.resourceVersion, observedAt: cm.observedAt, redacted: false });
    this.byConfigMap.set(id, versions);
    return version;
  }

  async versions(namespace: string, name: string): Promise<ConfigMapVersion[]> {
    return (this.byConfigMap.get(`${namespace}/${name}`) ?? []).map((v) => ({ ...v, data: { ...v.data } }));
  }
}
