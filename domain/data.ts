import path from "node:path";
import { fileURLToPath } from "node:url";

/** The shipped data (rules, scenarios, fleets, policies, example alerts), in one folder beside the code. */
export const DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "data");

/** Runbook rule files (`SUTURE_RULES` overrides). */
export const RULES_DIR = path.join(DATA_DIR, "rules");

/** The shipped scenarios (the demo's and `suture eval`'s default). */
export const SCENARIOS_DIR = path.join(DATA_DIR, "scenarios");

/** The regression watch's scenarios: deploys, their code changes and their webhook bodies. */
export const REGRESSION_SCENARIOS_DIR = path.join(DATA_DIR, "scenarios-regression");

/** Policy files: the documented default and a strict example. */
export const POLICIES_DIR = path.join(DATA_DIR, "policies");

/** Fleet files for `suture serve --fleet`. */
export const FLEETS_DIR = path.join(DATA_DIR, "fleets");
