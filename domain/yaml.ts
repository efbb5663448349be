import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { Composer, isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, Parser, type CST, type Document } from "yaml";
import type { z } from "zod";
import { formatZodPath } from "./problems.js";
import { InvalidInputError } from "./errors.js";

/** The kinds of file Suture reads; each has its own bounds and names itself in errors. */
export type FileKind = "policy" | "scenario" | "fleet" | "rules" | "runbook" | "runbook-actions" | "alert-targets" | "prometheus-signals";

/** Bounds on one input file, checked before any object is built from it. */
export interface FileLimits {
  /** Largest file accepted, in bytes (checked with fstat before reading, and while reading). */
  maxBytes: number;
  /** Deepest nesting of collections: a few thousand levels crash the YAML composer's recursion. */
  maxDepth: number;
  /** Most nodes all aliases together may add when expanded (a billion-laughs bomb adds 10⁹). */
  maxAliasNodes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

// The largest shipped file is ~10 KB. Parsing YAML costs ~1–3 µs per byte on one busy core and
// runs on the event loop, so a policy, which is re-read while serving, gets the tightest bound.
const COMMON = { maxDepth: 64, maxAliasNodes: 10_000 } as const;

/** The default bounds per kind of file; callers may override any of them. */
export const DEFAULT_FILE_LIMITS: Readonly<Record<FileKind, Readonly<FileLimits>>> = {
  policy: { maxBytes: 256 * KiB, ...COMMON },
  scenario: { maxBytes: 1 * MiB, ...COMMON },
  fleet: { maxBytes: 1 * MiB, ...COMMON },
  rules: { maxBytes: 1 * MiB, ...COMMON },
  runbook: { maxBytes: 1 * MiB, ...COMMON },
  "runbook-actions": { maxBytes: 256 * KiB, ...COMMON },
  "alert-targets": { maxBytes: 256 * KiB, ...COMMON },
  "prometheus-signals": { maxBytes: 256 * KiB, ...COMMON },
};

/** Problems listed per file before the rest are counted; a long list helps nobody and costs memory in logs. */
const MAX_PROBLEMS = 20;
/** Longest single problem line (zod echoes unknown keys, which may be long). */
const MAX_PROBLEM_CHARS = 400;

/** Thrown when an input file is unreadable, too large, not valid YAML or not valid for its kind. */
export class InvalidFileError extends InvalidInputError {
  constructor(
    message: string,
    /** What the file is for. */
    readonly kind: FileKind,
    /** The file as named in the message, when one was read. */
    readonly file?: string,
  ) {
    super(message);
    this.name = "InvalidFileError";
  }
}

/** A subclass of {@link InvalidFileError} for one kind of file (InvalidPolicyError, …). */
export type InvalidFileErrorClass = new (message: string, file?: string) => InvalidFileError;

/** How to read one kind of file. */
export interface FileSpec {
  kind: FileKind;
  /** The error class thrown (default {@link InvalidFileError}). */
  error?: InvalidFileErrorClass;
  /** How messages name the file (default: the path as given). */
  name?: string;
  /** Overrides of the kind's {@link DEFAULT_FILE_LIMITS}. */
  limits?: Partial<FileLimits>;
}

/** How to parse and validate one kind of YAML file. */
export interface YamlSpec<T> extends FileSpec {
  schema: z.ZodType<T>;
  /** The value an empty document stands for (e.g. `{}`: an empty policy is the defaults). */
  empty?: unknown;
  /** Lines before the YAML text in its file (front matter starts on line 2), so lines match the file. */
  lineOffset?: number;
}

/** A validated YAML file, with the means to point at any of its fields. */
export interface LoadedYaml<T> {
  data: T;
  /** The file's name as messages use it. */
  name: string;
  /** The line of the deepest node on `path` that exists (the field, or its parent). */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined;
  /** `name:line` for a field, or `name` when it has no line. */
  at(path: ReadonlyArray<PropertyKey>): string;
}

function limitsFor(spec: FileSpec): FileLimits {
  return { ...DEFAULT_FILE_LIMITS[spec.kind], ...spec.limits };
}

function fail(spec: FileSpec, name: string, message: string): InvalidFileError {
  const ErrorClass = spec.error;
  return ErrorClass !== undefined ? new ErrorClass(message, name) : new InvalidFileError(message, spec.kind, name);
}

function tooLarge(spec: FileSpec, name: string, bytes: string, max: number): InvalidFileError {
  return fail(spec, name, `${name}: is ${bytes} bytes, larger than the ${max}-byte limit for a ${spec.kind} file`);
}

/**
 * Reads a text file no larger than the kind's byte limit. The size is checked on the open file
 * before reading and the read stops one byte past the limit, so a file that grows in between (a
 * copy still in progress) is refused too and nothing larger than the limit is ever in memory.
 */
export async function readLimitedFile(file: string, spec: FileSpec): Promise<string> {
  const name = spec.name ?? file;
  const { maxBytes } = limitsFor(spec);
  let handle;
  try {
    // Non-blocking so that a FIFO put in the file's place cannot hang the open.
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fail(spec, name, `${name}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw fail(spec, name, `${name}: is not a regular file`);
    if (info.size > maxBytes) throw tooLarge(spec, name, String(info.size), maxBytes);
    // Room for one byte more than fstat saw: reading it means the file grew meanwhile.
    let buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw tooLarge(spec, name, `more than ${maxBytes}`, maxBytes);
        // Grown but within the limit so far: read on, up to one byte past the limit.
        const grown = Buffer.allocUnsafe(maxBytes + 1);
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.toString("utf8", 0, length);
  } catch (error) {
    if (error instanceof InvalidFileError) throw error;
    throw fail(spec, name, `${name}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  } finally {
    await handle.close();
  }
}

/** A problem at a character offset of the text, located when formatted. */
class Located extends Error {
  constructor(
    readonly offset: number | undefined,
    readonly problem: string,
  ) {
    super(problem);
  }
}

function offsetOf(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

/**
 * The deepest collection nesting of the CST, walked without recursion: the YAML composer
 * recurses per level, and a few thousand levels (a 20 KB file of `[`) exhaust the stack, which
 * V8 can turn into a fatal out-of-memory abort instead of an exception.
 */
function checkDepth(tokens: CST.Token[], maxDepth: number, kind: FileKind): void {
  const stack: Array<[CST.Token, number]> = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (token.type === "document") {
      if (token.value !== undefined) stack.push([token.value, depth]);
      continue;
    }
    if (token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection") continue;
    if (depth + 1 > maxDepth) throw new Located(token.offset, `nested more than ${maxDepth} levels deep (the limit for a ${kind} file)`);
    for (const item of token.items) {
      if (item.key !== undefined && item.key !== null) stack.push([item.key, depth + 1]);
      if (item.value !== undefined) stack.push([item.value, depth + 1]);
    }
  }
}

interface Expansion {
  kind: FileKind;
  maxAliasNodes: number;
  /** The latest node defining each anchor, in document order (what YAML resolves an alias to). */
  anchors: Map<string, unknown>;
  /** Expanded node counts of anchored nodes, once complete. */
  sizes: Map<unknown, number>;
  /** Anchored collections being walked: an alias to one of them is a cycle. */
  open: Set<unknown>;
  /** Nodes all aliases so far add. */
  added: number;
}

function anchorOf(node: unknown): string | undefined {
  return isScalar(node) || isMap(node) || isSeq(node) ? node.anchor : undefined;
}

/**
 * Walks the document in order, replacing every alias by a copy of its anchor's node while
 * counting the nodes that adds, and refuses duplicate keys. Copies instead of the YAML package's
 * own alias resolution because that resolution is quadratic (a 200 KB file with 30 nested anchors
 * and 100 aliases takes 30 s in `toJS`); the copies are bounded by `maxAliasNodes`. Returns the
 * node to put in the parent's place and its expanded size.
 */
function expand(node: unknown, path: PropertyKey[], x: Expansion, lineAt: (offset: number) => number): [unknown, number] {
  if (isAlias(node)) {
    const target = x.anchors.get(node.source);
    if (target === undefined) throw new Located(offsetOf(node), `alias *${node.source} has no anchor &${node.source} before it`);
    if (x.open.has(target)) throw new Located(offsetOf(node), `alias *${node.source} is inside the node it names (a cycle)`);
    const size = x.sizes.get(target) ?? 1;
    x.added += size;
    if (x.added > x.maxAliasNodes) {
      throw new Located(
        offsetOf(node),
        `too many aliases: expanding *${node.source} here makes the aliases add ${x.added} nodes, more than the ${x.maxAliasNodes} allowed in a ${x.kind} file (an alias bomb?)`,
      );
    }
    return [isNode(target) ? target.clone() : target, size];
  }
  const anchor = anchorOf(node);
  if (anchor !== undefined) {
    x.anchors.set(anchor, node);
    x.open.add(node);
  }
  let size = 1;
  if (isMap(node)) {
    const seen = new Map<string, number | undefined>();
    for (const pair of node.items) {
      const [key, keySize] = expand(pair.key, path, x, lineAt);
      pair.key = key;
      const name = isScalar(key) ? String(key.value) : undefined;
      if (name !== undefined) {
        const at = offsetOf(key);
        if (seen.has(name)) {
          const first = seen.get(name);
          throw new Located(at, `${formatZodPath([...path, name])}: defined twice in one mapping${first !== undefined ? ` (first on line ${lineAt(first)})` : ""}`);
        }
        seen.set(name, at);
      }
      const [value, valueSize] = expand(pair.value, name !== undefined ? [...path, name] : path, x, lineAt);
      pair.value = value;
      size += keySize + valueSize;
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const [value, valueSize] = expand(item, [...path, i], x, lineAt);
      node.items[i] = value;
      size += valueSize;
    });
  } else if (isPair(node) || (node !== null && node !== undefined && !isScalar(node))) {
    throw new Located(offsetOf(node), "unexpected YAML node");
  }
  if (anchor !== undefined) {
    x.open.delete(node);
    x.sizes.set(node, size);
  }
  return [node, size];
}

function clip(line: string): string {
  return line.length > MAX_PROBLEM_CHARS ? `${line.slice(0, MAX_PROBLEM_CHARS - 1)}…` : line;
}

/**
 * Formats zod issues as `name:line: path: expectation`, one per line, in file order; without a
 * locator (data that did not come from a file) as `name: path: expectation`. At most
 * {@link MAX_PROBLEMS} are listed, then how many more there are.
 */
export function describeIssues(name: string, issues: z.ZodError["issues"], lineOf?: (path: ReadonlyArray<PropertyKey>) => number | undefined): string {
  // Zod reports in traversal order, which is file order, so the first ones are the ones to show;
  // locating every one of 100,000 issues would cost a scan of its mapping each.
  const shown = issues
    .slice(0, MAX_PROBLEMS)
    .map((issue) => ({ issue, line: lineOf?.(issue.path) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    .map(({ issue, line }) => clip(`${name}${line !== undefined ? `:${line}` : ""}: ${issue.path.length > 0 ? formatZodPath(issue.path) : "(root)"}: ${issue.message}`));
  if (issues.length > MAX_PROBLEMS) shown.push(`${name}: … and ${issues.length - MAX_PROBLEMS} more problem${issues.length - MAX_PROBLEMS > 1 ? "s" : ""}`);
  return shown.join("\n");
}

/**
 * Parses and validates YAML text from a file named `name`: within the kind's size, depth and
 * alias limits, checked before any object is built; every problem as `name:line: path: problem`.
 */
export function parseYaml<T>(text: string, name: string, spec: YamlSpec<T>): LoadedYaml<T> {
  const limits = limitsFor(spec);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > limits.maxBytes) throw tooLarge(spec, name, String(bytes), limits.maxBytes);
  const format = name.endsWith(".json") ? "JSON" : "YAML";
  const lines = new LineCounter();
  const offset = spec.lineOffset ?? 0;
  const lineAt = (at: number): number => lines.linePos(at).line + offset;
  const located = (error: Located): InvalidFileError => fail(spec, name, clip(`${name}${error.offset !== undefined ? `:${lineAt(error.offset)}` : ""}: ${error.problem}`));

  let doc: Document.Parsed;
  try {
    const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
    checkDepth(tokens, limits.maxDepth, spec.kind);
    // uniqueKeys off: the package compares every key with every earlier one (a 300 KB mapping
    // takes 9 s); expand() finds duplicates with a Set instead.
    const docs = new Composer({ uniqueKeys: false }).compose(tokens, true, text.length);
    let first: Document.Parsed | undefined;
    for (const d of docs) {
      if (first !== undefined) {
        throw new Located(d.range[0], `not valid ${format}: more than one document (only one is read)`);
      }
      first = d;
    }
    doc = first!;
  } catch (error) {
    if (error instanceof Located) throw located(error);
    throw fail(spec, name, `${name}: not valid ${format}: ${(error as Error).message}`);
  }
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    const message = syntax.message.split("\n")[0] ?? "";
    throw fail(spec, name, clip(`${name}:${line + offset}:${col}: not valid ${format}: ${/call stack/i.test(message) ? "nested too deeply" : message}`));
  }

  let data: unknown;
  try {
    const x: Expansion = { kind: spec.kind, maxAliasNodes: limits.maxAliasNodes, anchors: new Map(), sizes: new Map(), open: new Set(), added: 0 };
    const [contents] = expand(doc.contents, [], x, lineAt);
    doc.contents = contents as typeof doc.contents;
    // No alias is left; the bound still stands in case a later version of the walk misses one.
    data = doc.toJS({ maxAliasCount: limits.maxAliasNodes });
  } catch (error) {
    if (error instanceof Located) throw located(error);
    throw fail(spec, name, `${name}: not valid ${format}: ${(error as Error).message}`);
  }
  if ((data === null || data === undefined) && spec.empty !== undefined) data = spec.empty;

  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const at = offsetOf(node);
      if (at !== undefined) return lineAt(at);
    }
    return undefined;
  };
  const parsed = spec.schema.safeParse(data);
  if (!parsed.success) throw fail(spec, name, describeIssues(name, parsed.error.issues, lineOf));
  return {
    data: parsed.data,
    name,
    lineOf,
    at: (path) => {
      const line = lineOf(path);
      return line !== undefined ? `${name}:${line}` : name;
    },
  };
}

/** Reads, parses and validates a YAML (or JSON) file within its kind's limits; see {@link parseYaml}. */
export async function loadYamlFile<T>(file: string, spec: YamlSpec<T>): Promise<LoadedYaml<T>> {
  const name = spec.name ?? file;
  return parseYaml(await readLimitedFile(file, { ...spec, name }), name, spec);
}
