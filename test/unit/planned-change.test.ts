import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { plannedChangeNote } from "../../evidence/intent.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

/** A grades API whose flags ConfigMap is changed 12 min before the alert by `changedBy`, failing 30 % of requests with `message`. */
function flagWorld(changedBy: string, message: string): EnvironmentSpecInput {
  return {
    seed: 41,
    historyMinutes: 120,
    services: [{ name: "grades-api", namespace: "campus", replicas: 3, baseline: { requestRate: 120, errorRate: 0.002, latencyP99Ms: 80 } }],
    faults: [{ kind: "bad-feature-flag", service: "grades-api", atMinutes: -12, params: { configMap: "grades-api-flags", key: "grading_mode", value: "frozen", errorRate: 0.3, changedBy, message } }],
  };
}

const errorsAlert = makeAlert({ service: "grades-api", namespace: "campus", name: "HighErrorRate", labels: { alertname: "HighErrorRate", namespace: "campus", service: "grades-api" } });

async function diagnose(spec: EnvironmentSpecInput) {
  const evidence = await perceiveSim(SimEnvironment.create(spec), errorsAlert);
  const hypotheses = await reasoner.diagnose({ alert: errorsAlert, context: makeContext(evidence), attempts: [] });
  return { changed: evidence.find((e) => e.key === "config.changed"), hypotheses };
}

describe("a ConfigMap change its own records call planned", () => {
  it("Given the records of a change, When read, Then a maintenance window, a CAB approval or 'do not revert' marks it planned, and an ordinary edit does not", () => {
    expect(plannedChangeNote([["changed by", "maintenance-scheduler (CHG-20931)"]])).toBe("changed by: maintenance-scheduler (CHG-20931)");
    expect(plannedChangeNote([["annotation note", "note: set by the release bot; do not revert by hand during the window"]])).toMatch(/^annotation note: /);
    expect(plannedChangeNote([["key", "grading mode = frozen"]])).toBe("");
    expect(plannedChangeNote([["changed by", "alice@campus (typo fix)"]])).toBe("");
  });

  it("Given a maintenance scheduler froze grading and the API refuses writes 'for scheduled maintenance', When the errors alert, Then no revert is proposed and the errors are closed as the maintenance", async () => {
    const { changed, hypotheses } = await diagnose(flagWorld("maintenance-scheduler (CHG-20931)", "503 Service Unavailable: grade changes paused for scheduled maintenance CHG-20931"));
    expect(changed?.attrs).toMatchObject({ planned: true, planned_note: "changed by: maintenance-scheduler (CHG-20931)" });
    expect(hypotheses.some((h) => h.candidates.some((c) => c.call.tool === "revert_config_map"))).toBe(false);
    expect(hypotheses[0]?.id).toBe("rules:planned-maintenance-rejections");
  });

  it("Given an issuer edit whose 401s quote the new issuer, When the errors alert, Then the change is named in the logs and reverted, not escalated as a credential problem", async () => {
    const spec = flagWorld(
      "argocd (app campus-prod)",
      'token validation failed: iss "https://idp.campus.example" does not match expected issuer "https://idp.staging.campus.dev/realms/students" (401 Unauthorized)',
    );
    const fault = spec.faults?.[0];
    if (fault !== undefined && "params" in fault) fault.params = { ...fault.params, key: "oidc_issuer", value: "https://idp.staging.campus.dev/realms/students" };
    const { changed, hypotheses } = await diagnose(spec);
    expect(changed?.attrs).toMatchObject({ named_in_logs: true, planned: false });
    expect(hypotheses.some((h) => h.id === "rules:dependency-auth-failures")).toBe(false);
    expect(hypotheses[0]?.candidates[0]?.call.tool).toBe("revert_config_map");
  });

  it("Given maintenance_mode switched on by hand with no window, ticket or annotation on record (the wrong kubectl context), When the errors alert, Then the key's name alone does not make it planned and the change is reverted", async () => {
    const spec = flagWorld("j.okafor@platform (kubectl edit, context prod-euw2)", "503 Service Unavailable: maintenance mode enabled; rejecting POST /v1/grades");
    const fault = spec.faults?.[0];
    if (fault !== undefined && "params" in fault) fault.params = { ...fault.params, key: "maintenance_mode", value: "true" };
    const { changed, hypotheses } = await diagnose(spec);
    expect(changed?.attrs["planned"]).toBe(false);
    expect(hypotheses.some((h) => h.id === "rules:planned-maintenance-rejections")).toBe(false);
    expect(hypotheses[0]?.candidates[0]?.call.tool).toBe("revert_config_map");
  });

  it("Given the same flag set by a person with no plan on record, When the errors alert, Then the change is reverted as before", async () => {
    const { changed, hypotheses } = await diagnose(flagWorld("alice@campus", "500 Internal Server Error: grading mode frozen"));
    expect(changed?.attrs["planned"]).toBe(false);
    expect(hypotheses[0]?.candidates[0]?.call.tool).toBe("revert_config_map");
  });
});
