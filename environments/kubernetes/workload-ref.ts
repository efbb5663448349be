import { InvalidInputError } from "../../domain/errors.js";

/** The workload kinds Suture reads and acts on. */
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;

/** A workload kind from {@link WORKLOAD_KINDS}. */
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** One workload in a cluster: what the contract's `service` string names. */
export interface WorkloadRef {
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

/** Thrown when a `service` string is not `name`, `namespace/name` or `namespace/kind/name`. */
export class InvalidWorkloadRefError extends InvalidInputError {
  constructor(service: string, why: string) {
    super(`invalid workload "${service}": ${why}; expected "name", "namespace/name" or "namespace/kind/name" with kind one of ${WORKLOAD_KINDS.join(", ")}`);
    this.name = "InvalidWorkloadRefError";
  }
}

// RFC 1123 label (namespaces) and subdomain (object names), as the API server validates them.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The kind named in a ref, case-insensitively and by its plural or kubectl short name too. */
function parseKind(service: string, text: string): WorkloadKind {
  const lower = text.toLowerCase();
  const aliases: Record<string, WorkloadKind> = {
    deployment: "Deployment",
    deployments: "Deployment",
    deploy: "Deployment",
    statefulset: "StatefulSet",
    statefulsets: "StatefulSet",
    sts: "StatefulSet",
    daemonset: "DaemonSet",
    daemonsets: "DaemonSet",
    ds: "DaemonSet",
  };
  const kind = aliases[lower];
  if (kind === undefined) throw new InvalidWorkloadRefError(service, `unknown kind "${text}"`);
  return kind;
}

/** Parses `name` (default namespace, a Deployment), `namespace/name` or `namespace/kind/name`. */
export function parseWorkloadRef(service: string, defaultNamespace: string): WorkloadRef {
  const parts = service.split("/");
  let ref: WorkloadRef;
  if (parts.length === 1) ref = { namespace: defaultNamespace, kind: "Deployment", name: parts[0] ?? "" };
  else if (parts.length === 2) ref = { namespace: parts[0] ?? "", kind: "Deployment", name: parts[1] ?? "" };
  else if (parts.length === 3) ref = { namespace: parts[0] ?? "", kind: parseKind(service, parts[1] ?? ""), name: parts[2] ?? "" };
  else throw new InvalidWorkloadRefError(service, `${parts.length - 1} slashes`);
  if (!DNS_LABEL.test(ref.namespace) || ref.namespace.length > 63) throw new InvalidWorkloadRefError(service, `namespace "${ref.namespace}" is not a DNS label`);
  if (!DNS_SUBDOMAIN.test(ref.name) || ref.name.length > 253) throw new InvalidWorkloadRefError(service, `name "${ref.name}" is not a DNS subdomain`);
  return ref;
}

/**
 * The `service` string for a workload, as short as the default namespace allows: `name` for a
 * Deployment there, `namespace/name` for a Deployment elsewhere, `namespace/kind/name` otherwise.
 */
export function formatWorkloadRef(ref: WorkloadRef, defaultNamespace: string): string {
  if (ref.kind !== "Deployment") return `${ref.namespace}/${ref.kind.toLowerCase()}/${ref.name}`;
  return ref.namespace === defaultNamespace ? ref.name : `${ref.namespace}/${ref.name}`;
}

/** Parses `name` or `namespace/name` of a namespaced object (a ConfigMap, a NetworkPolicy). */
export function parseObjectName(text: string, what: string): { namespace?: string; name: string } {
  const parts = text.split("/");
  if (parts.length === 1 && DNS_SUBDOMAIN.test(text)) return { name: text };
  if (parts.length === 2 && DNS_LABEL.test(parts[0] ?? "") && DNS_SUBDOMAIN.test(parts[1] ?? "")) return { namespace: parts[0] ?? "", name: parts[1] ?? "" };
  throw new InvalidInputError(`invalid ${what} "${text}": expected "name" or "namespace/name" (DNS names)`);
}
