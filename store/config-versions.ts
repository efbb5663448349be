import type { ConfigMapHistory, ConfigMapVersion, ObservedConfigMap } from "../domain/config-versions.js";
import { canonicalJson } from "../domain/json.js";
import { redactValue } from "../domain/secrets.js";
import type { Queryable } from "./database.js";

/**
 * Records a ConfigMap's data as observed, unless it equals the latest recorded version; returns
 * that version's number. Concurrent observers of one ConfigMap are serialized by the primary key:
 * the loser of a race re-reads and finds its data already recorded or records the next version.
 */
export async function recordConfigVersion(q: Queryable, cm: ObservedConfigMap): Promise<number> {
  const stored = redactValue(cm.data);
  const redacted = canonicalJson(stored) !== canonicalJson(cm.data);
  for (let attempt = 0; attempt < 3; attempt++) {
    const latest = (await configVersions(q, cm.namespace, cm.name)).at(-1);
    if (latest !== undefined && canonicalJson(latest.data) === canonicalJson(stored)) return latest.version;
    const version = (latest?.version ?? 0) + 1;
    const inserted = await q.query(
      `INSERT INTO config_versions (namespace, name, version, resource_version, data, redacted, observed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [cm.namespace, cm.name, version, cm.resourceVersion, JSON.stringify(stored), redacted, cm.observedAt],
    );
    if ((inserted.rowCount ?? 0) > 0) return version;
  }
  throw new Error(`ConfigMap ${cm.namespace}/${cm.name}: could not record its version after 3 concurrent attempts`);
}

/** Every recorded version of a ConfigMap, oldest first. */
export async function configVersions(q: Queryable, namespace: string, name: string): Promise<ConfigMapVersion[]> {
  const rows = await q.query<{ version: number; resource_version: string; data: Record<string, string>; redacted: boolean; observed_at: string }>(
    "SELECT version, resource_version, data, redacted, observed_at::text AS observed_at FROM config_versions WHERE namespace = $1 AND name = $2 ORDER BY version",
    [namespace, name],
  );
  return rows.rows.map((r) => ({ version: r.version, resourceVersion: r.resource_version, data: r.data, redacted: r.redacted, observedAt: Number(r.observed_at) }));
}

/** The ConfigMap history kept in PostgreSQL: it survives restarts and every worker shares it. */
export class PostgresConfigMapHistory implements ConfigMapHistory {
  constructor(private readonly q: Queryable) {}

  observe(cm: ObservedConfigMap): Promise<number> {
    return recordConfigVersion(this.q, cm);
  }

  versions(namespace: string, name: string): Promise<ConfigMapVersion[]> {
    return configVersions(this.q, namespace, name);
  }
}
