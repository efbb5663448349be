import type { z } from "zod";

/** A zod issue path as operators write it: `alerts[0].labels.service`. */
export function formatZodPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/** At most this many problems are listed in one error line; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 10;

/**
 * Lists problems on one line, `a: x; b: y`, the first {@link MAX_LISTED_PROBLEMS} of them and a
 * count of the rest, so a client fixes every field at once rather than one per round trip.
 */
export function listProblems(problems: string[]): string {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).join("; ");
  const rest = problems.length - MAX_LISTED_PROBLEMS;
  return rest > 0 ? `${listed}; and ${rest} more problem${rest > 1 ? "s" : ""}` : listed;
}

/** Formats every zod issue as `path.to.field: expected …` (see {@link listProblems}), one line, for operators. */
export function formatZodError(error: z.ZodError, prefix = ""): string {
  if (error.issues.length === 0) return `${prefix}invalid input`;
  const problems = error.issues.map((issue) => {
    const path = formatZodPath(issue.path);
    return `${prefix}${path.length > 0 ? path : "(root)"}: ${issue.message}`;
  });
  return listProblems([...new Set(problems)]);
}
