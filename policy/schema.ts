import { z } from "zod";
import { REMEDIATION_TOOLS } from "../tools/definitions/remediation.js";
import { REASONER_WEIGHTS } from "../reasoners/combine.js";

const Confidence = z.number().min(0, "expected a confidence between 0 and 1").max(1, "expected a confidence between 0 and 1");
const Share = z.number().gt(0, "expected a share above 0").max(1, "expected a share of at most 1");
const Risk = z.enum(["low", "medium", "high"], "expected low, medium or high");
const Glob = z.string().min(1, "expected a name or a glob such as payments-*").max(253);

/** What a violated rule does: deny the action, or hand it to a human for approval. */
export const ThenSchema = z.enum(["deny", "approval"], "expected deny or approval");
/** A rule's consequence. */
export type Then = z.infer<typeof ThenSchema>;

/**
 * Which incidents a rule applies to. Every list given must match (globs with `*`); an empty
 * scope matches everything. `environments` matches the alert's `environment` (or `env`) label.
 */
export const ScopeSchema = z
  .object({
    services: z.array(Glob).min(1, "expected at least one service").optional(),
    namespaces: z.array(Glob).min(1, "expected at least one namespace").optional(),
    environments: z.array(Glob).min(1, "expected at least one environment").optional(),
  })
  .strict()
  .default({});
/** A rule scope. */
export type Scope = z.infer<typeof ScopeSchema>;

const Weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "expected mon, tue, wed, thu, fri, sat or sun");
const ClockTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected a time of day "HH:MM" (00:00–24:00)');

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A change freeze: a daily time range (in a time zone, on some weekdays; an end before the start
 * runs past midnight) and/or an absolute range. During it only read tools run.
 */
export const FreezeWindowSchema = z
  .object({
    name: z.string().min(1, "expected a name operators recognise"),
    timezone: z.string().refine(isTimeZone, "expected an IANA time zone such as Europe/Berlin or UTC").default("UTC"),
    weekdays: z.array(Weekday).min(1, "expected at least one weekday").optional(),
    start: ClockTime.optional(),
    end: ClockTime.optional(),
    from: z.iso.datetime({ offset: true, message: "expected an ISO 8601 date-time such as 2026-12-20T00:00:00Z" }).optional(),
    to: z.iso.datetime({ offset: true, message: "expected an ISO 8601 date-time such as 2027-01-04T00:00:00Z" }).optional(),
    match: ScopeSchema,
    then: ThenSchema.default("deny"),
  })
  .strict()
  .refine((w) => (w.start === undefined) === (w.end === undefined), { message: "expected both start and end, or neither", path: ["end"] })
  .refine((w) => (w.from === undefined) === (w.to === undefined), { message: "expected both from and to, or neither", path: ["to"] })
  .refine((w) => w.start !== undefined || w.from !== undefined || w.weekdays !== undefined, {
    message: "expected a time range (start/end), a date range (from/to) or weekdays",
    path: ["start"],
  })
  .refine((w) => w.from === undefined || w.to === undefined || Date.parse(w.from) < Date.parse(w.to), { message: "expected to after from", path: ["to"] });
/** A change-freeze window. */
export type FreezeWindow = z.infer<typeof FreezeWindowSchema>;

