import { z } from "zod";
import { InvalidInputError } from "../../domain/errors.js";
import { storableText } from "../../domain/input.js";
import { formatZodError, formatZodPath } from "../../domain/problems.js";

/** An incident id in a path: bounded and storable. */
export const IncidentParamsSchema = z.object({ id: storableText(200, "an incident id").min(1) });

/** A key JSON.parse keeps as an own property but that sets an object's prototype when copied or merged. */
const PROTOTYPE_KEY = "__proto__";

/** How deep a request body may nest: real alert bodies nest a handful of levels. */
const MAX_BODY_DEPTH = 64;

/** A node of a parsed JSON value while it is walked: its key, its parent (for the path) and its depth. */
interface Visit {
  value: unknown;
  depth: number;
  key?: string | number;
  parent?: Visit;
}

/** The path of a visited node, `set.__proto__`. */
function pathOf(visit: Visit): string {
  const keys: Array<string | number> = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
  return formatZodPath(keys);
}

/**
 * What is wrong with a parsed body's shape, if anything: nesting deeper than
 * {@link MAX_BODY_DEPTH}, or a `__proto__` key (schemas silently drop it, so accepting it would
 * accept something then ignored). Iterative, so no body can exhaust the stack here.
 */
function shapeProblem(root: unknown): string | undefined {
  const pending: Visit[] = [{ value: root, depth: 0 }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { value, depth } = visit;
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_BODY_DEPTH) return `${pathOf(visit) || "body"}: nested more than ${MAX_BODY_DEPTH} levels deep`;
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((child: unknown, i) => [i, child]) : Object.entries(value);
    for (const [key, child] of entries) {
      const node = { value: child, depth: depth + 1, key, parent: visit };
      if (key === PROTOTYPE_KEY) return `${pathOf(node)}: a key may not be named "${PROTOTYPE_KEY}"`;
      pending.push(node);
    }
  }
  return undefined;
}

/** Parses a raw JSON body; an empty body is `{}` when `emptyIsObject`. Refuses a body {@link shapeProblem} finds fault with. */
export function parseJson(raw: unknown, emptyIsObject: boolean): unknown {
  const text = typeof raw === "string" ? raw : "";
  if (emptyIsObject && text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`invalid JSON: ${(error as Error).message}`);
  }
  const problem = shapeProblem(value);
  if (problem !== undefined) throw new InvalidInputError(problem);
  return value;
}

/** Parses a value with a schema; a mismatch is a 400 naming every failing field under `where` (`query.`, `body.`, `path.`). */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidInputError(formatZodError(parsed.error, where));
  return parsed.data;
}
