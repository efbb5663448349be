import { readdir } from "node:fs/promises";
import path from "node:path";
import { InvalidFileError, loadYamlFile, type FileLimits } from "../../domain/yaml.js";
import type { Attempt, Evidence, Hypothesis, RemediationCandidate } from "../../domain/model.js";
import type { Reasoner, ReasonerInput } from "../reasoner.js";
import { findFact, matchAll, renderTemplate, TemplateError, type Bindings } from "./matcher.js";
import { RuleFileSchema, type Rule } from "./rule-schema.js";
import { RULES_DIR } from "../../domain/data.js";
import { isUntrustedAlertFact } from "../../evidence/alert-text.js";

/** The rules shipped with Suture. */
export const DEFAULT_RULES_DIR = RULES_DIR;

/** Thrown when a rules file cannot be read, is too large or does not match the rule schema; the message names file, line and field. */
export class InvalidRulesError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "rules", file);
    this.name = "InvalidRulesError";
  }
}

/** Binding names a `{{name.field}}` placeholder or a `$name` service selector refers to. */
function referencedNames(text: string): string[] {
  const names = [...text.matchAll(/\{\{\s*([a-z][a-z0-9_]*)\./g)].map((m) => m[1] ?? "");
  if (text.startsWith("$") && text !== "$alert") names.push(text.slice(1).split(".")[0] ?? "");
  return names;
}

/**
 * Why a rule would put the alert's own words into a tool call, or undefined when it cannot: a
 * remediation parameter may not refer to a fact bound from an `alert.text`, `alert.runbook` or
 * `alert.label.*` condition, nor to one found on a service such a fact named. Whoever wrote the
 * alert chose that text ("scale to 500"), so it is evidence, never a parameter.
 */
export function untrustedParamProblem(rule: Rule): string | undefined {
  const tainted = new Set<string>();
  for (const condition of rule.when) {
    const fromSelector = [condition.service, condition.not_service].some((sel) => sel !== undefined && referencedNames(sel).some((n) => tainted.has(n)));
    if (condition.bind !== undefined && (isUntrustedAlertFact(condition.fact) || fromSelector)) tainted.add(condition.bind);
  }
  if (tainted.size === 0) return undefined;
  for (const [i, template] of rule.remediation.entries()) {
    for (const [param, value] of Object.entries(template.params)) {
      if (typeof value !== "string") continue;
      const used = referencedNames(value).find((n) => tainted.has(n));
      if (used !== undefined) {
        return `rule "${rule.id}": remediation[${i}] (${template.tool}) param "${param}" uses {{${used}.…}}, bound from the alert's own text or labels (alert.text, alert.runbook, alert.label.*); alert text is untrusted evidence and may never name a tool parameter`;
      }
    }
  }
  return undefined;
}

/**
 * Loads and validates every `*.yaml` rules file in a folder, each within the rules file limits;
 * rule ids must be unique. Errors name files relative to the folder.
 */
export async function loadRules(dir: string = DEFAULT_RULES_DIR, limits?: Partial<FileLimits>): Promise<Rule[]> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidRulesError(`${dir}: cannot read the rules folder (${error.code ?? error.message})`, dir);
  });
  const files = entries.filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
  const rules: Rule[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const loaded = await loadYamlFile(path.join(dir, file), {
      kind: "rules",
      schema: RuleFileSchema,
      error: InvalidRulesError,
      name: file,
      ...(limits !== undefined ? { limits } : {}),
    });
    for (const [i, rule] of loaded.data.rules.entries()) {
      const where = loaded.at(["rules", i, "id"]);
      const previous = seen.get(rule.id);
      if (previous !== undefined) throw new InvalidRulesError(`${where}: rules[${i}].id: "${rule.id}" is already defined at ${previous}`, file);
      seen.set(rule.id, where);
      const untrusted = untrustedParamProblem(rule);
      if (untrusted !== undefined) throw new InvalidRulesError(`${where}: ${untrusted}`, file);
      rules.push(rule);
    }
  }
  return rules;
}

function clamp(x: number): number {
  return Math.max(0, Math.min(0.99, x));
}

