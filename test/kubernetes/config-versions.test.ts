import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.js";
import { configVersions, recordConfigVersion, type ObservedConfigMap } from "../../store/config-versions.js";
import { migrate } from "../../store/migrate.js";
import { testBackends } from "../helpers/backends.js";

function observed(name: string, data: Record<string, string>, resourceVersion: string, observedAt = 1_000): ObservedConfigMap {
  return { namespace: "shop", name, resourceVersion, data, observedAt };
}

describe.each(testBackends())("ConfigMap versions Suture records, on $name", (backend) => {
  let db: Database;

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it("records a version only when the data changed, oldest first", async () => {
    // Given a ConfigMap observed three times, the second time unchanged
    const v1 = await recordConfigVersion(db.pool, observed("flags", { checkout_v2: "false" }, "10"));
    const again = await recordConfigVersion(db.pool, observed("flags", { checkout_v2: "false" }, "10", 2_000));
    const v2 = await recordConfigVersion(db.pool, observed("flags", { checkout_v2: "true" }, "17", 3_000));
    // Then there are two versions, the repeat returned the first, and the history reads back in order
    expect([v1, again, v2]).toEqual([1, 1, 2]);
    const history = await configVersions(db.pool, "shop", "flags");
    expect(history.map((v) => [v.version, v.resourceVersion, v.data, v.observedAt])).toEqual([
      [1, "10", { checkout_v2: "false" }, 1_000],
      [2, "17", { checkout_v2: "true" }, 3_000],
    ]);
  });

  it("never stores a secret-looking value, and marks that version as not restorable", async () => {
    // Given a ConfigMap someone put a password into
    await recordConfigVersion(db.pool, observed("db-settings", { DB_PASSWORD: "hunter2-prod-9f8e7d", pool_size: "20" }, "31"));
    // When its history is read
    const [version] = await configVersions(db.pool, "shop", "db-settings");
    // Then the secret is not in the database and the version is marked redacted
    expect(version?.data).toEqual({ DB_PASSWORD: "[REDACTED]", pool_size: "20" });
    expect(version?.redacted).toBe(true);
    const raw = await db.pool.query<{ data: unknown }>("SELECT data FROM config_versions WHERE name = 'db-settings'");
    expect(JSON.stringify(raw.rows)).not.toContain("hunter2");
  });

  it("records each version once when many observers race", async () => {
    // Given eight concurrent observations of the same new data
    const versions = await Promise.all(Array.from({ length: 8 }, () => recordConfigVersion(db.pool, observed("race", { a: "1" }, "5"))));
    // Then one version exists and every observer got its number
    expect(new Set(versions)).toEqual(new Set([1]));
    expect(await configVersions(db.pool, "shop", "race")).toHaveLength(1);
  });
});
