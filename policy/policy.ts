import { createHash } from "node:crypto";
import type { PolicyCheck, PolicyVerdict } from "../domain/model.js";
import type { RemediationStats } from "../memory/incident-memory.js";
import { canonicalJson } from "../domain/json.js";
import type { EnvironmentAdapter } from "../environments/adapter.js";
import type { ToolRegistry } from "../tools/registry.js";
import type { ToolCall } from "../domain/model.js";
import type { AnyToolDefinition, ToolImpact } from "../tools/tool.js";
import { describeFreeze, freezeActive, zonedTime } from "./freeze.js";
import type { PolicyLedger } from "../domain/ledger.js";
import type { Policy, Then } from "./schema.js";
import { placementAdmission, quotaAdmission } from "./admission.js";
import { describeScope, scopeMatches, type ScopeSubject } from "./scope.js";

export { DEFAULT_POLICY, PolicySchema, withSections, type Policy } from "./schema.js";
export { InvalidPolicyError, loadPolicy, parsePolicy } from "./load.js";

const MINUTE = 60_000;
/** Checks that read the shared actions ledger; recounted when a verdict is granted. */
const LEDGER_RULES = new Set(["environment", "rateLimits", "idempotency", "blastRadius.concurrent", "guardrails.circuitBreaker"]);

/** What the policy knows about the incident a call belongs to. */
export interface IncidentFacts {
  id: string;
  /** The alerting workload and where it runs. */
  subject: ScopeSubject;
  /** The world the incident acts on (rate limits and breakers count within it); null = none. */
  environmentId: string | null;
  /** Environment time the incident opened and the time now, epoch ms. */
  openedAt: number;
  now: number;
  /** Remediations already attempted in this incident. */
  attempts: Array<{ strategy: string; call: ToolCall }>;
  /** Model tokens and estimated cost spent so far. */
  usage: { modelTokens: number; modelCostUsd: number };
  /** Workloads the incident's evidence covers; a call may only target one of them. */
  services: string[];
  /**
   * Workloads Suture's own tools found abnormal (the alerting one and any with an anomalous
   * signal). Changing another covered workload needs a human: text in logs or a model cannot
   * make a healthy neighbour a target on its own. Absent = not checked.
   */
  affected?: string[];
  /**
   * Security evidence perceive found (suspected abuse, secrets in logs), one line each. Any of it
   * vetoes adding capacity: scaling a service under attack serves the attacker. Absent = none.
   */
  security?: string[];
  /**
   * Workloads whose running revision fixed a vulnerability, as perceive read their change causes.
   * Rolling one back would put the flaw back on a running service: never automatic. Absent = none.
   */
  securityFixes?: Array<{ service: string; note: string }>;
  /** Workloads whose running revision only changed a restart marker (a reloaded Secret or ConfigMap), with the markers. */
  restartOnly?: Array<{ service: string; note: string }>;
  /**
   * Workloads whose last scale records a reason to stay at that size (maintenance, a migration's
   * write freeze, "keep at 0 until …"): scaling one is a human's decision. Absent = none.
   */
  heldOnPurpose?: Array<{ service: string; note: string }>;
  /**
   * ConfigMaps whose latest change its own records mark as planned (a maintenance window or mode,
   * a scheduled change, a CAB approval, "do not revert"): reverting one is a human's decision.
   */
  plannedConfigs?: Array<{ service: string; configMap: string; note: string }>;
  /**
   * Recoveries Suture applied to itself and still in force (its own rates crossed their limits):
   * each lowers autonomy for every action until a human restores it. Absent = none.
   */
  selfRecoveries?: Array<{ id: number; autonomy: "recommend" | "observe"; reason: string }>;
}

/** Action classes that add capacity (replicas, resources): vetoed while abuse is suspected. */
const CAPACITY_CLASSES = new Set(["scale", "resources"]);

