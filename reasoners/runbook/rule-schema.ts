import { z } from "zod";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A comparison applied to a fact's value or to one of its attributes. */
export const PredicateSchema = z
  .object({
    eq: Scalar.optional(),
    ne: Scalar.optional(),
    in: z.array(Scalar).optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    /** A JavaScript regular expression, matched case-insensitively; checked when the rules load, not when a rule first runs. */
    matches: z
      .string()
      .superRefine((pattern, ctx) => {
        try {
          new RegExp(pattern, "i");
        } catch (error) {
          ctx.addIssue({ code: "custom", message: `expected a JavaScript regular expression (matched case-insensitively; no inline flags such as (?i)): ${(error as Error).message}` });
        }
      })
      .optional(),
  })
  .strict();
/** A predicate. */
export type Predicate = z.infer<typeof PredicateSchema>;

/**
 * One condition: a fact with `key` whose value satisfies the predicate, on a service chosen by
 * `service` (`$alert`, `$<binding>` for a service bound earlier, or a role), optionally bound to a
 * name so later conditions and remediation templates can use it.
 */
export const ConditionSchema = PredicateSchema.extend({
  fact: z.string().min(1),
  service: z.string().optional(),
  not_service: z.string().optional(),
  attrs: z.record(z.string(), PredicateSchema).optional(),
  bind: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, "expected a lower-case identifier")
    .optional(),
}).strict();
/** A condition. */
export type Condition = z.infer<typeof ConditionSchema>;

/** A condition that moves confidence when it holds. */
export const WeightedConditionSchema = ConditionSchema.extend({
  weight: z.number().min(-1).max(1),
}).strict();
/** A weighted condition. */
export type WeightedCondition = z.infer<typeof WeightedConditionSchema>;

/** A remediation template: tool name and parameters with `{{binding.field | filter}}` placeholders. */
export const RemediationTemplateSchema = z
  .object({
    tool: z.string().min(1),
    params: z.record(z.string(), Scalar),
    rationale: z.string().min(1),
  })
  .strict();
/** A remediation template. */
export type RemediationTemplate = z.infer<typeof RemediationTemplateSchema>;

/** One runbook rule: when the evidence matches, a hypothesis with its remediations. */
export const RuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a kebab-case id"),
    title: z.string().min(1),
    fault_class: z.string().min(1),
    category: z.string().min(1),
    disposition: z.enum(["act", "no-action", "escalate"]),
    confidence: z.number().min(0).max(1),
    when: z.array(ConditionSchema).min(1, "expected at least one condition"),
    unless: z.array(ConditionSchema).default([]),
    support: z.array(WeightedConditionSchema).default([]),
    remediation: z.array(RemediationTemplateSchema).default([]),
    explanation: z.string().min(1),
    runbook: z.string().optional(),
  })
  .strict()
  .refine((r) => r.disposition !== "act" || r.remediation.length > 0, {
    message: "a rule with disposition act needs at least one remediation",
    path: ["remediation"],
  })
  .superRefine((r, ctx) => {
    // A placeholder that cannot be filled would show its braces to the operator: refuse it when the rules load.
    const bound = new Set(r.when.map((c) => c.bind).filter((b): b is string => b !== undefined));
    const texts: Array<[string, Array<string | number>]> = [
      [r.title, ["title"]],
      ...r.remediation.flatMap((m, i): Array<[string, Array<string | number>]> => [
        [m.rationale, ["remediation", i, "rationale"]],
        ...Object.entries(m.params)
          .filter((e): e is [string, string] => typeof e[1] === "string")
          .map(([k, v]): [string, Array<string | number>] => [v, ["remediation", i, "params", k]]),
      ]),
    ];
    for (const [text, path] of texts) {
      for (const [, name = "", field = ""] of text.matchAll(/\{\{\s*([a-z][a-z0-9_]*)\.([A-Za-z0-9_.]+)/g)) {
        if (!bound.has(name))
          ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `placeholder {{${name}.${field}}} names no binding of the rule's conditions (bound: ${[...bound].join(", ") || "none"})` });
        else if (field !== "service" && field !== "value" && !/^attrs\.[A-Za-z0-9_]+$/.test(field))
          ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `placeholder {{${name}.${field}}}: expected service, value or attrs.<name>` });
      }
    }
  });
/** A runbook rule. */
export type Rule = z.infer<typeof RuleSchema>;

/** A rules file: a list of rules. */
export const RuleFileSchema = z.object({ rules: z.array(RuleSchema) }).strict();
