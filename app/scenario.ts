import path from "node:path";
import { z } from "zod";
import { describeIssues, InvalidFileError, loadYamlFile } from "../domain/yaml.js";
import { PolicySchema } from "../policy/schema.js";
import { EnvironmentSpecSchema } from "../environments/simulator/spec.js";

/** One alert notification a scenario sends, `atMinutes` after the environment's t0. */
export const ScenarioAlertSchema = z
  .object({
    atMinutes: z.number(),
    status: z.enum(["firing", "resolved"]).default("firing"),
    labels: z.record(z.string(), z.string()).refine((l) => l["alertname"] !== undefined, {
      message: "expected an alertname label",
    }),
    annotations: z.record(z.string(), z.string()).default({}),
    /** Minutes after t0 at which the alert started; defaults to `atMinutes`. */
    startsAtMinutes: z.number().optional(),
  })
  .strict();
/** A scenario alert. */
export type ScenarioAlert = z.infer<typeof ScenarioAlertSchema>;

/** Action classes (tool `actionClass`) an evaluation compares against. */
const ActionClass = z.string().min(1);

/** What a correct run of the scenario does. */
export const ExpectationSchema = z
  .object({
    outcome: z.enum(["resolved", "escalated", "no_action", "awaiting_approval"]),
    /** Action class of the remediation that resolved the incident (outcome resolved). */
    resolvedBy: ActionClass.optional(),
    /** Action classes expected to execute, in order; omitted = none for escalated / no_action. */
    actions: z.array(ActionClass).optional(),
    /** Whether a rollback must have been executed. */
    rolledBack: z.boolean().optional(),
    /** The fault class the scenario is an instance of (`none` when nothing is wrong), for per-class reporting. */
    faultClass: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, "expected a kebab-case fault class")
      .optional(),
  })
  .strict()
  .refine((e) => e.outcome !== "resolved" || e.resolvedBy !== undefined, {
    message: "expected resolvedBy (the action class that fixes it) when outcome is resolved",
    path: ["resolvedBy"],
  });
/** A scenario expectation. */
export type Expectation = z.infer<typeof ExpectationSchema>;

/** Policy sections a scenario's environment runs under, validated as the policy file's sections are. */
export const ScenarioPolicySchema = z.record(z.string(), z.unknown()).superRefine((sections, ctx) => {
  const parsed = PolicySchema.safeParse(sections);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
});

/** A scenario: the world to build, the faults, the alerts to send and the expected outcome. */
export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a kebab-case name"),
    title: z.string().min(1),
    description: z.string().default(""),
    /** The public fault description the scenario was written from (a runbook path, a documentation page title). */
    source: z.string().min(1).optional(),
    environment: EnvironmentSpecSchema,
    alerts: z.array(ScenarioAlertSchema).min(1, "expected at least one alert"),
    expect: ExpectationSchema,
    tags: z.array(z.string()).default([]),
    /**
     * Policy sections in force for this scenario's environment (e.g. a change freeze), replacing
     * the same top-level sections of the running policy.
     */
    policy: ScenarioPolicySchema.optional(),
  })
  .strict()
  .refine((s) => s.alerts.some((a) => a.status === "firing"), { message: "expected at least one firing alert", path: ["alerts"] });
/** A validated scenario. */
export type Scenario = z.infer<typeof ScenarioSchema>;

/** Thrown when a scenario file is unreadable, too large or invalid; the message names the line and field. */
export class InvalidScenarioError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "scenario", file);
    this.name = "InvalidScenarioError";
  }
}

/** Parses and validates scenario data already in memory; `source` prefixes error messages. */
export function parseScenario(data: unknown, source: string): Scenario {
  const parsed = ScenarioSchema.safeParse(data);
  if (!parsed.success) throw new InvalidScenarioError(describeIssues(source, parsed.error.issues), source);
  return parsed.data;
}

/**
 * Reads a scenario file (`.yaml`, `.yml` or `.json`: JSON is YAML, so both go through the one
 * bounded loader) within the scenario file limits. Errors name the file by its base name, as
 * evaluation lists scenarios.
 */
export async function loadScenario(file: string): Promise<Scenario> {
  // One parameter only: callers map file lists through it.
  const loaded = await loadYamlFile(file, { kind: "scenario", schema: ScenarioSchema, error: InvalidScenarioError, name: path.basename(file) });
  return loaded.data;
}
