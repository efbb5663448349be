import type { ChangedFile, Deploy } from "../domain/deploys.js";

/** What a changed file is, for triage: runtime code, migrations and contracts change what runs; the rest does not. */
export type FileKind = "runtime" | "migration" | "contract" | "test" | "docs" | "ci" | "tooling";

/** A changed file with its kind, whether only comments changed, and the functions its hunks touch. */
export interface ClassifiedFile {
  path: string;
  kind: FileKind;
  added: number;
  removed: number;
  /** True only when hunks were sent, they hold every changed line the counts announce, and each is blank or a comment. */
  commentsOnly: boolean;
  /** Functions, methods and classes the change touches: hunk-header context, definitions enclosing or on changed lines. */
  functions: string[];
}

/** An error signature the regression watch flagged; exemplars are raw log lines, untrusted, only ever matched against. */
export interface ErrorSignature {
  signature: string;
  exemplars: string[];
  seenBefore: boolean;
}

/** How sure triage is that the deploy caused the errors. */
export type LinkConfidence = "none" | "low" | "medium" | "high";

/** What triage concluded about a deploy and the errors that rose after it. */
export interface TriageVerdict {
  /** Whether what runs changed: runtime code (not comments only), a migration or a contract; true when no files were sent. */
  isRuntimeChange: boolean;
  /** Whether an error names the change (medium or high confidence). */
  causalLink: boolean;
  confidence: LinkConfidence;
  /** 0..1: high ≈ 0.9, medium ≈ 0.6, low ≈ 0.3, none ≈ 0.05; a new signature linked to a file adds 0.05. */
  score: number;
  /** Short sentences for the operator; quoted log text is at most 160 characters. */
  evidence: string[];
  migration: boolean;
  contractChange: boolean;
  /** Neither a migration nor a contract change: rolling back the code restores what ran before. */
  rollbackSafe: boolean;
  /** Files an error names, best first, with why and their hunks (as sent, at most 5). */
  suspects: Array<{ path: string; kind: FileKind; reasons: string[]; hunks: string[] }>;
  files: ClassifiedFile[];
}

/** Error text read per exemplar: a stack trace names its frames early, and longer text only slows matching. */
const MAX_EXEMPLAR_CHARS = 4000;
/** Log text quoted in evidence. */
const MAX_QUOTE_CHARS = 160;
/** Hunks returned per suspect. */
const MAX_SUSPECT_HUNKS = 5;
/** Reasons kept per suspect. */
const MAX_REASONS = 5;
/** Suspects spelled out in evidence; the rest are counted. */
const MAX_EVIDENCE_SUSPECTS = 5;
/** A diff line's characters read for definitions: a minified line holds no signature worth the regex time. */
const MAX_LINE_CHARS = 1000;
/** Differently placed paths kept per file name across the errors. */
const MAX_PATHS_PER_NAME = 64;
/** Dotted-name segments read (com.shop.payments.ChargeService.charge has 5). */
const MAX_DOTTED_SEGMENTS = 16;

const SCORE: Record<LinkConfidence, number> = { none: 0.05, low: 0.3, medium: 0.6, high: 0.9 };
const NEW_SIGNATURE_BONUS = 0.05;
const MAX_SCORE = 0.99;
const RANK: Record<LinkConfidence, number> = { none: 0, low: 1, medium: 2, high: 3 };

/** A word list written as one space-separated string. */
function words(list: string): string[] {
  return list.split(" ");
}

/** File stems too common to identify a file by name alone. */
const GENERIC_STEMS = new Set(
  words(
    "index main __main__ utils util helpers helper common types config app server handler handlers lib mod init __init__ base core models model api routes router errors error constants settings setup client service services schema default defaults logger middleware controller controllers",
  ),
);

/** Function names too common to tie an error to a change (they still appear in `functions`). */
const GENERIC_NAMES = new Set(
  words(
    "main init __init__ __call__ __str__ __repr__ constructor new run get set call apply execute exec process handle handler start stop setup teardown render update create delete remove index show list test tostring equals hashcode string error errors value values data result request response default module object then next send close open read write load save parse format wrapper callback invoke serve listen fetch post put patch log info warn debug config configure build make map filter reduce find from dispatch emit",
  ),
);

/** Language keywords a definition pattern may catch in a name's place. */
const KEYWORDS = new Set(
  words(
    "if else elif for foreach while switch case catch try finally return throw throws new delete typeof instanceof void function class def func fun async await yield with using lock fixed unsafe checked do in of let const var val import export from default static public private protected internal final abstract override synchronized super this self except lambda pass raise not and or is none null true false nil struct interface type enum impl trait module object end begin rescue ensure unless until then when match sizeof defer go select chan range package extends implements where assert print echo goto break continue",
  ),
);

/** Words that start a statement, not a definition, before a call: `return charge(x) {…`. */
const STATEMENT_STARTERS = new Set(["return", "throw", "new", "await", "yield", "else", "case", "echo", "print", "delete", "typeof", "go", "defer", "assert", "raise", "not"]);

