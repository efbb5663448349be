import path from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { loadYamlFile } from "../domain/yaml.js";
import { convertEnvironment } from "../environments/simulator/convert.js";
import { InvalidScenarioError, parseScenario } from "./scenario.js";

/**
 * A scenario in today's form (`environment.services`) as the manifest form: the same scenario
 * with its environment's Kubernetes objects in `environment.manifests` and each service's
 * non-Kubernetes fields in `environment.workloads` (see docs/scenarios.md). The file is validated
 * first; errors name it, the line and the field.
 */
export async function convertScenarioFile(file: string): Promise<string> {
  const name = path.basename(file);
  const loaded = await loadYamlFile(file, { kind: "scenario", schema: z.record(z.string(), z.unknown()), error: InvalidScenarioError, name });
  const raw = loaded.data;
  parseScenario(raw, name);
  let environment: Record<string, unknown>;
  try {
    environment = convertEnvironment(raw["environment"] as Record<string, unknown>);
  } catch (e) {
    throw new InvalidScenarioError(`${name}: environment: ${e instanceof Error ? e.message : String(e)}`, name);
  }
  const converted = { ...raw, environment };
  // The result must load as a scenario itself.
  parseScenario(converted, `${name} (converted)`);
  return stringify(converted, { lineWidth: 0 });
}
