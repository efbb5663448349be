import type { V1LabelSelector } from "@kubernetes/client-node";
import type { KubeObject } from "./backend.js";
import { badRequest } from "./api-errors.js";
import { isRecord } from "./manifest.js";

/** One requirement of a label selector string (`app=web`, `tier in (a,b)`, `!canary`). */
export type LabelRequirement = { key: string; operator: "=" | "!="; value: string } | { key: string; operator: "in" | "notin"; values: string[] } | { key: string; operator: "exists" | "!exists" };

/** One requirement of a field selector string (`status.phase=Running`, `metadata.name!=x`). */
export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

/** Labels of an object (`metadata.labels`), possibly absent. */
export type Labels = Readonly<Record<string, string>> | undefined;

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/**
 * Parses a `labelSelector` query value. Comma means AND; a comma inside `in (…)` separates values.
 * Throws {@link KubeApiError} 400 BadRequest for a selector Kubernetes would not parse.
 */
export function parseLabelSelector(text: string): LabelRequirement[] {
  return splitTopLevel(text)
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map(parseLabelRequirement);
}

/** Whether labels satisfy every requirement (`!=` and `notin` hold for a missing key, as in Kubernetes). */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Labels): boolean {
  return requirements.every((requirement) => matchesLabelRequirement(requirement, labels ?? {}));
}

/**
 * Whether labels match a `V1LabelSelector` (matchLabels and matchExpressions In/NotIn/Exists/
 * DoesNotExist). As Kubernetes' LabelSelectorAsSelector: an absent selector selects nothing, an
 * empty one (`{}`) everything.
 */
export function matchesLabelSelector(selector: V1LabelSelector | null | undefined, labels: Labels): boolean {
  if (selector === null || selector === undefined) return false;
  return matchesLabels(requirementsOf(selector), labels);
}

/** A `V1LabelSelector` as a selector string (`app=web,tier in (a,b)`), as kubectl prints it; "<none>" when empty. */
export function formatLabelSelector(selector: V1LabelSelector | null | undefined): string {
  if (selector === null || selector === undefined) return "<none>";
  const text = requirementsOf(selector).map(formatRequirement).join(",");
  return text === "" ? "<none>" : text;
}

/** The fields a field selector may name for objects of `kind`: beyond metadata, what Kubernetes indexes per kind. */
export function supportedFields(kind: string): readonly string[] {
  const common = ["metadata.name", "metadata.namespace"];
  switch (kind) {
    case "Event":
      return [
        ...common,
        "involvedObject.kind",
        "involvedObject.name",
        "involvedObject.namespace",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.fieldPath",
        "involvedObject.resourceVersion",
        "type",
        "reason",
        "source",
      ];
    case "Pod":
      return [...common, "status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"];
    case "Secret":
      return [...common, "type"];
    case "Node":
      return [...common, "spec.unschedulable"];
    default:
      return common;
  }
}

/**
 * Parses a `fieldSelector` query value for objects of `kind`. Throws {@link KubeApiError} 400
 * "field label not supported: …" for a field Kubernetes does not index for that kind.
 */
export function parseFieldSelector(text: string, kind: string): FieldRequirement[] {
  const supported = supportedFields(kind);
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const match = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(part);
      if (match === null) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
      const [, field = "", operator = "=", value = ""] = match;
      if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
      return { field, operator: operator === "!=" ? "!=" : "=", value };
    });
}

/** Whether an object satisfies every field requirement (a missing field reads as ""). */
export function matchesFields(requirements: readonly FieldRequirement[], object: KubeObject): boolean {
  return requirements.every((requirement) => (fieldValue(object, requirement.field) === requirement.value) === (requirement.operator === "="));
}

/** A field's value as a field selector compares it: the string at its dotted path, "" when absent. */
function fieldValue(object: KubeObject, field: string): string {
  if (field === "source") return fieldValue(object, "source.component");
  let value: unknown = object;
  for (const step of field.split(".")) value = isRecord(value) ? value[step] : undefined;
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : "";
}

function requirementsOf(selector: V1LabelSelector): LabelRequirement[] {
  const fromLabels = Object.entries(selector.matchLabels ?? {}).map(([key, value]): LabelRequirement => ({ key, operator: "=", value }));
  const fromExpressions = (selector.matchExpressions ?? []).map((expression): LabelRequirement => {
    switch (expression.operator) {
      case "In":
        return { key: expression.key, operator: "in", values: expression.values ?? [] };
      case "NotIn":
        return { key: expression.key, operator: "notin", values: expression.values ?? [] };
      case "Exists":
        return { key: expression.key, operator: "exists" };
      case "DoesNotExist":
        return { key: expression.key, operator: "!exists" };
      default:
        throw badRequest(`"${expression.operator}" is not a valid label selector operator`);
    }
  });
  return [...fromLabels, ...fromExpressions];
}

function formatRequirement(requirement: LabelRequirement): string {
  switch (requirement.operator) {
    case "=":
    case "!=":
      return `${requirement.key}${requirement.operator}${requirement.value}`;
    case "in":
    case "notin":
      return `${requirement.key} ${requirement.operator} (${requirement.values.join(",")})`;
    case "exists":
      return requirement.key;
    case "!exists":
      return `!${requirement.key}`;
  }
}

function matchesLabelRequirement(requirement: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "=":
      return value === requirement.value;
    case "!=":
      return value !== requirement.value;
    case "in":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return value !== undefined;
    case "!exists":
      return value === undefined;
  }
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts;
}

function parseLabelRequirement(part: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set !== null) {
    const [, key = "", operator = "in", list = ""] = set;
    const values = list.split(",").map((v) => v.trim());
    return { key: checkedKey(key, part), operator: operator === "in" ? "in" : "notin", values: values.map((v) => checkedValue(v, part)) };
  }
  const equality = /^([^=!\s]+)\s*(==|!=|=)\s*(\S*)$/.exec(part);
  if (equality !== null) {
    const [, key = "", operator = "=", value = ""] = equality;
    return { key: checkedKey(key, part), operator: operator === "!=" ? "!=" : "=", value: checkedValue(value, part) };
  }
  if (part.startsWith("!")) return { key: checkedKey(part.slice(1).trim(), part), operator: "!exists" };
  return { key: checkedKey(part, part), operator: "exists" };
}

function checkedKey(key: string, part: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${part}"`);
  return key;
}

function checkedValue(value: string, part: string): string {
  if (value.length > 63 || !VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${part}"`);
  return value;
}
