import { readFile } from "node:fs/promises";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { formatZodPath } from "../config/errors.js";
import { PolicySchema, type Policy } from "./schema.js";

/** Thrown when a policy file is unreadable or invalid; the message names line, field and expectation. */
export class InvalidPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPolicyError";
  }
}

/** The line of the deepest YAML node on `issuePath` that exists (the field, or its parent). */
function lineOf(doc: Document, lines: LineCounter, issuePath: ReadonlyArray<PropertyKey>): number | undefined {
  for (let n = issuePath.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(issuePath.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Formats every zod issue as `file:line: path: expectation`, one per line, in file order. */
function describeIssues(source: string, error: z.ZodError, doc: Document, lines: LineCounter): string {
  return error.issues
    .map((issue) => ({ issue, line: lineOf(doc, lines, issue.path) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    .map(({ issue, line }) => `${source}${line !== undefined ? `:${line}` : ""}: ${issue.path.length > 0 ? formatZodPath(issue.path) : "(root)"}: ${issue.message}`)
    .join("\n");
}

/** Parses and validates policy YAML; `source` names it in errors. */
export function parsePolicy(text: string, source: string): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const at = syntax.linePos?.[0];
    throw new InvalidPolicyError(`${source}${at !== undefined ? `:${at.line}:${at.col}` : ""}: not valid YAML: ${syntax.message.split("\n")[0] ?? ""}`);
  }
  const data: unknown = doc.toJS() ?? {};
  const parsed = PolicySchema.safeParse(data);
  if (!parsed.success) throw new InvalidPolicyError(describeIssues(source, parsed.error, doc, lines));
  return parsed.data;
}

/** Reads and validates a YAML policy file. */
export async function loadPolicy(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidPolicyError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parsePolicy(text, file);
}
