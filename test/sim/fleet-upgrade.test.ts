import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installFleet, loadFleet, worldId, type ResolvedWorld } from "../../app/fleet.js";
import { SharedWorld } from "../../environments/shared-world.js";
import type { Database } from "../../store/database.js";
import { saveWorldState, worldState } from "../../store/environments.js";
import { migrate } from "../../store/migrate.js";
import { testBackends } from "../helpers/backends.js";

describe.each(testBackends())("a fleet world saved by an older version, on $name", (backend) => {
  let db: Database;
  let worlds: ResolvedWorld[];

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db);
    worlds = (await loadFleet("data/fleets/demo.yaml")).slice(0, 2);
  });
  afterAll(async () => {
    await db.close();
  });

  it("is created again from its scenario when the server starts, while current worlds keep their state", async () => {
    // Given two installed worlds, one of them saved in the format before Kubernetes objects
    const first = await installFleet(db, worlds);
    expect(first.created).toHaveLength(2);
    const [old, current] = worlds.map((w) => worldId(w.name));
    const legacy = (await worldState(db.pool, old!)) as Record<string, unknown>;
    delete legacy["cluster"];
    await saveWorldState(db.pool, old!, legacy);
    const currentBefore = JSON.stringify(await worldState(db.pool, current!));
    // When the fleet is installed again (a server restart)
    const again = await installFleet(db, worlds);
    // Then the old one is created again and opens, and the current one is kept untouched
    expect(again.recreated).toEqual([worlds[0]!.name]);
    expect(again.kept).toEqual([worlds[1]!.name]);
    const reopened = await new SharedWorld(db, old!).open();
    expect((await reopened.listServices()).length).toBeGreaterThan(0);
    expect(JSON.stringify(await worldState(db.pool, current!))).toBe(currentBefore);
  });
});
