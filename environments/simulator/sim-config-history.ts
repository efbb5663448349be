import { type ConfigMapHistory, type ConfigMapVersion, type ObservedConfigMap } from "../../domain/config-versions.js";
import type { SimEnvironment } from "./sim-environment.js";

/**
 * ConfigMap versions as the simulated world recorded every write (the GitOps history a real
 * cluster would keep in its repository): the Kubernetes adapter over a simulated cluster knows
 * the versions from before Suture first looked, as the in-process simulator does.
 */
export class SimConfigMapHistory implements ConfigMapHistory {
  constructor(private readonly env: SimEnvironment) {}

  async observe(cm: ObservedConfigMap): Promise<number> {
    // Every write of the world is in its history, so the data just read is its latest version.
    return this.env.configMapHistory(cm.namespace, cm.name).at(-1)?.version ?? 1;
  }

  async versions(namespace: string, name: string): Promise<ConfigMapVersion[]> {
    return this.env
      .configMapHistory(namespace, name)
      .map((v) => ({ version: v.version, data: { ...v.data }, resourceVersion: "", observedAt: v.updatedAt, redacted: false, ...(v.changedBy !== undefined ? { changedBy: v.changedBy } : {}) }));
  }
}
