import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { formatZodError } from "../config/errors.js";
import type { PolicyVerdict } from "../graphs/state.js";
import type { EnvironmentAdapter } from "../tools/environment.js";
import type { ToolRegistry } from "../tools/registry.js";
import type { ToolCall } from "../tools/tool.js";
import type { RemediationStats } from "../memory/incident-memory.js";

const Confidence = z.number().min(0, "expected a confidence between 0 and 1").max(1, "expected a confidence between 0 and 1");

/** The policy file: what Suture may do on its own. */
export const PolicySchema = z
  .object({
    /** Minimum diagnosis confidence to act without a human, per tool risk level. */
    thresholds: z
      .object({ low: Confidence.default(0.7), medium: Confidence.default(0.75), high: Confidence.default(0.9) })
      .strict()
      .default({ low: 0.7, medium: 0.75, high: 0.9 }),
    /** Below this confidence diagnose escalates without proposing anything. */
    escalateBelow: Confidence.default(0.7),
    /** Risk levels that always need a human. */
    approvalRequiredFor: z.array(z.enum(["low", "medium", "high"])).default(["high"]),
    /** Fault categories that are never remediated automatically. */
    neverRemediate: z.array(z.string()).default(["security", "data-corruption", "certificate"]),
    /** Remediation attempts per incident before escalating. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** Minutes a human has to answer an approval request before the incident escalates. */
    approvalTimeoutMinutes: z.number().int().min(1).max(10080).default(60),
    /**
     * A remediation whose rollback rate for a fault class reaches `rollbackRate` over at least
     * `minSamples` verified attempts needs a human until successes bring the rate back down.
     */
    demotion: z
      .object({ rollbackRate: Confidence.default(0.6), minSamples: z.number().int().min(1).default(3) })
      .strict()
      .default({ rollbackRate: 0.6, minSamples: 3 }),
    /**
     * When another incident is remediating the same workload: `wait` up to `waitSeconds` for it
     * to finish (then escalate), or `escalate` at once.
     */
    resourceLock: z
      .object({ whenBusy: z.enum(["wait", "escalate"]).default("wait"), waitSeconds: z.number().int().min(0).max(3600).default(300) })
      .strict()
      .default({ whenBusy: "wait", waitSeconds: 300 }),
  })
  .strict();

/** A validated policy. */
export type Policy = z.infer<typeof PolicySchema>;

/** The default policy (every field at its documented default). */
export const DEFAULT_POLICY: Policy = PolicySchema.parse({});

/** Thrown when a policy file is unreadable or invalid; the message names the field. */
export class InvalidPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPolicyError";
  }
}

/** Reads and validates a YAML policy file. */
export async function loadPolicy(file: string): Promise<Policy> {
  let data: unknown;
  try {
    data = parseYaml(await readFile(file, "utf8"));
  } catch (error) {
    throw new InvalidPolicyError(`${file}: ${(error as Error).message.split("\n")[0] ?? "unreadable"}`);
  }
  const parsed = PolicySchema.safeParse(data ?? {});
  if (!parsed.success) throw new InvalidPolicyError(formatZodError(parsed.error, `${file}: `));
  return parsed.data;
}

/** What the policy check looks at for one proposed call. */
export interface PolicyInput {
  call: ToolCall;
  confidence: number;
  /** Fault category of the hypothesis behind the call. */
  category: string;
  /** How this remediation fared for this fault class before (from incident memory). */
  track?: RemediationStats;
}

/**
 * The only gate between a proposal and its execution: deterministic code over the policy, the
 * registry and the environment's live metadata. Model output cannot widen it.
 */
export class PolicyEngine {
  constructor(
    readonly policy: Policy,
    private readonly tools: ToolRegistry,
  ) {}

  async evaluate(input: PolicyInput, env: EnvironmentAdapter): Promise<PolicyVerdict> {
    const deny = (risk: string, reason: string): PolicyVerdict => ({ outcome: "deny", reasons: [reason], risk, call: input.call });
    if (!this.tools.has(input.call.tool)) {
      return deny("unknown", `unknown tool "${input.call.tool}"; known tools: ${this.tools.list().map((t) => t.name).join(", ")}`);
    }
    const tool = this.tools.get(input.call.tool);
    if (tool.risk === "read") return deny(tool.risk, `"${tool.name}" is a read tool, not a remediation`);
    if (this.policy.neverRemediate.includes(input.category)) {
      return deny(tool.risk, `fault category "${input.category}" is never remediated automatically (policy.neverRemediate)`);
    }
    const parsed = this.tools.parseCall(input.call);
    if (!parsed.ok) return deny(tool.risk, `invalid parameters for ${tool.name}: ${parsed.error}`);
    if (tool.validateLive !== undefined) {
      const live = await tool.validateLive(parsed.params, env);
      if (!live.ok) return deny(tool.risk, `live check failed for ${tool.name}: ${live.reason}`);
    }
    const reasons = [`${tool.name} is ${tool.risk} risk; parameters valid against live state`];
    if (this.policy.approvalRequiredFor.includes(tool.risk)) {
      return { outcome: "needs_approval", reasons: [...reasons, `${tool.risk}-risk actions always need a human (policy.approvalRequiredFor)`], risk: tool.risk, call: input.call };
    }
    const track = input.track;
    const demotion = this.policy.demotion;
    if (track !== undefined && track.attempts >= demotion.minSamples && track.rollbackRate >= demotion.rollbackRate) {
      return {
        outcome: "needs_approval",
        reasons: [
          ...reasons,
          `${tool.name} for ${track.faultClass} made things worse in ${track.worse} of ${track.attempts} past attempts (rollback rate ${track.rollbackRate.toFixed(2)} ≥ ${demotion.rollbackRate.toFixed(2)}): demoted to approval (policy.demotion)`,
        ],
        risk: tool.risk,
        call: input.call,
      };
    }
    const threshold = this.policy.thresholds[tool.risk];
    if (input.confidence < threshold) {
      return {
        outcome: "needs_approval",
        reasons: [...reasons, `confidence ${input.confidence.toFixed(2)} is below ${threshold.toFixed(2)} required to act alone at ${tool.risk} risk`],
        risk: tool.risk,
        call: input.call,
      };
    }
    return {
      outcome: "allow",
      reasons: [...reasons, `confidence ${input.confidence.toFixed(2)} ≥ ${threshold.toFixed(2)} required at ${tool.risk} risk`],
      risk: tool.risk,
      call: input.call,
    };
  }
}
