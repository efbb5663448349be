import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.js";
import type { ObservedConfigMap } from "../../domain/config-versions.js";
import { configVersions, PostgresConfigMapHistory, recordConfigVersion } from "../../store/config-versions.js";
import { startCluster, type TestCluster } from "./cluster.js";
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

  describe("behind the Kubernetes adapter", () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster();
    });
    afterAll(async () => {
      await cluster.close();
    });

    function setConfigData(data: Record<string, string>): void {
      const cm = cluster.backend.get(configMapsType(cluster), "prod", "checkout-config");
      if (cm === undefined) throw new Error("fixture has no checkout-config");
      cluster.backend.apply({ verb: "update", object: { ...cm, data } }, { dryRun: false });
    }

    it("reverts a ConfigMap in a new process to a version an earlier process recorded", async () => {
      // Given one adapter process that saw the ConfigMap before a bad change
      await db.pool.query("DELETE FROM config_versions WHERE name = 'checkout-config'");
      await cluster.adapter({ configHistory: new PostgresConfigMapHistory(db.pool) }).describeWorkload("checkout");
      setConfigData({ PAYMENT_TIMEOUT_MS: "1", FEATURE_NEW_CART: "true" });
      // When a new process (nothing shared but the database and the cluster) reverts to version 1
      const restarted = cluster.adapter({ configHistory: new PostgresConfigMapHistory(db.pool) });
      await restarted.revertConfigMap("checkout-config", 1, `revert-${backend.name}`);
      // Then the ConfigMap holds the data first observed
      const cm = cluster.backend.get(configMapsType(cluster), "prod", "checkout-config");
      expect(cm?.["data"]).toEqual({ PAYMENT_TIMEOUT_MS: "2000", FEATURE_NEW_CART: "false" });
    });

    it("refuses to write back a version that held a secret, and changes nothing", async () => {
      // Given a version someone put a password into, recorded redacted, then a later change
      await db.pool.query("DELETE FROM config_versions WHERE name = 'checkout-config'");
      setConfigData({ PAYMENT_TIMEOUT_MS: "2000", PAYMENT_API_KEY: "sk_live_0123456789abcdef" });
      const env = cluster.adapter({ configHistory: new PostgresConfigMapHistory(db.pool) });
      await env.describeWorkload("checkout");
      setConfigData({ PAYMENT_TIMEOUT_MS: "5" });
      await env.describeWorkload("checkout");
      // When Suture is asked to revert to that version
      const revert = env.revertConfigMap("checkout-config", 1, `secret-${backend.name}`);
      // Then it refuses, saying why, and the ConfigMap is untouched
      await expect(revert).rejects.toThrow(/version 1 of config map prod\/checkout-config held secret-looking values, which Suture never stores/);
      expect(cluster.backend.get(configMapsType(cluster), "prod", "checkout-config")?.["data"]).toEqual({ PAYMENT_TIMEOUT_MS: "5" });
      const raw = await db.pool.query<{ data: unknown }>("SELECT data FROM config_versions WHERE name = 'checkout-config'");
      expect(JSON.stringify(raw.rows)).not.toContain("sk_live_0123456789abcdef");
    });
  });
});

function configMapsType(cluster: TestCluster) {
  const type = cluster.backend.types().find((t) => t.plural === "configmaps");
  if (type === undefined) throw new Error("the backend serves no configmaps");
  return type;
}
