import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenario } from "../../app/scenario.js";
import { canonicalJson } from "../../domain/json.js";
import { SimEnvironment } from "../../environments/simulator/index.js";

/**
 * The world-hash guard: every shipped scenario's world, built and advanced to t0 + 10 min, hashes
 * to the value recorded in test/fixtures/world-hashes/shipped.json (services, signals, logs, pod
 * names, rng state, cluster objects: the whole saved state). A change to how scenarios load or
 * build that moves one random draw or one object changes a hash. Record new hashes on purpose with
 * `UPDATE_WORLD_HASHES=1 npx vitest run test/sim/world-hash.test.ts`.
 */
const DIR = path.resolve("data/scenarios");
const FIXTURE = path.resolve("test/fixtures/world-hashes/shipped.json");
const MINUTE = 60_000;

/** sha256 of a scenario's whole world state at t0 + 10 minutes. */
async function worldHash(file: string): Promise<string> {
  const scenario = await loadScenario(file);
  const env = SimEnvironment.create(scenario.environment);
  await env.advanceTo(env.startTime + 10 * MINUTE);
  return createHash("sha256").update(canonicalJson(env.toJSON())).digest("hex");
}

describe("world-hash guard", () => {
  it("given the shipped scenarios, when each world is built and advanced to t0+10 min, then its state hashes as recorded", async () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith(".yaml"))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(40);
    const hashes: Record<string, string> = {};
    for (const f of files) hashes[f] = await worldHash(path.join(DIR, f));
    if (process.env["UPDATE_WORLD_HASHES"] === "1") writeFileSync(FIXTURE, `${JSON.stringify(hashes, null, 2)}\n`);
    const recorded = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, string>;
    expect(hashes).toEqual(recorded);
  });
});
