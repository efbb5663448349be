import type { Evidence } from "../../domain/model.js";
import type { Condition, Predicate } from "./rule-schema.js";
import { InvalidInputError } from "../../domain/errors.js";

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

/**
 * Resolves a `service:` selector to a service name (undefined = any service): `$alert`, a
 * literal name, `$binding` (that fact's service), or `$binding.value` / `$binding.attrs.x`
 * (a service named by that fact, e.g. the dependency behind an open circuit breaker).
 */
function resolveService(selector: string | undefined, bindings: Bindings, alertService: string): string | undefined {
  if (selector === undefined) return undefined;
  if (selector === "$alert") return alertService;
  if (!selector.startsWith("$")) return selector;
  const [name = "", ...path] = selector.slice(1).split(".");
  const bound = bindings[name];
  if (bound === undefined) throw new Error(`service selector "${selector}" refers to a name not bound earlier`);
  if (path.length === 0) return bound.service;
  return String(lookup(bindings, name, path.join(".")));
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
export function matchAll(conditions: Condition[], facts: Evidence[], alertService: string, bindings: Bindings = {}): { bindings: Bindings; matched: Evidence[] } | undefined {
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

/** Thrown when a remediation template refers to something the match did not bind. */
export class TemplateError extends InvalidInputError {
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
  if (!field.startsWith("attrs.")) throw new TemplateError(`placeholder field "${field}" must be service, value or attrs.<name>`);
  const attr = fact.attrs[field.slice("attrs.".length)];
  if (attr === undefined) throw new TemplateError(`fact ${fact.key} on ${fact.service} has no attribute ${field}`);
  return attr;
}

/** Filters a placeholder may apply, e.g. `{{t.attrs.memory_limit_mib | mul:1.5 | ceil:64}}`. */
function applyFilter(value: Scalar, filter: string): Scalar {
  const [name = "", arg] = filter.split(":").map((x) => x.trim());
  const n = Number(value);
  const a = arg === undefined ? NaN : Number(arg);
  if (Number.isNaN(n)) throw new TemplateError(`filter ${name} needs a number, got "${String(value)}"`);
  switch (name) {
    case "mul":
      return n * a;
    case "add":
      return n + a;
    case "ceil":
      return Math.ceil(n / (Number.isNaN(a) ? 1 : a)) * (Number.isNaN(a) ? 1 : a);
    case "int":
      return Math.round(n);
    case "max":
      return Math.max(n, a);
    default:
      throw new TemplateError(`unknown template filter "${name}"; known: mul, add, ceil, int, max`);
  }
}

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\.([A-Za-z0-9_.]+)\s*((?:\|\s*[a-z]+(?::\s*-?[0-9.]+)?\s*)*)\}\}/g;

function evaluatePlaceholder(name: string, field: string, filters: string, bindings: Bindings): Scalar {
  let value = lookup(bindings, name, field);
  for (const f of filters
    .split("|")
    .map((x) => x.trim())
    .filter((x) => x.length > 0))
    value = applyFilter(value, f);
  return value;
}

/** Fills `{{binding.field | filter}}` placeholders; a value that is one placeholder keeps its type. */
export function renderTemplate(value: Scalar, bindings: Bindings): Scalar {
  if (typeof value !== "string") return value;
  const matches = [...value.matchAll(PLACEHOLDER)];
  const only = matches[0];
  if (matches.length === 1 && only !== undefined && only[0] === value.trim()) {
    return evaluatePlaceholder(only[1] ?? "", only[2] ?? "", only[3] ?? "", bindings);
  }
  return value.replace(PLACEHOLDER, (_m, name: string, field: string, filters: string) => String(evaluatePlaceholder(name, field, filters, bindings)));
}