/** What the policy check looks at for one proposed call. */
export interface PolicyInput {
  call: ToolCall;
  confidence: number;
  /** Fault category of the hypothesis behind the call. */
  category: string;
  /** Strategy key of the proposal (tool + target). */
  strategy: string;
  /** How this remediation fared for this fault class before (from incident memory). */
  track?: RemediationStats;
  incident: IncidentFacts;
}

/** Where the engine reads the policy: a fixed policy or a reloadable file. */
export interface PolicyHolder {
  current(): Policy;
}

/** A stable short hash of a policy, recorded with every verdict. */
export function policyVersion(policy: Policy): string {
  return createHash("sha256").update(canonicalJson(policy)).digest("hex").slice(0, 12);
}

function check(rule: string, outcome: PolicyCheck["outcome"], detail: string): PolicyCheck {
  return { rule, outcome, detail };
}

function violated(rule: string, then: Then, detail: string): PolicyCheck {
  return check(rule, then === "deny" ? "deny" : "approval", detail);
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Capacity is never added to a workload while Suture's own reads show suspected abuse; not configurable. */
function securityVeto(actionClass: string, security: string[]): PolicyCheck {
  if (!CAPACITY_CLASSES.has(actionClass)) return check("securityVeto", "pass", `${actionClass} adds no capacity`);
  if (security.length === 0) return check("securityVeto", "pass", "no security evidence");
  return check("securityVeto", "deny", `suspected abuse vetoes adding capacity (${actionClass}): ${security.slice(0, 2).join("; ")}`);
}

/** A rollback never undoes a security fix automatically (the flaw would be back in production); not configurable. */
function securityFixRollback(actionClass: string, service: string | undefined, fixes: Array<{ service: string; note: string }>): PolicyCheck {
  if (actionClass !== "rollback") return check("securityFixRollback", "pass", `${actionClass} undoes no revision`);
  const fix = fixes.find((f) => f.service === service);
  if (fix === undefined) return check("securityFixRollback", "pass", "the revision it undoes fixed no known vulnerability");
  return check("securityFixRollback", "deny", `rolling back ${service ?? ""} would undo a security fix (${fix.note}); a human weighs the fault against the vulnerability`);
}

/** A workload scaled on purpose, with the reason on record, is not scaled back automatically; not configurable. */
/** A rollback never undoes a revision that only restarted pods to reload a Secret or ConfigMap: the reloaded content stays as it is. */
function restartOnlyRollback(actionClass: string, service: string | undefined, restarts: Array<{ service: string; note: string }>): PolicyCheck {
  if (actionClass !== "rollback") return check("restartOnlyRollback", "pass", `${actionClass} undoes no revision`);
  const restart = restarts.find((r) => r.service === service);
  if (restart === undefined) return check("restartOnlyRollback", "pass", "the revision it undoes changed more than a restart marker");
  return check(
    "restartOnlyRollback",
    "deny",
    `the revision of ${service ?? ""} it would undo only restarted the pods (${restart.note}): rolling back cannot undo the Secret or ConfigMap change they reloaded; a human looks at that change`,
  );
}

/** A ConfigMap change its own records call planned (a maintenance window, an approved change) is never reverted automatically; not configurable. */
function plannedConfigRevert(actionClass: string, service: string | undefined, configMap: string | undefined, planned: Array<{ service: string; configMap: string; note: string }>): PolicyCheck {
  if (actionClass !== "config-revert") return check("plannedConfigRevert", "pass", `${actionClass} reverts no ConfigMap`);
  const change = planned.find((p) => p.service === service && p.configMap === configMap);
  if (change === undefined) return check("plannedConfigRevert", "pass", "nothing marks the change it reverts as planned");
  return check("plannedConfigRevert", "deny", `the change to ConfigMap ${configMap ?? ""} is marked as planned (${change.note}); reverting it would undo an approved change: its owner decides`);
}

function deliberateHold(actionClass: string, service: string | undefined, held: Array<{ service: string; note: string }>): PolicyCheck {
  if (actionClass !== "scale") return check("deliberateHold", "pass", `${actionClass} changes no replica count`);
  const hold = held.find((h) => h.service === service);
  if (hold === undefined) return check("deliberateHold", "pass", "no recorded reason to keep its size");
  return check("deliberateHold", "deny", `${service ?? ""} was scaled on purpose and its change cause says to keep it so (${hold.note}); its owner decides`);
}

/** Suture's own lowered autonomy (app/self-recovery.ts): the strictest recovery in force; it only ever narrows. */
function selfRecovery(recoveries: Array<{ id: number; autonomy: "recommend" | "observe"; reason: string }>): PolicyCheck {
  const strictest = recoveries.find((r) => r.autonomy === "observe") ?? recoveries[0];
  if (strictest === undefined) return check("selfRecovery", "pass", "no self-recovery in force");
  const detail = `Suture lowered its own autonomy to ${strictest.autonomy} (self-recovery #${strictest.id}: ${strictest.reason}); until a human restores it (suture health restore ${strictest.id})`;
  return check("selfRecovery", strictest.autonomy === "observe" ? "deny" : "approval", `${detail}${strictest.autonomy === "observe" ? " nothing runs" : " every action needs approval"}`);
}

/**
 * The only gate between a proposal and its execution: deterministic code over the policy, the
 * registry, the environment's live metadata and the actions ledger. Model output and log text
 * can only ever narrow what it allows.
 */
export class PolicyEngine {
  private readonly holder: PolicyHolder;

  constructor(
    policy: Policy | PolicyHolder,
    private readonly tools: ToolRegistry,
  ) {
    this.holder = "current" in policy && typeof policy.current === "function" ? policy : { current: () => policy as Policy };
  }

  /** The policy in force now (the last good one, when a reload failed). */
  get policy(): Policy {
    return this.holder.current();
  }

  /**
   * Evaluates every rule for one call and combines them: any deny denies, else any approval
   * needs a human, else allow. Each check names its rule, the value and the threshold.
   */
  async evaluate(input: PolicyInput, env: EnvironmentAdapter, ledger: PolicyLedger): Promise<PolicyVerdict> {
    const policy = this.policy;
    const version = policyVersion(policy);
    const verdictOf = (risk: string, checks: PolicyCheck[]): PolicyVerdict => combine(input.call, risk, checks, version);
    if (!this.tools.has(input.call.tool)) {
      const known = this.tools
        .list()
        .filter((t) => t.risk !== "read")
        .map((t) => t.name)
        .join(", ");
      return verdictOf("unknown", [check("tool", "deny", `unknown tool "${input.call.tool}"; known tools: ${known}`)]);
    }
    const tool = this.tools.get(input.call.tool);
    if (tool.risk === "read") return verdictOf(tool.risk, [check("tool", "deny", `"${tool.name}" is a read tool, not a remediation`)]);
    const parsed = this.tools.parseCall(input.call);
    if (!parsed.ok) return verdictOf(tool.risk, [check("parameters", "deny", `invalid parameters for ${tool.name}: ${parsed.error}`)]);
    const params = parsed.params;
    const target = tool.target?.(params);
    const checks: PolicyCheck[] = [];

    // Where the call acts: only workloads the incident's evidence covers.
    if (target === undefined) {
      checks.push(check("scope", "deny", `${tool.name} does not say which workload it changes`));
    } else if (!input.incident.services.includes(target.service)) {
      checks.push(check("scope", "deny", `${tool.name} targets ${target.service}, which is outside this incident (workloads: ${input.incident.services.join(", ")})`));
    } else if (input.incident.affected !== undefined && !input.incident.affected.includes(target.service)) {
      checks.push(
        check(
          "scope",
          "approval",
          `${tool.name} targets ${target.service}, which shows nothing abnormal (abnormal: ${input.incident.affected.join(", ")}); a human must confirm changing a healthy workload`,
        ),
      );
    } else {
      checks.push(check("scope", "pass", `${target.service} is part of this incident`));
    }

    // Parameters against the live system and the policy's bounds.
    const live = tool.validateLive ? await tool.validateLive(params, env) : { ok: true as const };
    checks.push(live.ok ? check("parameters", "pass", `parameters valid against live state`) : check("parameters", "deny", `live check failed for ${tool.name}: ${live.reason}`));
    if (live.ok) checks.push(...(await this.bounds(policy, tool, params, env)));

    const subject = input.incident.subject;
    const never = policy.neverRemediate;
    checks.push(
      never.categories.includes(input.category)
        ? violated("neverRemediate", never.then, `fault category "${input.category}" is never remediated automatically (policy.neverRemediate)`)
        : check("neverRemediate", "pass", `category "${input.category}" may be remediated`),
    );
    checks.push(this.autonomy(policy, subject));
    checks.push(selfRecovery(input.incident.selfRecoveries ?? []));
    checks.push(...this.toolLists(policy, subject, tool.name));
    checks.push(...this.approval(policy, subject, tool.risk));
    checks.push(this.confidence(policy, tool.risk, input.confidence));
    const demotion = this.demotion(policy, tool.name, input.track);
    if (demotion !== undefined) checks.push(demotion);
    checks.push(...this.freezes(policy, subject, input.incident.now));
    checks.push(...this.guardrails(policy, input));
    checks.push(securityVeto(tool.actionClass, input.incident.security ?? []));
    checks.push(securityFixRollback(tool.actionClass, target?.service, input.incident.securityFixes ?? []));
    checks.push(restartOnlyRollback(tool.actionClass, target?.service, input.incident.restartOnly ?? []));
    checks.push(deliberateHold(tool.actionClass, target?.service, input.incident.heldOnPurpose ?? []));
    checks.push(plannedConfigRevert(tool.actionClass, target?.service, target?.name, input.incident.plannedConfigs ?? []));

    const impact = live.ok && tool.impact !== undefined && target !== undefined ? await tool.impact(params, env).catch(() => undefined) : undefined;
    if (impact !== undefined) checks.push(...this.impactChecks(policy, impact));
    checks.push(...(await this.ledgerChecks(policy, input, tool, target?.service, impact, ledger)));
    return { ...verdictOf(tool.risk, checks), ...(impact !== undefined ? { impact } : {}) };
  }

  /**
   * Re-counts the checks that read the shared actions ledger (rate limits, idempotency window,
   * concurrent workloads, circuit breaker) for a verdict, e.g. inside the transaction that grants
   * it; every other finding is kept.
   */
  async recount(input: PolicyInput, verdict: PolicyVerdict, ledger: PolicyLedger): Promise<PolicyVerdict> {
    if (!this.tools.has(verdict.call.tool)) return verdict;
    const tool = this.tools.get(verdict.call.tool);
    const parsed = this.tools.parseCall(verdict.call);
    if (!parsed.ok) return verdict;
    const kept = verdict.checks.filter((c) => !LEDGER_RULES.has(c.rule));
    const fresh = await this.ledgerChecks(this.policy, { ...input, call: verdict.call }, tool, tool.target?.(parsed.params).service, verdict.impact ?? undefined, ledger);
    return { ...combine(verdict.call, verdict.risk, [...kept, ...fresh], policyVersion(this.policy)), ...(verdict.impact ? { impact: verdict.impact } : {}) };
  }

  private impactChecks(policy: Policy, impact: ToolImpact): PolicyCheck[] {
    const rule = policy.blastRadius;
    const share = impact.replicas > 0 ? impact.replicasOutAtOnce / impact.replicas : 0;
    return [
      share > rule.maxReplicaShare
        ? violated(
            "blastRadius.replicas",
            rule.then,
            `takes ${impact.replicasOutAtOnce} of ${impact.replicas} replicas (${pct(share)}) out at once, above ${pct(rule.maxReplicaShare)} (policy.blastRadius.maxReplicaShare): ${impact.note}`,
          )
        : check("blastRadius.replicas", "pass", `${impact.note} (${pct(share)} ≤ ${pct(rule.maxReplicaShare)})`),
      impact.workloads.length > rule.maxWorkloadsPerAction
        ? violated(
            "blastRadius.workloads",
            rule.then,
            `changes ${impact.workloads.length} workloads (${impact.workloads.join(", ")}), above ${rule.maxWorkloadsPerAction} (policy.blastRadius.maxWorkloadsPerAction)`,
          )
        : check("blastRadius.workloads", "pass", `changes ${impact.workloads.length} workload(s): ${impact.workloads.join(", ")}`),
    ];
  }

  private async ledgerChecks(policy: Policy, input: PolicyInput, tool: AnyToolDefinition, service: string | undefined, impact: ToolImpact | undefined, ledger: PolicyLedger): Promise<PolicyCheck[]> {
    const subject = input.incident.subject;
    const environmentId = input.incident.environmentId;
    if (environmentId === null || service === undefined) {
      return [check("environment", "deny", `the incident has no environment that owns ${subject.namespace}/${subject.service}; nothing may run`)];
    }
    const scoped = { environmentId, namespace: subject.namespace, service };
    // One after another: inside the grant transaction they share one client.
    return [
      ...(await this.rateLimits(policy, input, tool, scoped, ledger)),
      await this.idempotency(policy, input, scoped, ledger),
      await this.concurrent(policy, input, impact, environmentId, ledger),
      await this.circuitBreaker(policy, input, scoped, ledger),
    ];
  }

  private async bounds(policy: Policy, tool: AnyToolDefinition, params: Record<string, unknown>, env: EnvironmentAdapter): Promise<PolicyCheck[]> {
    if (tool.growth === undefined) return [];
    const rule = policy.parameters;
    const growth = await tool.growth(params, env);
    const { dimension, from, to } = growth;
    const service = tool.target?.(params).service ?? "";
    const admission = quotaAdmission(growth, await env.describeWorkload(service));
    const headroom = growth.dimension === "replicas" && growth.to > growth.from && env.placementHeadroom !== undefined ? await env.placementHeadroom(service).catch(() => undefined) : undefined;
    const placement = placementAdmission(growth, headroom);
    // After a scale-down, the base is the count the controller scaled it down from (restoring it
    // is 1×); from zero without that record, any count up to the factor is one step.
    const ranWith = growth.ranWith;
    const factor = to / Math.max(1, from, ranWith ?? 0);
    const [limit, setting, what, unit] =
      dimension === "replicas"
        ? [rule.maxScaleFactor, "maxScaleFactor", `scaling ${service} from ${from} to ${to} replicas`, ""]
        : [rule.maxMemoryFactor, "maxMemoryFactor", `raising ${service}'s memory limit from ${from} to ${to} MiB`, " MiB"];
    return [
      factor > limit
        ? violated(
            "parameters.bounds",
            rule.then,
            `${what} is ${factor.toFixed(dimension === "replicas" ? 1 : 2)}×${ranWith !== undefined ? ` the ${ranWith} it ran with` : ""}, above ${limit}× (policy.parameters.${setting})`,
          )
        : check(
            "parameters.bounds",
            "pass",
            `${from} → ${to}${unit} ${dimension === "replicas" ? "replicas " : ""}within ${limit}×${ranWith !== undefined ? ` of the ${ranWith} it ran with before it was scaled down` : ""}`,
          ),
      admission,
      placement,
    ];
  }

  private autonomy(policy: Policy, subject: ScopeSubject): PolicyCheck {
    const index = policy.autonomy.rules.findIndex((r) => scopeMatches(r.match, subject));
    const rule = index >= 0 ? policy.autonomy.rules[index] : undefined;
    const mode = rule?.mode ?? policy.autonomy.default;
    const where = rule !== undefined ? `policy.autonomy.rules[${index}] (${describeScope(rule.match)})` : "policy.autonomy.default";
    if (mode === "observe") return check("autonomy", "deny", `autonomy is observe for ${subject.namespace}/${subject.service} (${where}): diagnose and brief only`);
    if (mode === "recommend") return check("autonomy", "approval", `autonomy is recommend for ${subject.namespace}/${subject.service} (${where}): every action needs approval`);
    return check("autonomy", "pass", `autonomy is auto (${where})`);
  }

  private toolLists(policy: Policy, subject: ScopeSubject, name: string): PolicyCheck[] {
    const checks: PolicyCheck[] = [];
    policy.tools.forEach((rule, i) => {
      if (!scopeMatches(rule.match, subject)) return;
      const where = `policy.tools[${i}] (${describeScope(rule.match)})`;
      if (rule.deny.includes(name)) checks.push(check("tools", "deny", `${name} is on the deny list for ${subject.service} (${where})`));
      else if (rule.approval.includes(name)) checks.push(check("tools", "approval", `${name} needs approval for ${subject.service} (${where})`));
      else if (rule.allow !== undefined && !rule.allow.includes(name))
        checks.push(violated("tools", rule.otherwise, `${name} is not on the allow list for ${subject.service} [${rule.allow.join(", ")}] (${where})`));
      else checks.push(check("tools", "pass", `${name} allowed for ${subject.service} (${where})`));
    });
    return checks;
  }

  private approval(policy: Policy, subject: ScopeSubject, risk: string): PolicyCheck[] {
    const checks: PolicyCheck[] = [];
    const isRisk = (r: string): boolean => r === risk;
    if (policy.approval.requiredFor.some(isRisk)) checks.push(check("approval", "approval", `${risk}-risk actions always need a human (policy.approval.requiredFor)`));
    policy.approval.rules.forEach((rule, i) => {
      if (!scopeMatches(rule.match, subject)) return;
      const where = `policy.approval.rules[${i}] (${describeScope(rule.match)})`;
      if (rule.forbidden.some(isRisk)) checks.push(check("approval", "deny", `${risk}-risk actions are forbidden for ${subject.namespace}/${subject.service} (${where})`));
      else if (rule.requiredFor.some(isRisk)) checks.push(check("approval", "approval", `${risk}-risk actions need a human for ${subject.namespace}/${subject.service} (${where})`));
    });
    if (checks.length === 0) checks.push(check("approval", "pass", `${risk}-risk actions may run without a human here`));
    return checks;
  }

  private confidence(policy: Policy, risk: string, confidence: number): PolicyCheck {
    const threshold = policy.thresholds[risk as "low" | "medium" | "high"];
    if (confidence < policy.escalateBelow) {
      return check("thresholds", "deny", `confidence ${confidence.toFixed(2)} is below ${policy.escalateBelow.toFixed(2)}, the least to propose anything (policy.escalateBelow)`);
    }
    if (confidence < threshold) return check("thresholds", "approval", `confidence ${confidence.toFixed(2)} is below ${threshold.toFixed(2)} required to act alone at ${risk} risk`);
    return check("thresholds", "pass", `confidence ${confidence.toFixed(2)} ≥ ${threshold.toFixed(2)} required at ${risk} risk`);
  }

  private demotion(policy: Policy, tool: string, track: RemediationStats | undefined): PolicyCheck | undefined {
    const d = policy.demotion;
    if (track === undefined || track.attempts < d.minSamples) return undefined;
    if (track.rollbackRate >= d.rollbackRate) {
      return check(
        "demotion",
        "approval",
        `${tool} for ${track.faultClass} made things worse in ${track.worse} of ${track.attempts} past attempts (rollback rate ${track.rollbackRate.toFixed(2)} ≥ ${d.rollbackRate.toFixed(2)}): demoted to approval (policy.demotion)`,
      );
    }
    return check("demotion", "pass", `${tool} for ${track.faultClass}: rollback rate ${track.rollbackRate.toFixed(2)} over ${track.attempts} attempts`);
  }

  private freezes(policy: Policy, subject: ScopeSubject, now: number): PolicyCheck[] {
    const active = policy.freezeWindows.flatMap((w, i) => (scopeMatches(w.match, subject) && freezeActive(w, now) ? [{ w, i }] : []));
    if (active.length === 0) return policy.freezeWindows.length > 0 ? [check("freezeWindows", "pass", `no change freeze in effect`)] : [];
    return active.map(({ w, i }) =>
      violated("freezeWindows", w.then, `change freeze "${w.name}" (${describeFreeze(w)}) is in effect at ${zonedTime(now, w.timezone).label}; only read tools run (policy.freezeWindows[${i}])`),
    );
  }

  private guardrails(policy: Policy, input: PolicyInput): PolicyCheck[] {
    const g = policy.guardrails;
    const incident = input.incident;
    const checks: PolicyCheck[] = [];
    const attempts = incident.attempts.length;
    checks.push(
      attempts >= g.maxAttempts
        ? violated("guardrails.maxAttempts", g.then, `${attempts} remediation attempt(s) already made; at most ${g.maxAttempts} per incident (policy.guardrails.maxAttempts)`)
        : check("guardrails.maxAttempts", "pass", `attempt ${attempts + 1} of at most ${g.maxAttempts}`),
    );
    const repeated = incident.attempts.find((a) => a.strategy === input.strategy || canonicalJson(a.call) === canonicalJson(input.call));
    checks.push(
      repeated !== undefined
        ? violated("guardrails.strategy", g.then, `strategy ${input.strategy} was already tried in this incident; never the same strategy twice`)
        : check("guardrails.strategy", "pass", `strategy ${input.strategy} not tried yet`),
    );
    const minutes = (incident.now - incident.openedAt) / MINUTE;
    checks.push(
      minutes > g.maxWallMinutes
        ? violated("guardrails.maxWallMinutes", g.then, `the incident has run ${Math.round(minutes)} min, beyond ${g.maxWallMinutes} min (policy.guardrails.maxWallMinutes)`)
        : check("guardrails.maxWallMinutes", "pass", `${Math.round(minutes)} of ${g.maxWallMinutes} min used`),
    );
    const { modelTokens, modelCostUsd } = incident.usage;
    checks.push(
      modelTokens > g.maxModelTokens || modelCostUsd > g.maxModelCostUsd
        ? violated(
            "guardrails.budget",
            g.then,
            `model budget spent: ${modelTokens} tokens / $${modelCostUsd.toFixed(4)} against ${g.maxModelTokens} tokens / $${g.maxModelCostUsd.toFixed(2)} (policy.guardrails)`,
          )
        : check("guardrails.budget", "pass", `${modelTokens} of ${g.maxModelTokens} model tokens, $${modelCostUsd.toFixed(4)} of $${g.maxModelCostUsd.toFixed(2)}`),
    );
    return checks;
  }

  private async rateLimits(
    policy: Policy,
    input: PolicyInput,
    tool: AnyToolDefinition,
    scoped: { environmentId: string; namespace: string; service: string },
    ledger: PolicyLedger,
  ): Promise<PolicyCheck[]> {
    const checks: PolicyCheck[] = [];
    for (const [i, limit] of policy.rateLimits.entries()) {
      if (limit.action !== tool.name && limit.action !== tool.actionClass) continue;
      if (!scopeMatches(limit.match, { ...input.incident.subject, service: scoped.service })) continue;
      const since = input.incident.now - limit.perMinutes * MINUTE;
      const count = await ledger.countActions({
        environmentId: scoped.environmentId,
        namespace: scoped.namespace,
        ...(limit.per === "service" ? { service: scoped.service } : {}),
        action: limit.action,
        since,
        except: { incidentId: input.incident.id, attempt: input.incident.attempts.length + 1 },
      });
      const bucket = limit.per === "service" ? `${scoped.namespace}/${scoped.service}` : `namespace ${scoped.namespace}`;
      const what = `${count} ${limit.action} on ${bucket} in the last ${limit.perMinutes} min; at most ${limit.max} (policy.rateLimits[${i}])`;
      checks.push(count + 1 > limit.max ? violated("rateLimits", limit.then, `rate limit reached: ${what}`) : check("rateLimits", "pass", what));
    }
    return checks;
  }

  private async idempotency(policy: Policy, input: PolicyInput, scoped: { environmentId: string; namespace: string }, ledger: PolicyLedger): Promise<PolicyCheck> {
    const parsed = this.tools.parseCall(input.call);
    const params = parsed.ok ? parsed.params : input.call.params;
    const rule = policy.idempotency;
    if (rule.windowMinutes === 0) return check("idempotency", "pass", `idempotency window off`);
    const last = await ledger.lastSameCall({
      environmentId: scoped.environmentId,
      namespace: scoped.namespace,
      call: { tool: input.call.tool, params },
      since: input.incident.now - rule.windowMinutes * MINUTE,
      excludeIncident: input.incident.id,
    });
    if (last === undefined) return check("idempotency", "pass", `no identical call in the last ${rule.windowMinutes} min`);
    const ago = Math.max(0, Math.round((input.incident.now - last.at) / MINUTE));
    return violated(
      "idempotency",
      rule.then,
      `the same ${input.call.tool} ${canonicalJson(params)} ran ${ago} min ago in incident ${last.incidentId}; not repeated within ${rule.windowMinutes} min (policy.idempotency)`,
    );
  }

  private async concurrent(policy: Policy, input: PolicyInput, impact: ToolImpact | undefined, environmentId: string, ledger: PolicyLedger): Promise<PolicyCheck> {
    const rule = policy.blastRadius;
    const busy = await ledger.workloadsInFlight({ environmentId, excludeIncident: input.incident.id });
    const total = new Set([...busy, ...(impact?.workloads ?? [])]).size;
    return total > rule.maxConcurrentWorkloads
      ? violated(
          "blastRadius.concurrent",
          rule.then,
          `${busy.length} workload(s) already under remediation (${busy.slice(0, 5).join(", ")}${busy.length > 5 ? ", …" : ""}); with this one ${total}, above ${rule.maxConcurrentWorkloads} at once (policy.blastRadius.maxConcurrentWorkloads)`,
        )
      : check("blastRadius.concurrent", "pass", `${total} workload(s) under remediation at once, at most ${rule.maxConcurrentWorkloads}`);
  }

  private async circuitBreaker(policy: Policy, input: PolicyInput, scoped: { environmentId: string; namespace: string; service: string }, ledger: PolicyLedger): Promise<PolicyCheck> {
    const rule = policy.guardrails.circuitBreaker;
    const failures = await ledger.failures({ ...scoped, since: input.incident.now - rule.windowMinutes * MINUTE });
    const what = `${failures} failed remediation(s) on ${scoped.namespace}/${scoped.service} in the last ${rule.windowMinutes} min since the last reset`;
    return failures >= rule.failures
      ? violated(
          "guardrails.circuitBreaker",
          rule.then,
          `circuit breaker open: ${what} (≥ ${rule.failures}, policy.guardrails.circuitBreaker); automatic action stops until \`suture policy reset-breaker ${scoped.namespace}/${scoped.service}\``,
        )
      : check("guardrails.circuitBreaker", "pass", what);
  }
}

/** Combines checks: any deny denies; else any approval needs a human; else allow. */
function combine(call: ToolCall, risk: string, checks: PolicyCheck[], version: string): PolicyVerdict {
  const denies = checks.filter((c) => c.outcome === "deny");
  const approvals = checks.filter((c) => c.outcome === "approval");
  if (denies.length > 0) return { outcome: "deny", reasons: denies.map((c) => c.detail), risk, call, checks, policyVersion: version, impact: null };
  if (approvals.length > 0) return { outcome: "needs_approval", reasons: approvals.map((c) => c.detail), risk, call, checks, policyVersion: version, impact: null };
  const passed = checks.filter((c) => c.outcome === "pass").length;
  const confidence = checks.find((c) => c.rule === "thresholds")?.detail;
  return {
    outcome: "allow",
    reasons: [`${call.tool} is ${risk} risk; ${passed} policy checks passed`, ...(confidence !== undefined ? [confidence] : [])],
    risk,
    call,
    checks,
    policyVersion: version,
    impact: null,
  };
}
