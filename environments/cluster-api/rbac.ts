import type { V1PolicyRule, V1RoleRef, RbacV1Subject } from "@kubernetes/client-node";
import type { KubeObject } from "./backend.js";
import { badRequest } from "./api-errors.js";
import { isRecord, parseManifest } from "./manifest.js";

/** A Kubernetes RBAC rule; `namespace` is set when a RoleBinding granted it (it applies only there). */
export interface PolicyRule extends V1PolicyRule {
  namespace?: string;
}

/** What one API request asks to do, in RBAC's terms. */
export interface RbacRequest {
  /** get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  /** API group; "" for core. */
  apiGroup: string;
  /** Plural resource, e.g. "deployments". */
  resource: string;
  /** e.g. "scale", "log", "status". */
  subresource?: string;
  /** The object's name, when the request names one. */
  name?: string;
  /** The request's namespace; undefined for cluster-scoped or all-namespace requests. */
  namespace?: string;
}

/** A ServiceAccount as a binding subject names it. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The user name Kubernetes gives a ServiceAccount: `system:serviceaccount:{namespace}:{name}`. */
export function serviceAccountUser(account: ServiceAccountRef): string {
  return `system:serviceaccount:${account.namespace}:${account.name}`;
}

/**
 * The RBAC verb of an HTTP request, as the API server maps it: GET one → get, GET a collection →
 * list (watch with `watch=true`), POST → create, PUT → update, PATCH → patch, DELETE one →
 * delete, DELETE a collection → deletecollection.
 */
export function requestVerb(method: string, options: { named: boolean; watch?: boolean }): string {
  switch (method.toUpperCase()) {
    case "GET":
    case "HEAD":
      if (options.watch === true) return "watch";
      return options.named ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return options.named ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

/** Whether one rule allows the request (apiGroups, resources incl. `resource/subresource`, resourceNames, verbs; `*` wildcards). */
export function ruleAllows(rule: PolicyRule, request: RbacRequest): boolean {
  if (rule.namespace !== undefined && rule.namespace !== request.namespace) return false;
  return verbMatches(rule, request.verb) && groupMatches(rule, request.apiGroup) && resourceMatches(rule, request) && nameMatches(rule, request.name);
}

/** Whether any rule allows the request (RBAC is a union of grants; nothing denies). */
export function rulesAllow(rules: readonly PolicyRule[], request: RbacRequest): boolean {
  return rules.some((rule) => ruleAllows(rule, request));
}

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes("*") || rule.verbs.includes(verb);
}

function groupMatches(rule: PolicyRule, group: string): boolean {
  const groups = rule.apiGroups ?? [];
  return groups.includes("*") || groups.includes(group);
}

function resourceMatches(rule: PolicyRule, request: RbacRequest): boolean {
  const wanted = request.subresource === undefined ? request.resource : `${request.resource}/${request.subresource}`;
  return (rule.resources ?? []).some((resource) => {
    if (resource === "*" || resource === wanted) return true;
    // "*/scale" grants the scale subresource of every resource.
    return request.subresource !== undefined && resource === `*/${request.subresource}`;
  });
}

function nameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (name !== undefined && names.includes(name));
}

/**
 * The rules a manifest grants a ServiceAccount: those of every Role and ClusterRole a RoleBinding
 * or ClusterRoleBinding in the manifest binds to it. Rules granted through a RoleBinding carry
 * its namespace. Without `subject`, the manifest's (first) ServiceAccount is meant.
 */
export function rulesFromManifest(yamlText: string, subject?: ServiceAccountRef): PolicyRule[] {
  const objects = parseManifest(yamlText).filter((o) => o.apiVersion === "v1" || o.apiVersion.startsWith("rbac.authorization.k8s.io/"));
  const account = subject ?? firstServiceAccount(objects);
  return objects.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding").flatMap((binding) => grantsOf(binding, objects, account));
}

/** The rules a manifest grants its (first) ServiceAccount, and the user name requests act as. */
export function rbacFromManifest(yamlText: string): { rules: PolicyRule[]; user: string } {
  const account = firstServiceAccount(parseManifest(yamlText));
  return { rules: rulesFromManifest(yamlText, account), user: serviceAccountUser(account) };
}

function firstServiceAccount(objects: readonly KubeObject[]): ServiceAccountRef {
  const account = objects.find((o) => o.kind === "ServiceAccount");
  if (account === undefined || account.metadata.name === undefined) throw badRequest("the manifest has no ServiceAccount; name the subject");
  return { namespace: account.metadata.namespace ?? "default", name: account.metadata.name };
}

function grantsOf(binding: KubeObject, objects: readonly KubeObject[], account: ServiceAccountRef): PolicyRule[] {
  const subjects = Array.isArray(binding["subjects"]) ? (binding["subjects"] as RbacV1Subject[]) : [];
  const bindingNamespace = binding.kind === "RoleBinding" ? (binding.metadata.namespace ?? "default") : undefined;
  const bound = subjects.some((s) => s.kind === "ServiceAccount" && s.name === account.name && (s.namespace ?? bindingNamespace) === account.namespace);
  if (!bound || !isRecord(binding["roleRef"])) return [];
  const roleRef = binding["roleRef"] as unknown as V1RoleRef;
  const role = objects.find((o) => o.kind === roleRef.kind && o.metadata.name === roleRef.name && (roleRef.kind === "ClusterRole" || o.metadata.namespace === bindingNamespace));
  const rules = role !== undefined && Array.isArray(role["rules"]) ? (role["rules"] as V1PolicyRule[]) : [];
  return rules.map((rule) => (bindingNamespace === undefined ? { ...rule } : { ...rule, namespace: bindingNamespace }));
}
