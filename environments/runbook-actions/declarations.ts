import { z } from "zod";
import { InvalidInputError } from "../../domain/errors.js";
import { InvalidFileError, loadYamlFile, parseYaml, type LoadedYaml } from "../../domain/yaml.js";

/**
 * The runbook actions a cluster can be asked for: remediations that are not Kubernetes API calls.
 * Their parameters are the tools' validated parameters (tools/definitions), named here as template
 * variables; `idempotencyKey` is always available.
 */
export const RUNBOOK_ACTION_VARIABLES = {
  skipMessageToDlq: ["topic", "group", "partition", "offset"],
  cleanLogs: ["namespace", "kind", "name", "mount"],
  resetCircuitBreaker: ["namespace", "kind", "name", "to"],
} as const satisfies Record<string, readonly string[]>;

/** A runbook action's name: one of {@link RUNBOOK_ACTION_VARIABLES}. */
export type RunbookActionName = keyof typeof RUNBOOK_ACTION_VARIABLES;

/** Values of a call's template variables, by name. */
export type TemplateValues = Record<string, string>;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes Job run from a template: the call's parameters fill `{{variables}}` in command, args and env. */
export const JobTemplateSchema = z
  .object({
    /** Where the Job runs; default: the namespace of the incident's workload. */
    namespace: z.string().regex(NAME, "expected a Kubernetes namespace name").optional(),
    image: z.string().min(1),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"), z.string()).default({}),
    serviceAccountName: z.string().regex(NAME, "expected a ServiceAccount name").optional(),
    /** How long to wait for the Job to complete before the action counts as failed. */
    timeoutSeconds: z.number().int().min(10).max(3600).default(300),
    backoffLimit: z.number().int().min(0).max(6).default(0),
  })
  .strict();
/** A Job template. */
export type JobTemplate = z.infer<typeof JobTemplateSchema>;

/** An HTTP call to an operations endpoint: the call's parameters fill `{{variables}}` in the URL and body. */
export const HttpTemplateSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).or(z.string().regex(/^https?:\/\/\S+$/, "expected an http(s) URL")),
    method: z.enum(["POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    /** A JSON body; string values may hold `{{variables}}`. */
    body: z.record(z.string(), z.unknown()).optional(),
    /** The environment variable holding a bearer token (the token itself never appears in a file). */
    bearerTokenEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name")
      .optional(),
    timeoutSeconds: z.number().int().min(1).max(600).default(60),
  })
  .strict();
/** An HTTP template. */
export type HttpTemplate = z.infer<typeof HttpTemplateSchema>;

/** How one runbook action is carried out on this cluster: a Job or an HTTP call, never both. */
export const RunbookActionDeclarationSchema = z.union([z.object({ job: JobTemplateSchema }).strict(), z.object({ http: HttpTemplateSchema }).strict()], {
  error: "expected exactly one of `job` (a Kubernetes Job template) or `http` (an HTTP call)",
});
/** One declaration. */
export type RunbookActionDeclaration = z.infer<typeof RunbookActionDeclarationSchema>;

/** A runbook-actions file: the actions this cluster's runbooks can carry out, by name. */
export const RunbookActionsFileSchema = z
  .object({
    skipMessageToDlq: RunbookActionDeclarationSchema.optional(),
    cleanLogs: RunbookActionDeclarationSchema.optional(),
    resetCircuitBreaker: RunbookActionDeclarationSchema.optional(),
  })
  .strict()
  .superRefine((file, ctx) => {
    for (const [name, declaration] of Object.entries(file) as Array<[RunbookActionName, RunbookActionDeclaration | undefined]>) {
      if (declaration === undefined) continue;
      const known: readonly string[] = [...RUNBOOK_ACTION_VARIABLES[name], "idempotencyKey"];
      for (const { path, text } of templateStrings(declaration)) {
        for (const variable of variablesIn(text)) {
          if (!known.includes(variable)) ctx.addIssue({ code: "custom", path: [name, ...path], message: `unknown template variable {{${variable}}}; known for ${name}: ${known.join(", ")}` });
        }
      }
    }
  });
/** A validated runbook-actions file. */
export type RunbookActionsFile = z.infer<typeof RunbookActionsFileSchema>;

/** Every string of a declaration that may hold template variables, with its path. */
function templateStrings(declaration: RunbookActionDeclaration): Array<{ path: Array<string | number>; text: string }> {
  if ("job" in declaration) {
    const { job } = declaration;
    return [
      ...(job.command ?? []).map((text, i) => ({ path: ["job", "command", i], text })),
      ...job.args.map((text, i) => ({ path: ["job", "args", i], text })),
      ...Object.entries(job.env).map(([k, text]) => ({ path: ["job", "env", k], text })),
    ];
  }
  return [{ path: ["http", "url"], text: declaration.http.url }, ...bodyStrings(declaration.http.body ?? {}, ["http", "body"])];
}

function bodyStrings(value: unknown, path: Array<string | number>): Array<{ path: Array<string | number>; text: string }> {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => bodyStrings(v, [...path, i]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => bodyStrings(v, [...path, k]));
  return [];
}

const VARIABLE = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

function variablesIn(text: string): string[] {
  return [...text.matchAll(VARIABLE)].map((m) => m[1] ?? "");
}

/**
 * What a parameter may look like once it fills a template: names, numbers, paths, keys. The tools'
 * schemas already validated the call; this bound holds whatever the model or an alert put in the
 * parameters, so text from logs can never become an option (a leading `-`) or a second argument.
 */
const SAFE_VALUE = /^[A-Za-z0-9/][A-Za-z0-9._:/=@+-]{0,252}$/;

/** A template's text with each `{{variable}}` replaced; a value outside {@link SAFE_VALUE} is refused, nothing run. */
export function fillTemplate(text: string, values: TemplateValues, encode: (value: string) => string = (v) => v): string {
  return text.replace(VARIABLE, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new InvalidInputError(`template variable {{${name}}} has no value; given: ${Object.keys(values).join(", ")}`);
    if (!SAFE_VALUE.test(value)) throw new InvalidInputError(`template variable {{${name}}}: ${JSON.stringify(value.slice(0, 80))} is not a plain name, number or path; nothing was run`);
    return encode(value);
  });
}

/** Fills every string of a JSON body. */
export function fillBody(value: unknown, values: TemplateValues): unknown {
  if (typeof value === "string") return fillTemplate(value, values);
  if (Array.isArray(value)) return value.map((v) => fillBody(v, values));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillBody(v, values)]));
  return value;
}

/** Thrown when a runbook-actions file is invalid; names the file, line and field. */
export class InvalidRunbookActionsError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "runbook-actions", file);
    this.name = "InvalidRunbookActionsError";
  }
}

const SPEC = { kind: "runbook-actions" as const, schema: RunbookActionsFileSchema, error: InvalidRunbookActionsError };

/** Reads and validates a runbook-actions file (`SUTURE_RUNBOOK_ACTIONS`). */
export async function loadRunbookActionsFile(file: string): Promise<LoadedYaml<RunbookActionsFile>> {
  return loadYamlFile(file, SPEC);
}

/** Parses runbook-actions YAML text (tests, inline configuration). */
export function parseRunbookActions(text: string, name = "runbook-actions.yaml"): RunbookActionsFile {
  return parseYaml(text, name, SPEC).data;
}
