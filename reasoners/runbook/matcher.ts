import type { Evidence } from "../../graphs/state.js";
import type { Condition, Predicate } from "./rule-schema.js";

/** Facts bound by name while matching a rule; `alert` is always bound to the alerting service. */
export type Bindings = Record<string, Evidence>;

type Scalar = string | number | boolean;

function testPredicate(value: Scalar | undefined, predicate: Predicate): boolean {
  if (value === undefined) return false;
  if (predicate.eq !== undefined && value !== predicate.eq) return false;
  if (predicate.ne !== undefined && value === predicate.ne) return false;
  if (predicate.in !== undefined && !predicate.in.includes(value)) return false;
  const numeric = typeof value === "number" ? value : undefined;
  if (predicate.gt !== undefined && !(numeric !== undefined && numeric > predicate.gt)) return false;
  if (predicate.gte !== undefined && !(numeric !== undefined && numeric >= predicate.gte)) return false;
  if (predicate.lt !== undefined && !(numeric !== undefined && numeric < predicate.lt)) return false;
  if (predicate.lte !== undefined && !(numeric !== undefined && numeric <= predicate.lte)) return false;
  if (predicate.matches !== undefined && !new RegExp(predicate.matches, "i").test(String(value))) return false;
  return true;
}

/** Resolves a `service:` selector to a service name (undefined = any service). */
function resolveService(selector: string | undefined, bindings: Bindings, alertService: string): string | undefined {
  if (selector === undefined) return undefined;
  if (selector === "$alert") return alertService;
  if (selector.startsWith("$")) {
    const bound = bindings[selector.slice(1)];
    if (bound === undefined) throw new Error(`service selector "${selector}" refers to a name not bound earlier`);
    return bound.service;
  }
  return selector;
}

/** Whether one fact satisfies a condition under the current bindings. */
export function factMatches(fact: Evidence, condition: Condition, bindings: Bindings, alertService: string): boolean {
  if (fact.key !== condition.fact) return false;
  const service = resolveService(condition.service, bindings, alertService);
  if (service !== undefined && fact.service !== service) return false;
  const excluded = resolveService(condition.not_service, bindings, alertService);
  if (excluded !== undefined && fact.service === excluded) return false;
  if (!testPredicate(fact.value, condition)) return false;
  for (const [attr, predicate] of Object.entries(condition.attrs ?? {})) {
    if (!testPredicate(fact.attrs[attr], predicate)) return false;
  }
  return true;
}

/**
 * Finds bindings under which every condition holds, trying facts in evidence order and
 * backtracking when a later condition fails. Returns the matched facts in condition order.
 */
export function matchAll(
  conditions: Condition[],
  facts: Evidence[],
  alertService: string,
  bindings: Bindings = {},
): { bindings: Bindings; matched: Evidence[] } | undefined {
  const [first, ...rest] = conditions;
  if (first === undefined) return { bindings, matched: [] };
  for (const fact of facts) {
    if (!factMatches(fact, first, bindings, alertService)) continue;
    const next = first.bind === undefined ? bindings : { ...bindings, [first.bind]: fact };
    const tail = matchAll(rest, facts, alertService, next);
    if (tail !== undefined) return { bindings: tail.bindings, matched: [fact, ...tail.matched] };
  }
  return undefined;
}

/** The first fact satisfying a single condition under given bindings. */
export function findFact(condition: Condition, facts: Evidence[], bindings: Bindings, alertService: string): Evidence | undefined {
  return facts.find((f) => factMatches(f, condition, bindings, alertService));
}

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\.(service|value|attrs\.[A-Za-z0-9_]+)\s*\}\}/g;

/** Thrown when a remediation template refers to something the match did not bind. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

function lookup(bindings: Bindings, name: string, field: string): Scalar {
  const fact = bindings[name];
  if (fact === undefined) throw new TemplateError(`placeholder {{${name}.${field}}} names an unbound fact`);
  if (field === "service") return fact.service;
  if (field === "value") return fact.value;
  const attr = fact.attrs[field.slice("attrs.".length)];
  if (attr === undefined) throw new TemplateError(`fact ${fact.key} on ${fact.service} has no attribute ${field}`);
  return attr;
}

/** Fills `{{binding.field}}` placeholders; a value that is one placeholder keeps its type. */
export function renderTemplate(value: Scalar, bindings: Bindings): Scalar {
  if (typeof value !== "string") return value;
  const whole = /^\{\{\s*([a-z][a-z0-9_]*)\.(service|value|attrs\.[A-Za-z0-9_]+)\s*\}\}$/.exec(value);
  if (whole !== null) return lookup(bindings, whole[1] ?? "", whole[2] ?? "");
  return value.replace(PLACEHOLDER, (_m, name: string, field: string) => String(lookup(bindings, name, field)));
}
