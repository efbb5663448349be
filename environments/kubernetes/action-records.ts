import type { V1ObjectMeta } from "@kubernetes/client-node";
import { z } from "zod";

/** The annotation that records, on the changed object itself, the last actions Suture applied to it. */
export const ACTIONS_ANNOTATION = "suture.dev/actions";

/** How many records the annotation keeps: enough for one incident's retries, small enough for any object. */
export const MAX_ACTION_RECORDS = 20;

/** One action applied to an object under an idempotency key; `at` is epoch ms. */
export interface ActionRecord {
  key: string;
  op: string;
  at: number;
}

const RecordsSchema = z.array(z.object({ key: z.string(), op: z.string(), at: z.number() }));

/** The records on an object; a missing or hand-edited (unreadable) annotation reads as none. */
export function readActionRecords(meta: V1ObjectMeta | undefined): ActionRecord[] {
  const text = meta?.annotations?.[ACTIONS_ANNOTATION];
  if (text === undefined) return [];
  try {
    const parsed = RecordsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** The record with this key on an object, if any. */
export function findActionRecord(meta: V1ObjectMeta | undefined, key: string): ActionRecord | undefined {
  return readActionRecords(meta).find((r) => r.key === key);
}

/** The annotation value after appending a record, keeping the last {@link MAX_ACTION_RECORDS}. */
export function appendActionRecord(meta: V1ObjectMeta | undefined, record: ActionRecord): string {
  return JSON.stringify([...readActionRecords(meta).filter((r) => r.key !== record.key), record].slice(-MAX_ACTION_RECORDS));
}

/** One RFC 6902 JSON Patch operation. */
export interface JsonPatchOp {
  op: "add" | "replace" | "remove" | "test";
  path: string;
  value?: unknown;
}

/** A JSON Pointer segment: `/` and `~` escaped (RFC 6901). */
export function pointerSegment(text: string): string {
  return text.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * The precondition every write carries: the patch applies only to the version Suture read, so a
 * concurrent change makes the API server answer 409 instead of overwriting it.
 */
export function resourceVersionTest(meta: V1ObjectMeta | undefined): JsonPatchOp[] {
  const resourceVersion = meta?.resourceVersion;
  return resourceVersion === undefined ? [] : [{ op: "test", path: "/metadata/resourceVersion", value: resourceVersion }];
}

/** Operations setting annotations on an object (under `prefix`, e.g. "/spec/template/metadata"), creating the map when absent. */
export function setAnnotationOps(meta: V1ObjectMeta | undefined, annotations: Record<string, string>, prefix = "/metadata"): JsonPatchOp[] {
  if (meta === undefined) return [{ op: "add", path: prefix, value: { annotations } }];
  if (meta.annotations === undefined) return [{ op: "add", path: `${prefix}/annotations`, value: annotations }];
  return Object.entries(annotations).map(([name, value]) => ({ op: "add" as const, path: `${prefix}/annotations/${pointerSegment(name)}`, value }));
}

/** Operations recording an action on the object they patch, in the same patch as the change. */
export function recordActionOps(meta: V1ObjectMeta | undefined, record: ActionRecord): JsonPatchOp[] {
  return setAnnotationOps(meta, { [ACTIONS_ANNOTATION]: appendActionRecord(meta, record) });
}
