import { isDeepStrictEqual } from "node:util";
import { KubeApiError } from "./backend.js";
import { badRequest } from "./api-errors.js";
import { isRecord } from "./manifest.js";

/** The patch content types the API server accepts, as `Content-Type` names them. */
export const PATCH_CONTENT_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
} as const;

/** One of {@link PATCH_CONTENT_TYPES}. */
export type PatchContentType = (typeof PATCH_CONTENT_TYPES)[keyof typeof PATCH_CONTENT_TYPES];

/** Applies a patch of the given content type to a document and returns the patched copy. */
export function applyPatch(contentType: PatchContentType, document: unknown, patch: unknown): unknown {
  switch (contentType) {
    case PATCH_CONTENT_TYPES.json:
      return applyJsonPatch(document, patch);
    case PATCH_CONTENT_TYPES.merge:
      return applyMergePatch(document, patch);
    case PATCH_CONTENT_TYPES.strategic:
      return applyStrategicMergePatch(document, patch);
  }
}

/** RFC 7386 JSON merge patch: objects merge key by key, `null` deletes a key, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isRecord(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** One RFC 6902 operation. */
interface JsonPatchOperation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  from?: string;
  value?: unknown;
}

/**
 * RFC 6902 JSON patch, all operations including `test`. A malformed patch is a 400 BadRequest;
 * an operation that cannot apply (missing path, failed test) a 422 Invalid, as Kubernetes answers.
 */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest("json patch must be an array of operations");
  let result = structuredClone(document);
  for (const [index, operation] of patch.entries()) result = applyOperation(result, checkedOperation(operation, index));
  return result;
}

function checkedOperation(value: unknown, index: number): JsonPatchOperation {
  const ops = ["add", "remove", "replace", "move", "copy", "test"];
  if (!isRecord(value) || typeof value["op"] !== "string" || !ops.includes(value["op"]) || typeof value["path"] !== "string") {
    throw badRequest(`json patch operation ${index}: needs "op" (one of ${ops.join(", ")}) and a string "path"`);
  }
  const operation = value as unknown as JsonPatchOperation;
  if ((operation.op === "move" || operation.op === "copy") && typeof operation.from !== "string") throw badRequest(`json patch operation ${index}: "${operation.op}" needs "from"`);
  if ((operation.op === "add" || operation.op === "replace" || operation.op === "test") && !("value" in value)) throw badRequest(`json patch operation ${index}: "${operation.op}" needs "value"`);
  return operation;
}

function applyOperation(document: unknown, operation: JsonPatchOperation): unknown {
  switch (operation.op) {
    case "add":
      return addAt(document, pointer(operation.path), structuredClone(operation.value));
    case "remove":
      return removeAt(document, pointer(operation.path)).document;
    case "replace":
      return addAt(removeAt(document, pointer(operation.path)).document, pointer(operation.path), structuredClone(operation.value));
    case "move": {
      const removed = removeAt(document, pointer(operation.from ?? ""));
      return addAt(removed.document, pointer(operation.path), removed.value);
    }
    case "copy":
      return addAt(document, pointer(operation.path), structuredClone(valueAt(document, pointer(operation.from ?? ""))));
    case "test":
      if (!isDeepStrictEqual(valueAt(document, pointer(operation.path)), operation.value)) {
        throw unprocessable(`testing value ${operation.path} failed: the value differs from ${JSON.stringify(operation.value)}`);
      }
      return document;
  }
}

/** The reference tokens of a JSON pointer (`/a/b~1c` → ["a", "b/c"]). */
function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`json patch path "${path}" must start with "/"`);
  return path
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function valueAt(document: unknown, tokens: readonly string[]): unknown {
  let value = document;
  for (const token of tokens) {
    const next = childOf(value, token);
    if (next === undefined) throw unprocessable(`doc is missing path: "/${tokens.join("/")}"`);
    value = next;
  }
  return value;
}

function childOf(container: unknown, token: string): unknown {
  if (Array.isArray(container)) return /^\d+$/.test(token) ? (container as unknown[])[Number(token)] : undefined;
  return isRecord(container) && Object.hasOwn(container, token) ? container[token] : undefined;
}

function addAt(document: unknown, tokens: readonly string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = valueAt(document, tokens.slice(0, -1));
  const last = tokens.at(-1) ?? "";
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : /^\d+$/.test(last) ? Number(last) : -1;
    if (index < 0 || index > parent.length) throw unprocessable(`add operation index out of bounds: "/${tokens.join("/")}"`);
    parent.splice(index, 0, value);
  } else if (isRecord(parent)) parent[last] = value;
  else throw unprocessable(`doc is missing path: "/${tokens.join("/")}"`);
  return document;
}

