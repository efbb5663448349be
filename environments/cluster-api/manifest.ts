import { parseAllDocuments } from "yaml";
import { KubeApiError, type KubeObject } from "./backend.js";

/** Most alias expansions a manifest may cause (a billion-laughs document is refused). */
const MAX_ALIAS_COUNT = 1_000;

/**
 * The objects of a multi-document YAML manifest, in order. `kind: List` documents (what
 * `kubectl get -o yaml` prints) contribute their items; empty documents are skipped.
 * Throws {@link KubeApiError} 400 for invalid YAML or a document that is not an object.
 */
export function parseManifest(yamlText: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [index, document] of parseAllDocuments(yamlText).entries()) {
    const error = document.errors[0];
    if (error !== undefined) throw new KubeApiError(400, "BadRequest", `manifest document ${index + 1}: ${error.message.split("\n")[0] ?? ""}`);
    const value: unknown = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (value === null || value === undefined) continue;
    objects.push(...objectsOf(value, `manifest document ${index + 1}`));
  }
  return objects;
}

function objectsOf(value: unknown, where: string): KubeObject[] {
  const items = listItems(value);
  if (items !== undefined) return items.flatMap((item, i) => objectsOf(item, `${where} item ${i + 1}`));
  if (!isKubeObject(value)) throw new KubeApiError(400, "BadRequest", `${where}: not a Kubernetes object (apiVersion, kind and metadata are required)`);
  return [value];
}

/** The items of a `kind: List` (or `…List`) document, or undefined for any other value. */
function listItems(value: unknown): unknown[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const kind = record["kind"];
  const items = record["items"];
  return typeof kind === "string" && kind.endsWith("List") && Array.isArray(items) ? (items as unknown[]) : undefined;
}

/** Whether a value has the shape of a Kubernetes object: string apiVersion and kind, object metadata. */
export function isKubeObject(value: unknown): value is KubeObject {
  if (!isRecord(value)) return false;
  if (typeof value["apiVersion"] !== "string" || typeof value["kind"] !== "string") return false;
  return isRecord(value["metadata"]);
}

/** Whether a value is a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
