import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { onsetOf } from "../../evidence/metrics.js";
import type { Evidence } from "../../domain/model.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const MINUTE = 60_000;
const reasoner = await RunbookReasoner.fromDirectory();

/** Points a minute apart: `values[i]` at minute i. */
const series = (values: number[]) => values.map((v, i) => ({ t: i * MINUTE, v }));
const high = (v: number): boolean => v > 1;

describe("onsetOf: when a metric's final abnormal stretch began", () => {
  it("Given a flat series that jumps at minute 6 and stays up, When read, Then the onset is minute 6", () => {
    expect(onsetOf(series([0, 0, 0, 0, 0, 0, 5, 5, 5, 5]), high)).toBe(6 * MINUTE);
  });
  it("Given one healthy sample inside the abnormal stretch (noise), When read, Then the stretch still starts at its first abnormal point", () => {
    expect(onsetOf(series([0, 0, 0, 5, 5, 0, 5, 5]), high)).toBe(3 * MINUTE);
  });
  it("Given a series abnormal from its first point, When read, Then the onset is unknown (it began before the window)", () => {
    expect(onsetOf(series([5, 5, 5, 5]), high)).toBeUndefined();
  });
  it("Given a series that recovered at its end, When read, Then there is no onset", () => {
    expect(onsetOf(series([0, 5, 5, 0, 0]), high)).toBeUndefined();
  });
});

/** pricing mounts two ConfigMaps: a flag flip in one breaks it at -20 min; `laterEditAt` an unrelated edit of the other. */
function pricingWorld(laterEditAt: number): EnvironmentSpecInput {
  return {
    seed: 7,
    services: [
      {
        name: "pricing",
        replicas: 3,
        configMaps: [
          { name: "pricing-flags", data: { pricing_v2: "false" } },
          { name: "pricing-display", data: { page_size: "25" } },
        ],
      },
    ],
    faults: [
      {
        kind: "bad-feature-flag",
        service: "pricing",
        atMinutes: -20,
        params: { configMap: "pricing-flags", key: "pricing_v2", value: "true", errorRate: 0.3, message: "RuleSetError: pricing_v2 requires rule set eu-vat" },
      },
      {
        kind: "patch",
        atMinutes: laterEditAt,
        object: { kind: "ConfigMap", name: "pricing-display", namespace: "prod" },
        patchType: "merge",
        patch: { data: { page_size: "50" } },
        changedBy: "dana@web",
      },
    ],
  };
}

const perceive = (env: SimEnvironment, service = "pricing"): Promise<Evidence[]> => perceiveSim(env, makeAlert({ service }));

const changeOf = (evidence: Evidence[], configMap: string) => evidence.find((e) => e.key === "config.changed" && e.attrs.configmap === configMap);

describe("a change is evidence by when it happened against the symptoms' onset", () => {
  it("Given errors that began with a flag flip 20 min ago and an unrelated edit 5 min ago, When perceived and diagnosed, Then the flip is the cause and the later edit is marked as made after the symptoms began", async () => {
    const evidence = await perceive(SimEnvironment.create(pricingWorld(-5)));
    const flip = changeOf(evidence, "pricing-flags");
    const later = changeOf(evidence, "pricing-display");
    expect(flip?.attrs).toMatchObject({ symptoms_before_change: false, named_in_logs: true });
    expect(Math.abs(Number(flip?.attrs.onset_lag_minutes))).toBeLessThanOrEqual(2);
    expect(later?.attrs).toMatchObject({ symptoms_before_change: true, named_in_logs: false });
    expect(later?.summary).toMatch(/symptoms began 1[45] min before it/);

    const hypotheses = await reasoner.diagnose({ alert: makeAlert({ service: "pricing" }), context: makeContext(evidence), attempts: [] });
    const revert = hypotheses.find((h) => h.faultClass === "bad-config-change")?.candidates[0]?.call;
    expect(revert).toEqual({ tool: "revert_config_map", params: { service: "pricing", configMap: "pricing-flags", toVersion: 1 } });
  });

  it("Given only the edit made after the errors began, When diagnosed, Then no config revert is proposed for it", async () => {
    const evidence = (await perceive(SimEnvironment.create(pricingWorld(-5)))).filter((e) => !(e.key === "config.changed" && e.attrs.configmap === "pricing-flags"));
    const hypotheses = await reasoner.diagnose({ alert: makeAlert({ service: "pricing" }), context: makeContext(evidence), attempts: [] });
    expect(hypotheses.flatMap((h) => h.candidates.map((c) => c.call.tool))).not.toContain("revert_config_map");
  });
});

describe("a release that migrated its schema at start-up, whatever its change cause says", () => {
  it("Given Flyway's start-up lines in the new pods' logs and errors after the rollout, When diagnosed, Then escalate: rolling back would run old code on the new schema", async () => {
    const env = SimEnvironment.create({
      seed: 5,
      services: [
        {
          name: "declarations",
          replicas: 3,
          revisions: [{ image: "registry.internal/declarations:6.1.4", deployedAtMinutes: -9000 }],
        },
      ],
      // A buggy release (its change cause does not mention the migration its pods ran).
      faults: [{ kind: "bad-rollout-schema-migration", service: "declarations", atMinutes: -13, params: { version: "6.2.0", announce: "false", errorRate: 0.2 } }],
      observations: {
        declarations: {
          logs: [
            { fromMinutes: -12.4, level: "info", message: 'Migrating schema "declarations" to version "58 - contract rename hs code"' },
            { fromMinutes: -12.3, level: "info", message: 'Successfully applied 1 migration to schema "declarations", now at version v58' },
          ],
        },
      },
    });
    const evidence = await perceive(env, "declarations");
    expect(evidence.find((e) => e.key === "log.schema_migration")?.attrs).toMatchObject({ lines: 2 });
    const hypotheses = await reasoner.diagnose({ alert: makeAlert({ service: "declarations" }), context: makeContext(evidence), attempts: [] });
    expect(hypotheses[0]?.id).toBe("rules:rollout-logged-schema-migration");
    expect(hypotheses[0]?.disposition).toBe("escalate");
  });
});