/** Identifiers a migration or a contract shares with any error text: types and statement words. */
const SCHEMA_STOPWORDS = new Set(
  words(
    "string integer text boolean bool null varchar timestamp timestamps json jsonb number object undefined table column index references default true false alter create drop add not primary key unique foreign change def end class self migration schema bigint int float decimal date datetime time uuid message field option syntax package import repeated optional required service returns rpc type query mutation input enum version int32 int64 double bytes",
  ),
);

/** Extensions of the JavaScript family: a stack trace names the built `.js` of a `.ts` source. */
const JS_FAMILY = ["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"];

/** Extensions that make a token of error text a file name (with the changed files' own extensions). */
const FILE_EXTENSIONS = new Set([
  ...JS_FAMILY,
  ...words(
    "py pyi go java kt kts scala groovy rb rs php cs fs c h cc cpp cxx hpp hh m mm swift dart ex exs erl hrl clj cljs lua pl pm sh bash sql proto thrift avsc avdl graphql gql yaml yml json xml html htm vue svelte tf hcl jsp erb haml rake",
  ),
]);

/** Directories where a build or container puts the repository's tree: a path that differs from the repo path only there is the same file. */
const ROOT_DIRS = new Set(words("src source sources lib libs dist build out output app apps target bin srv opt usr home code workspace www public server root classes main var task local go"));

/** Directories of installed third-party code: a frame there is not the repository's file of the same name. */
const LIBRARY_DIRS = new Set(["node_modules", "site-packages", "dist-packages", "vendor", ".cargo", "gems", ".m2", ".gradle"]);

/** A path with forward slashes and no leading `./` or `/`. */
function normalizePath(path: string): string {
  return path.replace(/\\/g, "/").replace(/^(?:\.\/|\/)+/, "");
}

