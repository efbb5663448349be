import type { Scope } from "./schema.js";

/** What a scope is matched against: the incident's workload and environment. */
export interface ScopeSubject {
  service: string;
  namespace: string;
  /** The alert's `environment` (or `env`) label, when it has one. */
  environment?: string;
}

const compiled = new Map<string, RegExp>();

/** True when `value` matches a glob where `*` stands for any run of characters. */
export function globMatches(glob: string, value: string): boolean {
  let re = compiled.get(glob);
  if (re === undefined) {
    re = new RegExp(
      `^${glob
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    compiled.set(glob, re);
  }
  return re.test(value);
}

function listMatches(globs: string[] | undefined, value: string | undefined): boolean {
  if (globs === undefined) return true;
  return value !== undefined && globs.some((g) => globMatches(g, value));
}

/** True when every list the scope gives matches the subject; an empty scope matches everything. */
export function scopeMatches(scope: Scope, subject: ScopeSubject): boolean {
  return listMatches(scope.services, subject.service) && listMatches(scope.namespaces, subject.namespace) && listMatches(scope.environments, subject.environment);
}

/** A short description of a scope for reasons, e.g. `namespaces payments-*`. */
export function describeScope(scope: Scope): string {
  const parts = [
    scope.services ? `services ${scope.services.join(",")}` : "",
    scope.namespaces ? `namespaces ${scope.namespaces.join(",")}` : "",
    scope.environments ? `environments ${scope.environments.join(",")}` : "",
  ].filter((p) => p !== "");
  return parts.length > 0 ? parts.join(", ") : "everything";
}
