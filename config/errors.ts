import type { z } from "zod";

/** A zod issue path as operators write it: `alerts[0].labels.service`. */
export function formatZodPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

/** Formats the first zod issue as `path.to.field: expected …`, one line, for operators. */
export function formatZodError(error: z.ZodError, prefix = ""): string {
  const issue = error.issues[0];
  if (issue === undefined) return `${prefix}invalid input`;
  const path = formatZodPath(issue.path);
  const where = prefix + (path.length > 0 ? path : "(root)");
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more issue${error.issues.length > 2 ? "s" : ""})` : "";
  return `${where}: ${issue.message}${more}`;
}