/** The extension after the last dot (lower case), "" for none or a dotfile. */
function extOf(base: string): string {
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/** A file name without its last extension. */
function stemOf(base: string): string {
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

const DOC_EXTENSIONS = new Set(["md", "markdown", "mdx", "rst", "adoc", "asciidoc", "txt", "png", "jpg", "jpeg", "gif", "svg", "webp"]);
/** `.txt` files that are build or runtime inputs, not prose. */
const NOT_DOCS_TXT = /^(?:requirements|constraints|cmakelists|robots)[\w.-]*\.txt$/;
const DOC_NAMES = /^(?:readme|changelog|changes|history|license|licence|copying|notice|authors|contributors|contributing|code_of_conduct|security)(?:$|[.\-_])/;

/** The kind of a file, from its path alone. */
function kindOfPath(path: string): FileKind {
  const normalized = normalizePath(path);
  const segments = normalized.toLowerCase().split("/").filter(Boolean);
  const base = segments.at(-1) ?? "";
  const originalBase = normalized.split("/").at(-1) ?? "";
  const dirs = segments.slice(0, -1);
  const inDir = (...names: string[]): boolean => dirs.some((d) => names.includes(d));
  const ext = extOf(base);

  // Most specific first; a doubtful path falls through to runtime, the conservative answer.
  if (
    inDir(".github", ".gitlab", ".circleci", ".ci", ".buildkite") ||
    /^(?:\.gitlab-ci\.yml|\.travis\.yml|\.drone\.yml|bitbucket-pipelines\.yml)$/.test(base) ||
    base.startsWith("jenkinsfile") ||
    /^azure-pipelines.*\.ya?ml$/.test(base)
  )
    return "ci";
  if (
    inDir(".vscode", ".idea", ".husky") ||
    /^(?:\.eslintrc|eslint\.config\.|\.prettierrc|prettier\.config\.|\.stylelintrc|\.markdownlint)/.test(base) ||
    [".prettierignore", ".eslintignore", ".editorconfig", ".gitignore", ".gitattributes", "codeowners"].includes(base)
  )
    return "tooling";
  if (
    inDir("test", "tests", "__tests__", "spec", "specs", "testdata", "fixtures", "__mocks__", "__snapshots__", "e2e") ||
    /\.(?:test|spec)\./.test(base) ||
    /(?:_test\.go|_test\.py|_spec\.rb)$/.test(base) ||
    /^test_.*\.py$/.test(base) ||
    base === "conftest.py" ||
    /(?:Tests?|Spec)\.(?:java|kt|kts|scala|groovy|cs)$/.test(originalBase)
  )
    return "test";
  if ((DOC_EXTENSIONS.has(ext) && !NOT_DOCS_TXT.test(base)) || (DOC_NAMES.test(base) && (ext === "" || DOC_EXTENSIONS.has(ext) || ext === "html"))) return "docs";
  const consecutive = (a: string, b: string): boolean => dirs.some((d, i) => d === a && dirs[i + 1] === b);
  if (
    inDir("migrations", "migration", "migrate") ||
    consecutive("alembic", "versions") ||
    segments.some((s) => s.includes("flyway") || s.includes("liquibase")) ||
    /^(?:[vu]\d+(?:[._]\d+)*|r)__.+\.sql$/.test(base) ||
    (ext === "sql" && inDir("schema", "schemas", "db", "database")) ||
    (inDir("db") && (base === "schema.rb" || base === "structure.sql" || inDir("changelog")))
  )
    return "migration";
  if (["proto", "thrift", "avsc", "avdl", "graphql", "graphqls", "gql", "wsdl"].includes(ext) || /^(?:openapi|swagger)[^/]*\.(?:ya?ml|json)$/.test(base)) return "contract";
  if (inDir("docs", "doc", "documentation")) return "docs";
  return "runtime";
}

/** Which comment syntaxes a file's language has. */
interface CommentStyle {
  slash: boolean;
  hash: boolean;
  dash: boolean;
  html: boolean;
  docstring: boolean;
}

const SLASH_EXT = new Set([...JS_FAMILY, ...words("java kt kts scala groovy go rs c h cc cpp cxx hpp hh cs fs swift m mm php dart proto thrift avdl css scss less json5 jsonc sol zig vue svelte")]);
const HASH_EXT = new Set(
  words("py pyi rb rake gemspec sh bash zsh fish yaml yml toml pl pm r ex exs tf hcl nix conf cfg ini ps1 coffee php graphql graphqls gql cmake properties env jl cr nim awk tcl mk avsc"),
);
const DASH_EXT = new Set(["sql", "lua", "hs", "elm", "ada", "psql"]);
const HTML_EXT = new Set(["html", "htm", "xml", "vue", "svelte", "md", "xsd", "xsl", "wsdl", "jsp", "erb"]);
const HASH_NAMES = new Set(["dockerfile", "makefile", "gemfile", "rakefile", "procfile", "vagrantfile", "brewfile", ".env", ".gitignore", ".dockerignore"]);

/** The comment syntaxes of a file, or undefined when its language is unknown (then no change counts as comments only). */
function commentStyleOf(base: string): CommentStyle | undefined {
  const lower = base.toLowerCase();
  const ext = extOf(lower);
  const style: CommentStyle = {
    slash: SLASH_EXT.has(ext),
    hash: HASH_EXT.has(ext) || HASH_NAMES.has(lower) || lower.startsWith("dockerfile"),
    dash: DASH_EXT.has(ext),
    html: HTML_EXT.has(ext),
    docstring: ext === "py" || ext === "pyi",
  };
  return style.slash || style.hash || style.dash || style.html ? style : undefined;
}

/** A block comment or docstring left open: its closing delimiter. */
type OpenBlock = "*/" | "-->" | '"""' | "'''" | null;

/** Hash lines that are code, not comments: C preprocessor, Rust attributes, a shebang, Ruby's magic comment. */
const HASH_CODE = /^#(?:!|\[|(?:include|define|if|ifdef|ifndef|else|elif|endif|pragma|undef|import|error|line|region|endregion)\b|\s*frozen_string_literal)/;
/** Slash comments that are directives: Go build constraints and go: pragmas, TypeScript triple-slash references. */
const SLASH_CODE = /^\/\/(?:go:|\s*\+build\b|\/\s*<reference\b)/;

/** Whether one trimmed line (outside any open block) is blank or a comment, and which block it leaves open. */
function commentLine(t: string, style: CommentStyle): { comment: boolean; opens: OpenBlock } {
  if (t === "") return { comment: true, opens: null };
  const closedBy = (open: string, close: "*/" | "-->"): { comment: boolean; opens: OpenBlock } => {
    const end = t.indexOf(close, open.length);
    return end < 0 ? { comment: true, opens: close } : { comment: t.slice(end + close.length).trim() === "", opens: null };
  };
  if (style.slash) {
    if (t.startsWith("//")) return { comment: !SLASH_CODE.test(t), opens: null };
    if (t.startsWith("/*")) return closedBy("/*", "*/");
    if (t === "*/" || t === "*" || t.startsWith("* ") || t.startsWith("**") || t.startsWith("*/")) return { comment: t.startsWith("*/") ? t.slice(2).trim() === "" : true, opens: null };
  }
  if (style.html && t.startsWith("<!--")) return closedBy("<!--", "-->");
  if (style.hash && t.startsWith("#")) return { comment: !HASH_CODE.test(t), opens: null };
  if (style.dash && t.startsWith("--")) return { comment: true, opens: null };
  if (style.docstring && (t.startsWith('"""') || t.startsWith("'''"))) {
    const delimiter = t.startsWith('"""') ? '"""' : "'''";
    const close = t.indexOf(delimiter, 3);
    return close < 0 ? { comment: true, opens: delimiter } : { comment: t.slice(close + 3).trim() === "", opens: null };
  }
  return { comment: false, opens: null };
}

/** The text after a hunk header's second `@@`: the enclosing definition git printed. */
function headerContext(header: string): string {
  const end = header.indexOf("@@", 2);
  return end < 0 ? "" : header.slice(end + 2).trim();
}

/** Definition forms across languages; group 1 is the name. */
const DEFINITIONS: readonly RegExp[] = [
  /\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)\s*[<(]/,
  /\b(?:class|interface|trait|struct|enum|object|module|record|protocol|union)\s+([A-Za-z_$][\w$]*)/,
  /\bdefp?\s+(?:self\.)?([A-Za-z_]\w*)/,
  /\bfunc\s+(?:\([^)]{0,200}\)\s*)?([A-Za-z_]\w*)/,
  /\bfn\s+([A-Za-z_]\w*)/,
  /\btype\s+([A-Za-z_]\w*)\s+(?:struct|interface)\b/,
  // const charge = async (order) => …, readonly charge = function …
  /^\s*(?:export\s+)?(?:(?:const|let|var|public|private|protected|static|readonly)\s+)*([A-Za-z_$][\w$]*)\s*(?::[^=]{0,200})?=\s*(?:async\s+)?(?:function\b|\([^)]{0,500}\)\s*(?::[^=]{0,200})?=>|[A-Za-z_$][\w$]*\s*=>)/,
  // public Receipt charge(Order o), private async charge(order), override fun … (modifiers say it is a definition)
  /^\s*(?:@[\w.]+(?:\([^)]{0,200}\))?\s+)*(?:(?:public|private|protected|internal|static|final|abstract|synchronized|override|virtual|async|native|open|suspend|sealed|extern|unsafe|default)\s+)+(?:[\w$<>[\],.?:*&]+\s+)*?([A-Za-z_$][\w$]*)\s*\(/,
];
/** Kotlin `fun`, possibly an extension (`fun Order.total(`): the name is the last dotted part. */
const KOTLIN_FUN = /\bfun\s+(?:<[^>]{0,200}>\s*)?([\w.]+)\s*\(/;
/** A C-like or method-shorthand definition `Type name(args) {`: tokens, then a name and a parenthesis. */
const C_LIKE = /^\s*(?:[\w$:<>,*&[\]]+\s+)*[*&]*(?:[A-Za-z_]\w*::)*~?([A-Za-z_$][\w$]*)\s*\(/;

/** Whether a name is worth listing: 3 characters or more and not a keyword. */
function keptName(name: string): boolean {
  return name.length >= 3 && !KEYWORDS.has(name.toLowerCase());
}

/** Names defined on a line; a header's context is trusted to be a definition, a diff line needs a `{` to be one in C-like form. */
function definitionsOn(line: string, header: boolean): string[] {
  const text = line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
  const names: string[] = [];
  for (const pattern of DEFINITIONS) {
    const m = pattern.exec(text);
    if (m?.[1] !== undefined) names.push(m[1]);
  }
  const fun = KOTLIN_FUN.exec(text)?.[1];
  if (fun !== undefined) names.push(fun.split(".").at(-1) ?? fun);
  const c = C_LIKE.exec(text);
  if (c?.[1] !== undefined) {
    const trimmed = text.trim();
    const first = /^[A-Za-z_$][\w$]*/.exec(trimmed)?.[0] ?? "";
    const rest = text.slice(c.index + c[0].length);
    // A call with a callback or an object literal ends in `{` too: `describe("x", () => {`, `fetch(url, {`.
    const definitionLike = !STATEMENT_STARTERS.has(first) && !rest.includes("=>") && !/\bfunction\b/.test(rest) && !trimmed.endsWith(";");
    const opensBody = trimmed.endsWith("{") && !/[(,[=:]\s*\{$/.test(trimmed);
    if (definitionLike && (header || opensBody)) names.push(c[1]);
  }
  return [...new Set(names)].filter(keptName);
}

/** What one hunk says: names it touches, its changed lines, and whether they are all comments. */
interface HunkReading {
  names: string[];
  plus: number;
  minus: number;
  commentsOnly: boolean;
  /** Identifiers on changed code lines (lower case), when asked for. */
  identifiers: string[];
}

/** Reads one unified-diff hunk (from its `@@` header; file headers before it are skipped). */
function readHunk(hunk: string, style: CommentStyle | undefined, wantIdentifiers: boolean): HunkReading {
  const lines = hunk.split("\n");
  const hasHeader = lines.some((l) => l.startsWith("@@"));
  let inBody = !hasHeader;
  let current: string[] = [];
  let open: OpenBlock = null;
  const names = new Set<string>();
  const identifiers = new Set<string>();
  let plus = 0;
  let minus = 0;
  let commentsOnly = style !== undefined;
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.startsWith("@@")) {
      inBody = true;
      current = definitionsOn(headerContext(line), true);
      open = null;
      continue;
    }
    // Inside a hunk `--- x` is a removed `-- x` line; only before the header is it a file header.
    if (!inBody || line.startsWith("\\")) continue;
    if (!hasHeader && /^(?:\+\+\+|---) (?:a\/|b\/|\/dev\/null)|^diff --git |^index [0-9a-f]/.test(line)) continue;
    const sign = line[0];
    const changed = sign === "+" || sign === "-";
    const content = changed || sign === " " ? line.slice(1) : line;
    const t = content.trim();
    let comment = false;
    if (style !== undefined) {
      if (open !== null) {
        const close = t.indexOf(open);
        comment = close < 0 || t.slice(close + open.length).trim() === "";
        if (close >= 0) open = null;
      } else {
        const read = commentLine(t, style);
        comment = read.comment;
        open = read.opens;
      }
    }
    if (changed) {
      if (sign === "+") plus += 1;
      else minus += 1;
      if (!comment) commentsOnly = false;
    }
    if (comment) continue;
    const defined = definitionsOn(content, false);
    if (changed) {
      for (const name of [...current, ...defined]) names.add(name);
      if (wantIdentifiers) for (const word of t.slice(0, MAX_LINE_CHARS).match(/[A-Za-z_]\w{2,63}/g) ?? []) identifiers.add(word.toLowerCase());
    }
    if (defined.length > 0) current = defined;
  }
  return { names: [...names], plus, minus, commentsOnly, identifiers: [...identifiers] };
}

/** A changed file read for triage: its classification plus what linking needs. */
interface AnalyzedFile {
  file: ChangedFile;
  classified: ClassifiedFile;
  /** Names each hunk touches, by hunk. */
  hunkNames: string[][];
  /** Identifiers on a migration's or contract's changed lines, lower case. */
  changedIdentifiers: Set<string>;
}

/** Classifies a file and reads its hunks. */
function analyze(file: ChangedFile): AnalyzedFile {
  const kind = kindOfPath(file.path);
  const base = normalizePath(file.path).split("/").at(-1) ?? "";
  const style = commentStyleOf(base);
  const wantIdentifiers = kind === "migration" || kind === "contract";
  const readings = (file.hunks ?? []).map((h) => readHunk(h, style, wantIdentifiers));
  const plus = readings.reduce((n, r) => n + r.plus, 0);
  const minus = readings.reduce((n, r) => n + r.minus, 0);
  // Hunks that show fewer changed lines than the counts announce were cut short: the rest may be code.
  const commentsOnly = readings.length > 0 && plus + minus > 0 && plus >= file.added && minus >= file.removed && readings.every((r) => r.commentsOnly);
  const functions = [...new Set(readings.flatMap((r) => r.names))];
  return {
    file,
    classified: { path: file.path, kind, added: file.added, removed: file.removed, commentsOnly, functions },
    hunkNames: readings.map((r) => r.names),
    changedIdentifiers: new Set(readings.flatMap((r) => r.identifiers).filter((w) => !SCHEMA_STOPWORDS.has(w))),
  };
}

/** Classifies a changed file (runtime, migration, contract, test, docs, ci or tooling), tells a comments-only change and lists the functions it touches. */
export function classifyChangedFile(file: ChangedFile): ClassifiedFile {
  return analyze(file).classified;
}

/** One exemplar as read: capped raw text for quoting, and whose signature it is. */
interface Exemplar {
  text: string;
  seenBefore: boolean;
}

/** Where a key occurs: an exemplar and a character offset in it. */
interface Hit {
  ex: number;
  at: number;
}

/** A key's first occurrence, and its first in a new signature (which links more strongly). */
interface Hits {
  first: Hit;
  firstNew?: Hit;
}

/** A file path in error text, split into segments. */
interface PathHit extends Hit {
  segments: string[];
  library: boolean;
}

/** The errors indexed once, so each changed file is a few lookups whatever the number of exemplars. */
interface ErrorIndex {
  exemplars: Exemplar[];
  /** File paths in the text, by their last segment. */
  paths: Map<string, PathHit[]>;
  /** Identifiers outside file paths. */
  words: Map<string, Hits>;
  /** Every run of ≥ 2 segments of a dotted name (`com.shop.payments`, `payments.ChargeService`). */
  dotted: Map<string, Hits>;
  /** Quoted identifiers (`column "currency"`), lower case. */
  quoted: Map<string, Hits>;
}

/** Records a hit, keeping the first and the first of a new signature. */
function addHit(map: Map<string, Hits>, key: string, hit: Hit, isNew: boolean): void {
  const hits = map.get(key);
  if (hits === undefined) map.set(key, isNew ? { first: hit, firstNew: hit } : { first: hit });
  else if (isNew && hits.firstNew === undefined) hits.firstNew = hit;
}

/** Drops trailing characters of a set (a loop: `/[.-]+$/` is quadratic on a long run of them). */
function trimTrailing(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text.charAt(end - 1))) end -= 1;
  return text.slice(0, end);
}

/** Cuts text to a length without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

/** Indexes the exemplars of every signature (the signature itself stands in when it has none). */
function indexErrors(errors: readonly ErrorSignature[], extraExtensions: ReadonlySet<string>): ErrorIndex {
  const index: ErrorIndex = { exemplars: [], paths: new Map(), words: new Map(), dotted: new Map(), quoted: new Map() };
  const seenPaths = new Set<string>();
  for (const error of errors) {
    const texts = error.exemplars.length > 0 ? error.exemplars : [error.signature];
    const isNew = !error.seenBefore;
    for (const raw of texts) {
      const ex = index.exemplars.length;
      const text = cut(raw, MAX_EXEMPLAR_CHARS);
      index.exemplars.push({ text, seenBefore: error.seenBefore });
      // Same length as text, so offsets found here quote the original (Windows paths keep their backslashes there).
      const normalized = text.replace(/\\/g, "/");
      const masks: Array<[number, number]> = [];
      for (const m of normalized.matchAll(/[\w.\-/@+$~:]+/g)) {
        const segments = m[0]
          .replace(/^[A-Za-z][\w+.-]*:\/\//, "")
          .split("/")
          .filter((s) => s !== "" && s !== ".");
        const last = trimTrailing((segments.at(-1) ?? "").replace(/:.*$/, ""), ".-");
        const ext = extOf(last);
        if (ext === "" || !(FILE_EXTENSIONS.has(ext) || extraExtensions.has(ext))) continue;
        segments[segments.length - 1] = last;
        masks.push([m.index, m.index + m[0].length]);
        const joined = `${segments.join("/")}\u0000${isNew ? 1 : 0}`;
        if (seenPaths.has(joined)) continue;
        seenPaths.add(joined);
        const list = index.paths.get(last) ?? [];
        if (list.length >= MAX_PATHS_PER_NAME) continue;
        list.push({ ex, at: m.index, segments, library: segments.some((s) => LIBRARY_DIRS.has(s.toLowerCase()) || /@v\d/.test(s)) });
        index.paths.set(last, list);
      }
      // Words inside a file path only count as that path: `/app/billing/charge.ts` does not mention payments/charge.ts.
      let masked = "";
      let from = 0;
      for (const [start, end] of masks) {
        masked += normalized.slice(from, start) + " ".repeat(end - start);
        from = end;
      }
      masked += normalized.slice(from);
      for (const m of masked.matchAll(/[A-Za-z_$][\w$]*(?:-[A-Za-z0-9_$]+)*/g)) {
        addHit(index.words, m[0], { ex, at: m.index }, isNew);
        if (m[0].includes("-")) {
          let offset = m.index;
          for (const part of m[0].split("-")) {
            addHit(index.words, part, { ex, at: offset }, isNew);
            offset += part.length + 1;
          }
        }
      }
      // `*`, not `+`: a long word without a dot then matches at once instead of backtracking over every split.
      for (const m of masked.matchAll(/[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/g)) {
        if (!m[0].includes(".")) continue;
        const parts = m[0].split(".").slice(0, MAX_DOTTED_SEGMENTS);
        for (let i = 0; i < parts.length; i += 1) for (let j = i + 2; j <= parts.length; j += 1) addHit(index.dotted, parts.slice(i, j).join("."), { ex, at: m.index }, isNew);
      }
      for (const m of normalized.matchAll(/["'`]([A-Za-z_][\w.]{2,63})["'`]/g)) {
        const name = (m[1] ?? "").toLowerCase();
        addHit(index.quoted, name, { ex, at: m.index }, isNew);
        for (const part of name.split(".")) if (part.length >= 3) addHit(index.quoted, part, { ex, at: m.index }, isNew);
      }
    }
  }
  return index;
}

/** One way an error names a changed file. */
interface Link {
  level: "high" | "medium";
  hit: Hit;
  isNew: boolean;
  /** What the error does to the file, after the quote: `names changed file src/x.ts`. */
  says: string;
  /** The touched function the error names, for a function link. */
  name?: string;
}

/** The best hit of a key: one in a new signature when there is one. */
function bestOf(hits: Hits, index: ErrorIndex): { hit: Hit; isNew: boolean } {
  const hit = hits.firstNew ?? hits.first;
  return { hit, isNew: index.exemplars[hit.ex]?.seenBefore === false };
}

/** Whether a generic or very short file name is all a path match has. */
function genericStem(stem: string): boolean {
  return stem.length < 3 || GENERIC_STEMS.has(stem.toLowerCase());
}

/** The Java/Kotlin package of a source path: directories after the source root (`…/java/`, `…/kotlin/`, or `src/`). */
function packageOf(segments: readonly string[]): string[] {
  const dirs = segments.slice(0, -1);
  const root = Math.max(...["java", "kotlin", "scala", "groovy"].map((r) => dirs.lastIndexOf(r)));
  if (root >= 0) return dirs.slice(root + 1);
  const src = dirs.indexOf("src");
  return src >= 0 ? dirs.slice(src + 1) : dirs;
}

/** Every way the indexed errors name one changed runtime, migration or contract file. */
function linksOf(a: AnalyzedFile, index: ErrorIndex): Link[] {
  const links: Link[] = [];
  const path = a.file.path;
  const segments = normalizePath(path).split("/").filter(Boolean);
  const base = segments.at(-1) ?? "";
  const ext = extOf(base);
  const stem = stemOf(base);
  const inLibrary = segments.some((s) => LIBRARY_DIRS.has(s.toLowerCase()));

  // The path, in any prefix: a container's /app/, a bundler's webpack:///, a build's dist/ with .js for .ts.
  const names = JS_FAMILY.includes(ext) ? JS_FAMILY.map((e) => `${stem}.${e}`) : [base];
  for (const name of names) {
    for (const p of index.paths.get(name) ?? []) {
      if (p.library && !inLibrary) continue;
      let k = 1;
      while (k < segments.length && k < p.segments.length && segments[segments.length - 1 - k] === p.segments[p.segments.length - 1 - k]) k += 1;
      const ours = (segments[segments.length - 1 - k] ?? "").toLowerCase();
      const theirs = (p.segments[p.segments.length - 1 - k] ?? "").toLowerCase();
      const samePlace = k === segments.length || k === p.segments.length || (ROOT_DIRS.has(ours) && ROOT_DIRS.has(theirs));
      if (k >= 2 || (samePlace && !genericStem(stem))) {
        links.push({ level: "high", hit: p, isNew: index.exemplars[p.ex]?.seenBefore === false, says: `names changed file ${path}${name === base ? "" : ` (as ${name})`}` });
      }
    }
  }

  if (["java", "kt", "kts", "scala", "groovy"].includes(ext)) {
    const pkg = packageOf(segments);
    if (pkg.length >= 2) {
      const fqn = index.dotted.get([...pkg, stem].join("."));
      if (fqn !== undefined) links.push({ level: "high", ...bestOf(fqn, index), says: `names class ${[...pkg, stem].join(".")} of changed file ${path}` });
      const inPackage = index.dotted.get(pkg.join("."));
      if (inPackage !== undefined) links.push({ level: "medium", ...bestOf(inPackage, index), says: `names package ${pkg.join(".")} of changed file ${path}` });
    }
  }

  const named = new Set<string>();
  for (const fn of a.classified.functions) {
    if (GENERIC_NAMES.has(fn.toLowerCase())) continue;
    const hits = index.words.get(fn);
    if (hits === undefined) continue;
    named.add(fn);
    links.push({ level: "medium", ...bestOf(hits, index), says: `names ${fn}, which the change to ${path} touches`, name: fn });
  }

  if (stem.length >= 5 && !genericStem(stem) && !named.has(stem)) {
    const hits = stem.includes(".") ? index.dotted.get(stem) : index.words.get(stem);
    if (hits !== undefined) links.push({ level: "medium", ...bestOf(hits, index), says: `mentions "${stem}", the name of changed file ${path}` });
  }

  if (a.classified.kind === "migration" || a.classified.kind === "contract") {
    for (const id of [...a.changedIdentifiers].sort()) {
      const hits = index.quoted.get(id);
      if (hits !== undefined) links.push({ level: "medium", ...bestOf(hits, index), says: `quotes "${id}", which ${a.classified.kind} ${path} changes` });
    }
  }

  // Strongest first, then a new signature, then the order the errors came in.
  links.sort((x, y) => RANK[y.level] - RANK[x.level] || Number(y.isNew) - Number(x.isNew) || x.hit.ex - y.hit.ex || x.hit.at - y.hit.at);
  const seen = new Set<string>();
  return links.filter((l) => {
    if (seen.has(l.says)) return false;
    seen.add(l.says);
    return true;
  });
}

/** Log text around an offset, on one line, at most 160 characters (with … where cut). */
function quote(text: string, at: number): string {
  let start = 0;
  let end = text.length;
  if (text.length > MAX_QUOTE_CHARS) {
    start = Math.min(Math.max(0, at - 60), text.length - MAX_QUOTE_CHARS);
    end = start + MAX_QUOTE_CHARS;
    if (/[\uDC00-\uDFFF]/.test(text.charAt(start))) start += 1;
    if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  }
  // Control characters and line breaks of untrusted text must not reach an operator's terminal or chat as such.
  const body = text
    .slice(start, end)
    .replace(/[\s\p{Cc}\u2028\u2029]+/gu, " ")
    .trim();
  return `${start > 0 ? "…" : ""}${body}${end < text.length ? "…" : ""}`;
}

/** `+12 −3`. */
function lineCounts(f: { added: number; removed: number }): string {
  return `+${f.added} −${f.removed}`;
}

/** A list of paths, the first few spelled out. */
function someOf(paths: readonly string[], max = 3): string {
  const shown = paths.slice(0, max).join(", ");
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown;
}

const KIND_ORDER: readonly FileKind[] = ["runtime", "migration", "contract", "test", "docs", "ci", "tooling"];

/** `3 files changed: 2 docs, 1 ci; no runtime code`. */
function summaryOf(files: readonly ClassifiedFile[], isRuntimeChange: boolean): string {
  const parts = KIND_ORDER.flatMap((kind) => {
    const ofKind = files.filter((f) => f.kind === kind);
    if (ofKind.length === 0) return [];
    const comments = kind === "runtime" ? ofKind.filter((f) => f.commentsOnly).length : 0;
    const note = comments === 0 ? "" : comments === ofKind.length ? " (comments only)" : ` (${comments} comments only)`;
    return [`${ofKind.length} ${kind}${note}`];
  });
  return `${files.length} file${files.length === 1 ? "" : "s"} changed: ${parts.join(", ")}${isRuntimeChange ? "" : "; no runtime code"}`;
}

/** Whether a classified file changes what runs. */
function changesWhatRuns(f: ClassifiedFile): boolean {
  return (f.kind === "runtime" && !f.commentsOnly) || f.kind === "migration" || f.kind === "contract";
}

/**
 * Triages a deploy's changed files against the error signatures that rose after it: whether what
 * runs changed, whether an error names a changed file or a function the change touches (high: the
 * file's path in a stack frame; medium: a touched function, a distinctive file name or its package;
 * low: timing alone; none: nothing that runs changed), and whether rollback is safe (no migration,
 * no contract change). Pure and deterministic; error text is only matched against.
 */
export function triageDeploy(deploy: Pick<Deploy, "changedFiles" | "migration">, errors: readonly ErrorSignature[]): TriageVerdict {
  const analyzed = deploy.changedFiles.map(analyze);
  const files = analyzed.map((a) => a.classified);
  const evidence: string[] = [];
  const migrationFiles = files.filter((f) => f.kind === "migration").map((f) => f.path);
  const contractFiles = files.filter((f) => f.kind === "contract").map((f) => f.path);
  const migration = deploy.migration === true || migrationFiles.length > 0;
  const contractChange = contractFiles.length > 0;

  let isRuntimeChange: boolean;
  let confidence: LinkConfidence;
  let score: number;
  const suspects: TriageVerdict["suspects"] = [];
  if (files.length === 0) {
    // A marker seen on the cluster: the running code changed, which files is unknown.
    isRuntimeChange = true;
    confidence = "low";
    score = SCORE.low;
    evidence.push("no changed files were sent, so nothing links the errors to the change: the running code changed, the link is timing alone");
  } else {
    const running = analyzed.filter((a) => changesWhatRuns(a.classified));
    isRuntimeChange = running.length > 0;
    evidence.push(summaryOf(files, isRuntimeChange));
    const index = indexErrors(errors, new Set(files.map((f) => extOf(normalizePath(f.path).split("/").at(-1) ?? "")).filter((e) => e !== "")));
    const linked = running
      .map((a) => ({ a, links: linksOf(a, index) }))
      .filter((l) => l.links.length > 0)
      .map(({ a, links }) => {
        const best = links[0] as Link;
        const fileScore = Math.min(MAX_SCORE, SCORE[best.level] + (best.isNew ? NEW_SIGNATURE_BONUS : 0));
        const signatures = new Set(links.map((l) => l.hit.ex)).size;
        return { a, links, best, fileScore, signatures };
      })
      .sort((x, y) => y.fileScore - x.fileScore || y.signatures - x.signatures || (x.a.file.path < y.a.file.path ? -1 : x.a.file.path > y.a.file.path ? 1 : 0));
    const sentence = (l: Link): string => {
      const ex = index.exemplars[l.hit.ex];
      return `${ex?.seenBefore === false ? "new " : ""}error "${quote(ex?.text ?? "", l.hit.at)}" ${l.says}`;
    };
    for (const { a, links } of linked) {
      const mentioned = new Set(links.flatMap((l) => (l.name === undefined ? [] : [l.name])));
      // Hunks touching a named function first: they are what the operator reads.
      const hunks = (a.file.hunks ?? []).map((h, i) => ({ h, hot: (a.hunkNames[i] ?? []).some((n) => mentioned.has(n)) })).sort((x, y) => Number(y.hot) - Number(x.hot));
      suspects.push({ path: a.file.path, kind: a.classified.kind, reasons: links.slice(0, MAX_REASONS).map(sentence), hunks: hunks.slice(0, MAX_SUSPECT_HUNKS).map((x) => x.h) });
    }
    const top = linked[0];
    if (top !== undefined) {
      confidence = top.best.level;
      score = top.fileScore;
      for (const l of linked.slice(0, MAX_EVIDENCE_SUSPECTS)) evidence.push(`${sentence(l.best)} (${lineCounts(l.a.file)})`);
      if (linked.length > MAX_EVIDENCE_SUSPECTS)
        evidence.push(`${linked.length - MAX_EVIDENCE_SUSPECTS} more changed files are named by errors: ${someOf(linked.slice(MAX_EVIDENCE_SUSPECTS).map((l) => l.a.file.path))}`);
    } else if (isRuntimeChange) {
      confidence = "low";
      score = SCORE.low;
      const what = someOf(running.map((a) => a.file.path));
      evidence.push(
        index.exemplars.length === 0
          ? `${what} changed but no error signatures were given to link: the link is timing alone`
          : `${what} changed but no error names a changed file or a function the change touches: the link is timing alone`,
      );
    } else {
      confidence = "none";
      score = SCORE.none;
      evidence.push("no runtime code, migration or contract changed: the errors are not linked to this change");
    }
  }

  if (deploy.migration === true) evidence.push("the sender says the deploy carried a migration: rolling back the code does not roll back the schema");
  if (migrationFiles.length > 0) evidence.push(`migration file${migrationFiles.length === 1 ? "" : "s"} ${someOf(migrationFiles)} changed: rolling back the code does not roll back the schema`);
  if (deploy.migration === false && migrationFiles.length === 0) evidence.push("the sender says the deploy carried no migration, and no migration files changed");
  if (deploy.migration === undefined && migrationFiles.length === 0) evidence.push("the sender did not say whether the deploy carried a migration, and no migration files changed");
  if (contractChange) evidence.push(`contract file${contractFiles.length === 1 ? "" : "s"} ${someOf(contractFiles)} changed: clients built against the new contract may break on rollback`);

  const causalLink = confidence === "medium" || confidence === "high";
  return {
    isRuntimeChange,
    causalLink,
    confidence,
    score: Math.round(score * 100) / 100,
    evidence,
    migration,
    contractChange,
    rollbackSafe: !migration && !contractChange,
    suspects,
    files,
  };
}

/** Whether a verdict opens a regression incident: only a causal link with confidence above low does. */
export function opensIncident(v: TriageVerdict): boolean {
  return v.causalLink && (v.confidence === "medium" || v.confidence === "high");
}