function removeAt(document: unknown, tokens: readonly string[]): { document: unknown; value: unknown } {
  const value = valueAt(document, tokens);
  if (tokens.length === 0) return { document: undefined, value };
  const parent = valueAt(document, tokens.slice(0, -1));
  const last = tokens.at(-1) ?? "";
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isRecord(parent)) delete parent[last];
  return { document, value };
}

function unprocessable(message: string): KubeApiError {
  return new KubeApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${message}`);
}

/**
 * The patchMergeKey of list fields kubectl patches strategically, by field name (the upstream
 * schemas give the same field name the same key across the types Suture touches). Lists not here
 * (tolerations, args, …) are replaced whole, as their patchStrategy is "replace" or absent.
 */
const MERGE_KEYS: Readonly<Record<string, readonly string[]>> = {
  containers: ["name"],
  initContainers: ["name"],
  ephemeralContainers: ["name"],
  volumes: ["name"],
  volumeMounts: ["mountPath"],
  volumeDevices: ["devicePath"],
  env: ["name"],
  // Container ports merge on containerPort, Service ports on port.
  ports: ["containerPort", "port", "name"],
  imagePullSecrets: ["name"],
  ownerReferences: ["uid"],
  conditions: ["type"],
  hostAliases: ["ip"],
  topologySpreadConstraints: ["topologyKey"],
};

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const SET_ELEMENT_ORDER = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/";

/**
 * Strategic merge patch as kubectl sends it: maps merge and `null` deletes a key; lists with a
 * merge key (containers, volumes, env, ports, …) merge element by element; `$patch: replace|delete`
 * on a map or list element, `$retainKeys` and `$deleteFromPrimitiveList/…` are honoured;
 * `$setElementOrder/…` is accepted and ignored (order is kept as stored, new elements appended).
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) throw badRequest("strategic merge patch must be a JSON object");
  return mergeMap(isRecord(target) ? target : {}, patch) ?? {};
}

function mergeMap(original: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === "delete") return undefined;
  if (directive === "replace") return withoutDirectives(patch);
  if (directive !== undefined) throw badRequest(`unknown patch type: ${JSON.stringify(directive)}`);
  const result = structuredClone(original);
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(SET_ELEMENT_ORDER) || key === RETAIN_KEYS) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      deleteFromPrimitiveList(result, key.slice(DELETE_FROM_PRIMITIVE_LIST.length), value);
      continue;
    }
    const merged = mergeValue(key, result[key], value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return retainKeys(result, patch[RETAIN_KEYS]);
}

function mergeValue(key: string, original: unknown, patch: unknown): unknown {
  if (patch === null) return undefined;
  if (isRecord(patch)) return mergeMap(isRecord(original) ? original : {}, patch);
  if (Array.isArray(patch)) return mergeList(key, Array.isArray(original) ? original : [], patch);
  return patch;
}

function mergeList(key: string, original: readonly unknown[], patch: readonly unknown[]): unknown[] {
  const keys = MERGE_KEYS[key];
  if (patch.some((item) => isRecord(item) && item[DIRECTIVE] === "replace")) {
    return patch.filter((item) => !(isRecord(item) && item[DIRECTIVE] === "replace")).map((item) => (isRecord(item) ? withoutDirectives(item) : item));
  }
  if (keys === undefined || !patch.every(isRecord)) return patch.map((item) => structuredClone(item));
  const result: unknown[] = structuredClone([...original]);
  for (const item of patch as Record<string, unknown>[]) {
    const mergeKey = keys.find((k) => item[k] !== undefined);
    const index = mergeKey === undefined ? -1 : result.findIndex((existing) => isRecord(existing) && isDeepStrictEqual(existing[mergeKey], item[mergeKey]));
    if (item[DIRECTIVE] === "delete") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index < 0) {
      result.push(withoutDirectives(item));
      continue;
    }
    const existing = result[index];
    result[index] = mergeMap(isRecord(existing) ? existing : {}, item);
  }
  return result;
}

function deleteFromPrimitiveList(result: Record<string, unknown>, field: string, values: unknown): void {
  const list = result[field];
  if (!Array.isArray(list) || !Array.isArray(values)) return;
  result[field] = list.filter((item: unknown) => !values.some((value: unknown) => isDeepStrictEqual(value, item)));
}

/** Drops keys not listed in `$retainKeys` (when given), as the patch asks. */
function retainKeys(result: Record<string, unknown>, retain: unknown): Record<string, unknown> {
  if (!Array.isArray(retain)) return result;
  return Object.fromEntries(Object.entries(result).filter(([key]) => retain.includes(key)));
}

function withoutDirectives(patch: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || value === null) continue;
    kept[key] = isRecord(value) ? withoutDirectives(value) : value;
  }
  return kept;
}
