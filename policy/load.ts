import { InvalidFileError, loadYamlFile, parseYaml, type FileLimits, type YamlSpec } from "../domain/yaml.js";
import { PolicySchema, type Policy } from "./schema.js";

/** Thrown when a policy file is unreadable, too large or invalid; the message names line, field and expectation. */
export class InvalidPolicyError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "policy", file);
    this.name = "InvalidPolicyError";
  }
}

function spec(limits?: Partial<FileLimits>): YamlSpec<Policy> {
  // An empty file is the defaults, as every section of the schema has them.
  return { kind: "policy", schema: PolicySchema, error: InvalidPolicyError, empty: {}, ...(limits !== undefined ? { limits } : {}) };
}

/** Parses and validates policy YAML; `source` names it in errors. */
export function parsePolicy(text: string, source: string, limits?: Partial<FileLimits>): Policy {
  return parseYaml(text, source, spec(limits)).data;
}

/** Reads and validates a YAML policy file within the policy file limits (see DEFAULT_FILE_LIMITS). */
export async function loadPolicy(file: string, limits?: Partial<FileLimits>): Promise<Policy> {
  return (await loadYamlFile(file, spec(limits))).data;
}
