import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { formatZodError } from "../config/errors.js";
import { PolicySchema } from "../policy/schema.js";
import { EnvironmentSpecSchema } from "../tools/simulator/spec.js";

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
  })
  .strict()
  .refine((e) => e.outcome !== "resolved" || e.resolvedBy !== undefined, {
    message: "expected resolvedBy (the action class that fixes it) when outcome is resolved",
    path: ["resolvedBy"],
  });
/** A scenario expectation. */
export type Expectation = z.infer<typeof ExpectationSchema>;

/** A scenario: the world to build, the faults, the alerts to send and the expected outcome. */
export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a kebab-case name"),
    title: z.string().min(1),
    description: z.string().default(""),
    environment: EnvironmentSpecSchema,
    alerts: z.array(ScenarioAlertSchema).min(1, "expected at least one alert"),
    expect: ExpectationSchema,
    tags: z.array(z.string()).default([]),
    /**
     * Policy sections in force for this scenario's environment (e.g. a change freeze), replacing
     * the same top-level sections of the running policy.
     */
    policy: z
      .record(z.string(), z.unknown())
      .superRefine((sections, ctx) => {
        const parsed = PolicySchema.safeParse(sections);
        if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
      })
      .optional(),
  })
  .strict()
  .refine((s) => s.alerts.some((a) => a.status === "firing"), { message: "expected at least one firing alert", path: ["alerts"] });
/** A validated scenario. */
export type Scenario = z.infer<typeof ScenarioSchema>;

/** Thrown when a scenario file is unreadable or invalid; the message names the field. */
export class InvalidScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidScenarioError";
  }
}

/** Parses and validates scenario data (from YAML or JSON); `source` prefixes error messages. */
export function parseScenario(data: unknown, source: string): Scenario {
  const parsed = ScenarioSchema.safeParse(data);
  if (!parsed.success) throw new InvalidScenarioError(formatZodError(parsed.error, `${source}: `));
  return parsed.data;
}

/** Reads a scenario file (`.yaml`, `.yml` or `.json`). */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidScenarioError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new InvalidScenarioError(`${file}: not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message.split("\n")[0] ?? ""}`);
  }
  return parseScenario(data, path.basename(file));
}