/** The policy file: what Suture may do on its own, and what needs a human. */
export const PolicySchema = z
  .object({
    /** Schema version of this file. */
    version: z.literal(1, "expected version: 1").default(1),
    /** Minimum diagnosis confidence to act without a human, per tool risk level. */
    thresholds: z
      .object({ low: Confidence.default(0.7), medium: Confidence.default(0.75), high: Confidence.default(0.9) })
      .strict()
      .default({ low: 0.7, medium: 0.75, high: 0.9 }),
    /** Below this confidence diagnose escalates, and the policy denies anything proposed anyway. */
    escalateBelow: Confidence.default(0.7),
    /** Which risk levels need a human, globally and per scope; some can be forbidden in a scope. */
    approval: z
      .object({
        requiredFor: z
          .array(Risk)
          .default(["high"])
          .refine((r) => r.includes("high"), "expected high in the list: high-risk actions always need a human"),
        timeoutMinutes: z.number().int().min(1).max(10080).default(60),
        rules: z.array(z.object({ match: ScopeSchema, requiredFor: z.array(Risk).default([]), forbidden: z.array(Risk).default([]) }).strict()).default([]),
      })
      .strict()
      .default({ requiredFor: ["high"], timeoutMinutes: 60, rules: [] }),
    /** How much Suture may do per scope: observe (brief only), recommend (every action approved), auto. */
    autonomy: z
      .object({
        default: z.enum(["observe", "recommend", "auto"], "expected observe, recommend or auto").default("auto"),
        rules: z.array(z.object({ match: ScopeSchema, mode: z.enum(["observe", "recommend", "auto"], "expected observe, recommend or auto") }).strict()).default([]),
      })
      .strict()
      .default({ default: "auto", rules: [] }),
    /** Fault categories never remediated automatically. */
    neverRemediate: z
      .object({
        categories: z.array(z.string().min(1)).default(["security", "data-corruption", "compliance", "certificate"]),
        then: ThenSchema.default("deny"),
      })
      .strict()
      .default({ categories: ["security", "data-corruption", "compliance", "certificate"], then: "deny" }),
    /** Tool allow / approval / deny lists per scope (tool names). */
    tools: z
      .array(
        z
          .object({
            match: ScopeSchema,
            /** When given, only these tools may run on their own; any other needs `otherwise`. */
            allow: z.array(z.string().min(1)).optional(),
            approval: z.array(z.string().min(1)).default([]),
            deny: z.array(z.string().min(1)).default([]),
            otherwise: ThenSchema.default("deny"),
          })
          .strict(),
      )
      .default([]),
    /** At most `max` actions (tool name or action class) per service or namespace in a sliding window. */
    rateLimits: z
      .array(
        z
          .object({
            action: z.string().min(1, "expected a tool name or an action class"),
            max: z.number().int().min(0),
            perMinutes: z.number().int().min(1).max(43200),
            per: z.enum(["service", "namespace"], "expected service or namespace").default("service"),
            match: ScopeSchema,
            then: ThenSchema.default("deny"),
          })
          .strict(),
      )
      .default([
        { action: "restart", max: 3, perMinutes: 60, per: "service", match: {}, then: "deny" },
        { action: "rollback", max: 2, perMinutes: 60, per: "service", match: {}, then: "deny" },
        { action: "scale", max: 4, perMinutes: 60, per: "service", match: {}, then: "approval" },
      ]),
    /** How much one action may touch. */
    blastRadius: z
      .object({
        /** Share of a workload's replicas one action may take out of service at once. */
        maxReplicaShare: Share.default(0.5),
        /** Workloads one action may change. */
        maxWorkloadsPerAction: z.number().int().min(1).default(3),
        /** Workloads of one environment under remediation at once, across incidents and workers. */
        maxConcurrentWorkloads: z.number().int().min(1).default(5),
        then: ThenSchema.default("deny"),
      })
      .strict()
      .default({ maxReplicaShare: 0.5, maxWorkloadsPerAction: 3, maxConcurrentWorkloads: 5, then: "deny" }),
    /** Change freezes: only read tools run while one is in effect. */
    freezeWindows: z.array(FreezeWindowSchema).default([]),
    /** The same call on the same target within this many minutes (any incident) is not repeated. */
    idempotency: z
      .object({ windowMinutes: z.number().int().min(0).max(10080).default(30), then: ThenSchema.default("deny") })
      .strict()
      .default({ windowMinutes: 30, then: "deny" }),
    /** Parameter bounds beyond which a valid call still needs a human. */
    parameters: z
      .object({
        /** Scaling up by more than this factor of the current replicas. */
        maxScaleFactor: z.number().min(1).default(3),
        /** Raising a memory limit by more than this factor. */
        maxMemoryFactor: z.number().min(1).default(2),
        then: ThenSchema.default("approval"),
      })
      .strict()
      .default({ maxScaleFactor: 3, maxMemoryFactor: 2, then: "approval" }),
    /** Limits on the whole incident, not just one step. */
    guardrails: z
      .object({
        /** Remediation attempts per incident. */
        maxAttempts: z.number().int().min(1).max(10).default(3),
        /** Minutes since the incident opened (environment time) after which nothing more runs alone. */
        maxWallMinutes: z.number().int().min(1).max(10080).default(120),
        /** Model tokens and estimated model cost one incident may spend. */
        maxModelTokens: z.number().int().min(0).default(200_000),
        maxModelCostUsd: z.number().min(0).default(2),
        then: ThenSchema.default("deny"),
        /** Repeated failed remediations on one service stop automatic action there until reset. */
        circuitBreaker: z
          .object({
            failures: z.number().int().min(1).default(3),
            windowMinutes: z.number().int().min(1).max(43200).default(1440),
            then: ThenSchema.default("approval"),
          })
          .strict()
          .default({ failures: 3, windowMinutes: 1440, then: "approval" }),
      })
      .strict()
      .default({
        maxAttempts: 3,
        maxWallMinutes: 120,
        maxModelTokens: 200_000,
        maxModelCostUsd: 2,
        then: "deny",
        circuitBreaker: { failures: 3, windowMinutes: 1440, then: "approval" },
      }),
    /**
     * A remediation whose rollback rate for a fault class reaches `rollbackRate` over at least
     * `minSamples` verified attempts needs a human until successes bring the rate back down.
     */
    demotion: z
      .object({ rollbackRate: Confidence.default(0.6), minSamples: z.number().int().min(1).default(3) })
      .strict()
      .default({ rollbackRate: 0.6, minSamples: 3 }),
    /**
     * How much each reasoner's confidence counts when several propose one fault class (log-odds
     * pooling, reasoners/combine.ts); a reasoner not named counts 0.5. `suture calibrate` proposes
     * values fitted on evaluation results; only a human puts them here.
     */
    pooling: z
      .object({
        weights: z
          .record(
            z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a reasoner name such as rules, llm or memory"),
            z.number().gt(0, "expected a weight above 0").max(2, "expected a weight of at most 2"),
          )
          .default({ ...REASONER_WEIGHTS }),
      })
      .strict()
      .default({ weights: { ...REASONER_WEIGHTS } }),
    /**
     * When another incident is remediating the same workload: `wait` up to `waitSeconds` for it
     * to finish (then escalate), or `escalate` at once.
     */
    resourceLock: z
      .object({ whenBusy: z.enum(["wait", "escalate"]).default("wait"), waitSeconds: z.number().int().min(0).max(3600).default(300) })
      .strict()
      .default({ whenBusy: "wait", waitSeconds: 300 }),
    /**
     * How long verify lets an action settle before judging it, per tool (seconds, 5..3600),
     * overriding the tool's default; a tool not named keeps its default.
     */
    verification: z
      .object({
        settleSeconds: z
          .record(z.string(), z.number().int("expected whole seconds").min(5, "expected at least 5 seconds").max(3600, "expected at most 3600 seconds"))
          .superRefine((settle, ctx) => {
            const known = REMEDIATION_TOOLS.map((t) => t.name);
            for (const name of Object.keys(settle)) {
              if (!known.includes(name)) ctx.addIssue({ code: "custom", message: `unknown remediation tool "${name}"; expected one of ${known.join(", ")}`, path: [name] });
            }
          })
          .default({}),
        /** Seconds between verify's looks at a settle window (each look on the wall clock is a queue job). */
        sampleSeconds: z.number().int("expected whole seconds").min(5, "expected at least 5 seconds").max(3600, "expected at most 3600 seconds").default(15),
        /** Consecutive healthy looks that judge a repair before its settle interval is over (faults whose repair only time shows durable, such as leaks, always wait it out). */
        stableSamples: z.number().int("expected a whole number of looks").min(1, "expected at least 1 look").max(100, "expected at most 100 looks").default(3),
        /** Minutes after the action within which a backlog still draining at the settle deadline must empty to be watched on (not judged a failure). */
        drainMinutes: z.number().int("expected whole minutes").min(1, "expected at least 1 minute").max(240, "expected at most 240 minutes").default(30),
      })
      .strict()
      .default({ settleSeconds: {}, sampleSeconds: 15, stableSamples: 3, drainMinutes: 30 }),
  })
  .strict();

/** A validated policy. */
export type Policy = z.infer<typeof PolicySchema>;
/** A policy as written (before defaults), e.g. a scenario's overrides. */
export type PolicyInputFile = z.input<typeof PolicySchema>;

/** The default policy (every field at its documented default). */
export const DEFAULT_POLICY: Policy = PolicySchema.parse({});

/** `policy` with some top-level sections replaced (e.g. a scenario's freeze window), validated again. */
export function withSections(policy: Policy, sections: Record<string, unknown> | undefined): Policy {
  return sections === undefined ? policy : PolicySchema.parse({ ...policy, ...sections });
}

/** The settle interval verify waits after `tool` acts: the policy's override, else the tool's default (seconds). */
export function effectiveSettleSeconds(policy: Policy, tool: { name: string; settleSeconds: number }): number {
  return policy.verification.settleSeconds[tool.name] ?? tool.settleSeconds;
}
