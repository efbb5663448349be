import { createHash } from "node:crypto";
import { parseAllDocuments } from "yaml";
import { canonicalJson } from "../../../domain/json.js";
import { CONTENT_HASH_ANNOTATION, KINDS, type Kind, type KindMap, type Secret } from "./objects.js";

/**
 * Kubernetes manifests a scenario loads into the cluster: YAML as `kubectl get -o yaml` prints
 * it, several documents or a `kind: List`. A Secret keeps its metadata and a sha256 of its data
 * (annotation `suture.dev/content-hash`); its values are never stored.
 */

/** Kinds `environment.manifests` may declare (Deployments and StatefulSets are the simulated workloads). */
export const MANIFEST_KINDS = ["Node", "ResourceQuota", "HorizontalPodAutoscaler", "Secret", "Service", "ConfigMap", "StatefulSet", "Deployment", "NetworkPolicy", "Ingress"] as const;

/** Kinds `environment.manifests` accepts and drops: the controllers create them from the workloads. */
export const IGNORED_MANIFEST_KINDS = ["ReplicaSet", "Pod", "ControllerRevision", "Endpoints", "EndpointSlice"] as const;

/** Kinds an `apply` step may write (everything the cluster stores that its controllers do not own). */
export const APPLY_KINDS = [...MANIFEST_KINDS, "Namespace"] as const;

/** One object of a manifest, its kind checked. */
export interface ManifestObject {
  kind: Kind;
  object: KindMap[Kind];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** sha256 of a Secret's data as canonical JSON (`stringData` counted as the base64 it becomes). */
export function secretContentHash(data: Record<string, unknown> | undefined, stringData: Record<string, unknown> | undefined): string {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) merged[k] = String(v);
  for (const [k, v] of Object.entries(stringData ?? {})) merged[k] = Buffer.from(String(v)).toString("base64");
  return `sha256:${createHash("sha256").update(canonicalJson(merged)).digest("hex")}`;
}

/** A Secret without its values: metadata plus the content hash annotation. */
export function redactSecret(raw: Record<string, unknown>): Secret {
  const data = isRecord(raw["data"]) ? raw["data"] : undefined;
  const stringData = isRecord(raw["stringData"]) ? raw["stringData"] : undefined;
  const kept = { ...raw };
  delete kept["data"];
  delete kept["stringData"];
  const secret = kept as unknown as Secret;
  const given = secret.metadata.annotations?.[CONTENT_HASH_ANNOTATION];
  secret.metadata.annotations = {
    ...(secret.metadata.annotations ?? {}),
    [CONTENT_HASH_ANNOTATION]: data === undefined && stringData === undefined && given !== undefined ? given : secretContentHash(data, stringData),
  };
  secret.type ??= "Opaque";
  return secret;
}

/**
 * Parses manifest text into objects of `allowed` kinds, in document order; namespaced objects
 * without a namespace get `defaultNamespace`; objects of `ignored` kinds are dropped. What the API
 * server sets (`uid`, `resourceVersion`, `managedFields`, `generation`) is cleared; the cluster sets
 * it again. Throws an Error naming the document and the supported kinds.
 */
export function parseManifests(
  text: string,
  allowed: readonly string[],
  defaultNamespace: string,
  clusterScoped: readonly string[] = ["Node", "Namespace"],
  ignored: readonly string[] = [],
): ManifestObject[] {
  const docs = parseAllDocuments(text);
  const out: ManifestObject[] = [];
  const items: unknown[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0) throw new Error(`manifest document ${i + 1}: ${doc.errors[0]?.message ?? "invalid YAML"}`);
    const value: unknown = doc.toJSON();
    if (value === null || value === undefined) continue;
    if (isRecord(value) && value["kind"] === "List") {
      if (!Array.isArray(value["items"])) throw new Error(`manifest document ${i + 1}: a List needs items`);
      items.push(...(value["items"] as unknown[]));
    } else {
      items.push(value);
    }
  }
  for (const [i, item] of items.entries()) {
    if (!isRecord(item)) throw new Error(`manifest object ${i + 1}: expected a Kubernetes object (a mapping with kind and metadata)`);
    const kind = item["kind"];
    if (typeof kind === "string" && ignored.includes(kind)) continue;
    if (typeof kind !== "string" || !allowed.includes(kind) || !KINDS.includes(kind as Kind)) {
      throw new Error(`manifest object ${i + 1}: kind ${JSON.stringify(kind)} is not supported; supported kinds: ${allowed.join(", ")}`);
    }
    const meta = item["metadata"];
    if (!isRecord(meta) || typeof meta["name"] !== "string" || meta["name"] === "") throw new Error(`manifest object ${i + 1} (${kind}): metadata.name is required`);
    const object = structuredClone(item) as Record<string, unknown> & { metadata: Record<string, unknown> };
    object.metadata = { ...meta, uid: "", resourceVersion: "", creationTimestamp: typeof meta["creationTimestamp"] === "string" ? meta["creationTimestamp"] : "" };
    delete object.metadata["managedFields"];
    delete object.metadata["generation"];
    if (clusterScoped.includes(kind)) delete object.metadata["namespace"];
    else if (typeof object.metadata["namespace"] !== "string" || object.metadata["namespace"] === "") object.metadata["namespace"] = defaultNamespace;
    const stored = kind === "Secret" ? redactSecret(object) : (object as unknown as KindMap[Kind]);
    out.push({ kind: kind as Kind, object: stored });
  }
  return out;
}
