import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadScenario, parseScenario } from "../../app/scenario.js";
import { convertScenarioFile } from "../../app/scenario-convert.js";
import { semanticJson } from "../../environments/simulator/cluster/objects.js";
import { initialState, type SimState } from "../../environments/simulator/world.js";
import { EnvironmentSpecSchema } from "../../environments/simulator/spec.js";

const DIR = path.resolve("data/scenarios");

/** What a world's Kubernetes objects declare (no uids, versions, status or generated names), by kind and key. */
function declared(state: SimState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [kind, byKey] of Object.entries(state.cluster.objects)) {
    if (kind === "Pod" || kind === "ReplicaSet" || kind === "Event" || kind === "Endpoints" || kind === "Namespace") continue;
    for (const [key, o] of Object.entries(byKey as Record<string, { spec?: unknown; data?: unknown; metadata: { labels?: unknown } }>)) {
      out[`${kind}/${key}`] = semanticJson({ spec: o.spec, data: o.data, labels: o.metadata.labels });
    }
  }
  return out;
}

/** The non-Kubernetes parts of each simulated workload (Kafka offsets are random draws, so only its settings). */
function workloadParts(state: SimState): Record<string, unknown> {
  return Object.fromEntries(
    Object.values(state.services).map((s) => [
      s.name,
      {
        ns: s.namespace,
        cpu: s.cpuPerRequest,
        baseline: s.baseline,
        mem: s.baselineMemoryMib,
        deps: s.dependencies,
        disk: s.disk,
        kafka: s.kafka?.topic,
        kind: s.kind,
        log: s.logFormat,
        secret: s.acceptsSecret,
      },
    ]),
  );
}

describe("suture scenario convert", () => {
  it("Given each shipped v1 scenario, When it is converted and the result loaded, Then its world declares the same objects and workloads, in the manifest form", async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThanOrEqual(40);
    let converted = 0;
    for (const f of files) {
      const original = await loadScenario(path.join(DIR, f));
      // Shipped scenarios already migrated to the manifest form (the world-hash guard covers them).
      if (original.environment.services.length === 0) continue;
      converted++;
      const result = parseScenario(parse(await convertScenarioFile(path.join(DIR, f))), f);
      expect(result.environment.services, f).toEqual([]);
      expect(result.environment.manifests, f).toMatch(/kind: (Deployment|StatefulSet)/);
      const before = initialState(original.environment);
      const after = initialState(result.environment);
      expect(declared(after), f).toEqual(declared(before));
      expect(workloadParts(after), f).toEqual(workloadParts(before));
      expect(result.environment.faults, f).toEqual(original.environment.faults);
      expect(result.alerts, f).toEqual(original.alerts);
      expect(result.expect, f).toEqual(original.expect);
    }
    expect(converted).toBeGreaterThanOrEqual(30);
  });

  it("Given a scenario already in the manifest form, When it is converted, Then the error says so", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "suture-convert-"));
    const file = path.join(dir, "m.yaml");
    const manifests =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api, namespace: prod }\nspec: { selector: { matchLabels: { app: api } }, template: { metadata: { labels: { app: api } }, spec: { containers: [{ name: app, image: api:1 }] } } }\n";
    expect(EnvironmentSpecSchema.safeParse({ manifests }).success).toBe(true);
    writeFileSync(
      file,
      JSON.stringify({ name: "m", title: "m", environment: { manifests }, alerts: [{ atMinutes: 0, labels: { alertname: "X", service: "api" } }], expect: { outcome: "escalated" } }),
    );
    await expect(convertScenarioFile(file)).rejects.toThrow("m.yaml: environment: environment.services is empty: the environment is already in the manifest form");
  });
});