/** Renders a rule's remediation templates; a template that cannot be filled is dropped with a note. */
function renderCandidates(rule: Rule, bindings: Bindings): { candidates: RemediationCandidate[]; notes: string[] } {
  const candidates: RemediationCandidate[] = [];
  const notes: string[] = [];
  for (const template of rule.remediation) {
    try {
      const params = Object.fromEntries(Object.entries(template.params).map(([k, v]) => [k, renderTemplate(v, bindings)]));
      const target = typeof params["service"] === "string" ? params["service"] : "";
      candidates.push({
        call: { tool: template.tool, params },
        rationale: template.rationale,
        strategy: `${template.tool}:${target}`,
      });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      notes.push(`${template.tool} not proposed: ${error.message}`);
    }
  }
  return { candidates, notes };
}

/** The rule's title with `{{binding.field}}` placeholders filled (left as written when one cannot be). */
function renderTitle(title: string, bindings: Bindings): string {
  try {
    return String(renderTemplate(title, bindings));
  } catch (error) {
    if (error instanceof TemplateError) return title;
    throw error;
  }
}

/**
 * What earlier attempts showed, as facts rules can weigh: a limit raise that did not stop OOM
 * kills is evidence for a leak.
 */
export function attemptFacts(attempts: Attempt[]): Evidence[] {
  return attempts
    .filter((a) => a.verdict !== undefined)
    .map((a) => {
      const service = typeof a.call.params["service"] === "string" ? a.call.params["service"] : "";
      return {
        id: `att-${a.number}`,
        key: "attempt.outcome",
        service,
        value: a.verdict ?? "",
        summary: `attempt ${a.number} ${a.call.tool} on ${service}: ${a.verdict ?? ""}`,
        attrs: { action_class: a.actionClass, tool: a.call.tool, strategy: a.strategy },
      };
    });
}

/**
 * The offline reasoner: runbook rules (data files) matched against perceive's evidence. A rule
 * yields a hypothesis when all `when` conditions hold and no `unless` condition does; `support`
 * conditions move its confidence.
 */
export class RunbookReasoner implements Reasoner {
  readonly name = "rules";

  constructor(private readonly rules: Rule[]) {
    // Rules built in code skip loadRules: the same fence holds for them.
    for (const rule of rules) {
      const untrusted = untrustedParamProblem(rule);
      if (untrusted !== undefined) throw new InvalidRulesError(untrusted);
    }
  }

  /** Builds a reasoner from the rules in a folder. */
  static async fromDirectory(dir: string = DEFAULT_RULES_DIR): Promise<RunbookReasoner> {
    return new RunbookReasoner(await loadRules(dir));
  }

  async diagnose(input: ReasonerInput): Promise<Hypothesis[]> {
    const facts = [...input.context.evidence, ...attemptFacts(input.attempts)];
    const alertService = input.alert.service;
    const hypotheses: Hypothesis[] = [];
    for (const rule of this.rules) {
      const hypothesis = this.evaluate(rule, facts, alertService);
      if (hypothesis !== undefined) hypotheses.push(hypothesis);
    }
    return hypotheses.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
  }

  private evaluate(rule: Rule, facts: Evidence[], alertService: string): Hypothesis | undefined {
    const match = matchAll(rule.when, facts, alertService);
    if (match === undefined) return undefined;
    for (const condition of rule.unless) {
      if (findFact(condition, facts, match.bindings, alertService) !== undefined) return undefined;
    }
    let confidence = rule.confidence;
    const evidenceIds = match.matched.map((f) => f.id);
    const reasons: string[] = [];
    for (const condition of rule.support) {
      const fact = findFact(condition, facts, match.bindings, alertService);
      if (fact === undefined) continue;
      confidence += condition.weight;
      if (!evidenceIds.includes(fact.id)) evidenceIds.push(fact.id);
      reasons.push(`${condition.weight >= 0 ? "+" : ""}${condition.weight.toFixed(2)} ${fact.summary}`);
    }
    const { candidates, notes } = renderCandidates(rule, match.bindings);
    const basis = match.matched.map((f) => f.summary).join("; ");
    return {
      id: `rules:${rule.id}`,
      faultClass: rule.fault_class,
      category: rule.category,
      title: renderTitle(rule.title, match.bindings),
      confidence: clamp(confidence),
      evidenceIds,
      reasoner: this.name,
      disposition: rule.disposition,
      candidates,
      explanation: [rule.explanation.trim(), `Evidence: ${basis}.`, ...reasons.map((r) => `Support ${r}.`), ...notes].filter((s) => s.length > 0).join(" "),
    };
  }
}
