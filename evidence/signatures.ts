import { failingHttpStatus } from "../environments/kubernetes/log-lines.js";
import type { LogLine } from "../environments/adapter.js";
import type { LogSignature } from "../domain/model.js";

/**
 * Masks that turn a log message into its template. Order matters: the most specific shapes
 * (timestamps, UUIDs, addresses) go before bare numbers so they collapse to one token.
 */
const MASKS: Array<[RegExp, string]> = [
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b/g, "<ts>"],
  // ctime / syslog dates ("Fri Jun 17 07:07:00 2005"): one value, not five.
  [/\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2},? \d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?: \d{4})?\b/g, "<ts>"],
  [/\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, "<time>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  [/\b(?:blk|req|trace|span|user|order|id)[_-]?-?\d+\b/gi, "<id>"],
  [/\b(?:sha256:)?[0-9a-f]{12,}\b/gi, "<hex>"],
  [/\b0x[0-9a-f]+\b/gi, "<hex>"],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, "<ip>"],
  [/\b[a-z0-9]+(?:-[a-z0-9]+)*-[a-z0-9]{8,10}-[a-z0-9]{5}\b/gi, "<pod>"],
  [/(["'])(?:(?=(\\?))\2.)*?\1/g, "<str>"],
  // A minus sign only where no word precedes it: "host-10-2" keeps its hyphens.
  [/(?:(?<![\w-])-)?\b\d+(?:\.\d+)?(?:ms|s|m|h|Mi|Gi|MiB|GiB|KB|MB|GB|%)?\b/g, "<num>"],
];

/** A field of a JSON object as text, when it is a string (or an object with a message). */
function textField(record: Record<string, unknown>, names: string[]): string | undefined {
  for (const name of names) {
    const value = record[name];
    if (typeof value === "string" && value !== "") return value;
    if (value !== null && typeof value === "object") {
      const inner = (value as Record<string, unknown>)["message"] ?? (value as Record<string, unknown>)["msg"];
      if (typeof inner === "string" && inner !== "") return inner;
    }
  }
  return undefined;
}

const MESSAGE_FIELDS = ["msg", "message", "event"];
const ERROR_FIELDS = ["error", "err", "exception", "error.message", "exc_info"];

/** What a backslash escape in a quoted logfmt value stands for (any other escaped character is itself). */
const LOGFMT_ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r" };

/** One logfmt value: quoted (with escapes) or bare up to the next space. */
function logfmtValue(line: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key.replace(".", "\\.")}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(line);
  if (m === null) return undefined;
  // Quoted values are escaped as Go's strconv.Quote escapes them: `\n` stands for a line break, `\"` for a quote.
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, (_all, c: string) => LOGFMT_ESCAPES[c] ?? c) : m[2];
}

/**
 * What a log line says, without its framing: a JSON line's message field (`msg`, `message`)
 * followed by its error field (`error`, `err`, `exception`); a logfmt line's `msg=` and `err=`;
 * any other line as it is. Level, time, caller and trace ids would split one fault into many
 * signatures.
 */
export function logMessageText(message: string): string {
  const trimmed = message.trim();
  if (trimmed.startsWith("{") && trimmed.endsWith("}")) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
        const record = parsed as Record<string, unknown>;
        const msg = textField(record, MESSAGE_FIELDS);
        const err = textField(record, ERROR_FIELDS);
        const status = failingHttpStatus(record);
        const said = msg !== undefined && status !== undefined ? `${msg} status=${status}` : msg;
        if (said !== undefined || err !== undefined) return [said, err].filter((x) => x !== undefined).join(": ");
      }
    } catch {
      // Not JSON after all.
    }
  }
  if (/(?:^|\s)msg=/.test(trimmed)) {
    const msg = logfmtValue(trimmed, "msg");
    const err = logfmtValue(trimmed, "err") ?? logfmtValue(trimmed, "error");
    if (msg !== undefined) return [msg, err].filter((x) => x !== undefined).join(": ");
  }
  return trimmed;
}

/**
 * Whether a line continues the previous one: a stack frame (`at …`, `File "…"`, an indented
 * line), a `Caused by:`, `... N more`, a goroutine header; and, inside a Python traceback, the
 * closing `SomeError: …` line.
 */
export function isContinuation(message: string, inTraceback = false): boolean {
  if (/^(\s+\S|at [\w$.<]|Caused by:|\.\.\. \d+ more|File "|goroutine \d+ \[)/.test(message)) return true;
  return inTraceback && /^[\w.]+(Error|Exception|Exit|Interrupt)\b/.test(message);
}

/**
 * Classes of error that read the same across languages and libraries, by what the text says.
 * The first that matches wins; "" when none does.
 */
const ERROR_CLASSES: Array<[string, RegExp]> = [
  ["probe", /\b(readiness|liveness|startup) probe failed/i],
  // The client went away, not the server: a request aborted mid-response, a stream closed early, a
  // connection opened and closed without a TLS handshake (a load balancer's TCP health check).
  [
    "client_abort",
    /\brequest aborted\b|\baborted by (the )?client\b|\bclient (disconnected|closed (the )?(connection|request)|went away|aborted)\b|ERR_STREAM_PREMATURE_CLOSE|\bpremature close\b|\bECONNABORTED\b|\b499\b.*client closed|client closed request|TLS handshake error from \S+: (EOF|read: connection reset by peer)/i,
  ],
  // The request was the client's mistake, and the server said so: a 4xx that is not about auth,
  // throttling or a timeout (those are the server's or its policy's doing), or a validation failure.
  [
    "client_error",
    /\bstatus[=: ]"?(400|409|411|412|413|414|415|416|422)\b|\b(400 Bad Request|422 Unprocessable (Entity|Content))\b|\bvalidation (failed|error)s?\b|\bmalformed (request|payload|body|json)\b/i,
  ],
  // A dependency throttled the call (an API's rate limit, a cloud provider's request limit): the
  // caller is told to slow down and retry, not that the call is wrong or the callee down.
  [
    "rate_limited",
    /\b429\b|too many requests|\brate[- ]?limit(ed|ing)?\b.{0,20}\b(exceeded|reached|hit)\b|\bexceeded (a |the |your )?(secondary |api |request )?rate[- ]?limit|\bthrottl(ed|ing)\b|\bSlowDown\b|RequestLimitExceeded|ThrottlingException|Rate exceeded/i,
  ],
  ["oom", /OutOfMemory|out of memory|heap out of memory|OOMKilled|Cannot allocate memory|memory limit exceeded/i],
  ["dns", /ENOTFOUND|EAI_AGAIN|no such host|NXDOMAIN|Name or service not known|Temporary failure in name resolution|UnknownHostException|could not resolve host|getaddrinfo|nodename nor servname/i],
  [
    "tls",
    /x509|certificate (has expired|is not yet valid|signed by unknown|verify failed|revoked|expired)|tls: |SSL(_| )?(routines|handshake|error)|CERT_|CERTIFICATE_VERIFY_FAILED|SSLHandshakeException|PKIX path|handshake fail(ed|ure)/i,
  ],
  [
    "auth",
    /password authentication failed|authentication failed|invalid credentials|access denied for user|invalid (password|api key|token)|\bunauthori[sz]ed\b|\b401\b|NOAUTH|WRONGPASS|AuthenticationException|Login failed for user|SASL authentication/i,
  ],
  ["connection_refused", /ECONNREFUSED|connection refused|ConnectException|actively refused/i],
  ["connection_reset", /ECONNRESET|connection reset|broken pipe|EPIPE|unexpected EOF/i],
  // An HTTP 5xx an upstream answered (before "timeout": a 504 is the upstream's answer, not our own wait).
  [
    "upstream_status",
    /\b(?:HTTP|status|returned|responded|got|code)[ /:=]*50[234]\b|\b50[234] (?:Service (?:Temporarily )?Unavailable|Bad Gateway|Gateway Time-?out)|Service (?:Temporarily )?Unavailable|Bad Gateway|Gateway Time-?out|no healthy upstream|upstream connect error/i,
  ],
  ["timeout", /ETIMEDOUT|timed out|timeout|deadline exceeded/i],
  ["unknown_flag", /unknown (flag|option|shorthand flag)|flag provided but not defined|unrecognized (option|arguments?)|invalid option|no such option/i],
  ["exec", /exec format error|executable file not found|no such file or directory|exec: |command not found|permission denied/i],
];

/** The error class a log text shows (client_abort, client_error, rate_limited, dns, connection_refused, connection_reset, upstream_status, timeout, tls, auth, oom, probe, exec, unknown_flag), "" if none. */
export function errorClass(text: string): string {
  return ERROR_CLASSES.find(([, pattern]) => pattern.test(text))?.[0] ?? "";
}

/** Host name endings that stay inside a cluster or a private network. */
const PRIVATE_SUFFIX = /\.(?:svc|cluster\.local|local|internal|lan|corp|intranet|home\.arpa)$/i;
/** `name.ext:123` in a stack frame is a source file and line, not a host and port. */
const SOURCE_FILE = /\.(?:java|kt|scala|py|go|js|mjs|cjs|ts|rb|cs|cpp|cc|c|h|rs|php|exs?|ya?ml|json|conf|log|sql)$/i;
/** A URL's host, or the host of a `host.domain:port`. */
const HOST_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/([a-z0-9.-]+)|\b((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*):\d{2,5}\b/gi;

/**
 * The first host a log text names that lies outside the cluster, "" if none: a dotted name (from a
 * URL or a host:port) that is not an address, not a cluster or private-network name, and whose
 * first or second label is not a service or namespace `inCluster` knows (`ledger-db.banking:5432`).
 */
export function externalHost(text: string, inCluster: ReadonlySet<string>): string {
  for (const match of text.matchAll(HOST_IN_TEXT)) {
    const host = (match[1] ?? match[2] ?? "").toLowerCase().replace(/\.$/, "");
    if (!host.includes(".") || /^[\d.]+$/.test(host)) continue;
    if (PRIVATE_SUFFIX.test(host) || SOURCE_FILE.test(host)) continue;
    const [first = "", second = ""] = host.split(".");
    if (inCluster.has(first) || inCluster.has(second)) continue;
    return host;
  }
  return "";
}

/** Reduces a log message to its template: ids, numbers, hashes, addresses and timestamps masked. */
export function normalizeLogMessage(message: string): string {
  let template = logMessageText(message);
  for (const [pattern, token] of MASKS) template = template.replace(pattern, token);
  return template.replace(/\s+/g, " ");
}

const WILDCARD = "<*>";

const MASK_TOKEN = /<(?:ts|time|uuid|hex|ip|pod|str|id|num|\*)>/g;

/** Whether a token holds a value rather than a word of the template: it has a digit or a mask. */
function isValueToken(token: string): boolean {
  return /\d/.test(token) || token.replace(MASK_TOKEN, "\uE000") !== token;
}

/**
 * A token as grouping compares it: each run of a value (a word with a digit or a mask) becomes
 * <*> and the punctuation and words around it stay, so `(uid=0)` and `LOGIN(uid=0)` differ
 * while `blk_-1` and `blk_2` do not.
 */
function shapeOf(token: string): string {
  if (!isValueToken(token)) return token;
  return token.replace(MASK_TOKEN, "\uE000").replace(/[\w.\-\uE000]*[\d\uE000][\w.\-\uE000]*/g, WILDCARD);
}

/** The key of `key=value` (with its `=`), if the token is one. */
function keyOf(token: string): string | undefined {
  return /^([\w.-]+=)/.exec(token)?.[1];
}

/** A wildcard for a position whose tokens differ: `key=<*>` when they share a key. */
function wildcardFor(tokens: Iterable<string>): string {
  let key: string | undefined | null = null;
  for (const token of tokens) {
    const k = keyOf(token);
    if (key === null) key = k;
    else if (key !== k) return WILDCARD;
  }
  return key === null || key === undefined ? WILDCARD : `${key}${WILDCARD}`;
}

/**
 * Whether `text` fits `shape`, each <*> standing for any text. The parts between wildcards are
 * found leftmost, in order (exact for `*`-only patterns), so a long token cannot make it slow.
 */
function fitsShape(shape: string, text: string): boolean {
  const parts = shape.split(WILDCARD);
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (parts.length === 1) return shape === text;
  if (!text.startsWith(first) || text.length < first.length + last.length) return false;
  let at = first.length;
  for (const part of parts.slice(1, -1)) {
    const found = text.indexOf(part, at);
    if (found < 0) return false;
    at = found + part.length;
  }
  return text.length - last.length >= at && text.endsWith(last);
}

/** The shape among `variants` holding a value whose pattern matches all the others, if one does. */
function coveringShape(variants: Set<string>): string | undefined {
  const candidates = [...variants].filter((v) => v.includes(WILDCARD)).sort((a, b) => a.length - b.length || a.localeCompare(b));
  for (const candidate of candidates) {
    if ([...variants].every((v) => v === candidate || fitsShape(candidate, v))) return candidate;
  }
  return undefined;
}

/** Distinct words at one position that make it a variable (user names, hosts) rather than a choice between templates. */
const MIN_VARIANTS = 3;

interface TemplateGroup {
  shape: string[];
  members: number[];
}

/**
 * Merges groups of equal length that differ at one position only, when that position takes
 * many values (or already held a value): Drain's "a token with digits is a variable" and its
 * similarity merge, over the batch, so user and host names become <*> while the template's
 * words stay.
 */
function mergeVariablePositions(groups: TemplateGroup[]): TemplateGroup[] {
  let current = groups;
  const length = current[0]?.shape.length ?? 0;
  for (let changed = true; changed;) {
    changed = false;
    for (let p = 0; p < length; p += 1) {
      const byRest = new Map<string, TemplateGroup[]>();
      for (const group of current) {
        const rest = group.shape.map((t, i) => (i === p ? "" : t)).join("\u0000");
        const list = byRest.get(rest) ?? [];
        list.push(group);
        byRest.set(rest, list);
      }
      const next: TemplateGroup[] = [];
      for (const list of byRest.values()) {
        const first = list[0];
        if (first === undefined) continue;
        const variants = new Set(list.map((g) => g.shape[p] ?? ""));
        const constants = first.shape.filter((t, i) => i !== p && !t.includes(WILDCARD)).length;
        // A value seen at the position whose shape covers every other token there makes them
        // values too; without one, many different words are needed, and never at the first
        // position, which names the event (Drain routes by it too).
        const covering = coveringShape(variants);
        const enough = covering !== undefined || (p > 0 && variants.size >= MIN_VARIANTS);
        if (list.length < 2 || !enough || constants < Math.max(1, Math.ceil((length - 1) / 2))) {
          next.push(...list);
          continue;
        }
        const shape = [...first.shape];
        shape[p] = covering ?? wildcardFor(variants);
        next.push({ shape, members: list.flatMap((g) => g.members) });
        changed = true;
      }
      current = next;
    }
  }
  return current;
}

/** A list of ids (`<id> <id> <id>`, as in "delete blocks a b c") is one value, however long. */
function collapseIdLists(words: string[]): string[] {
  return words.filter((word, i) => !(i > 0 && word === words[i - 1] && /^<(?:id|hex|uuid)>$/.test(word)));
}

/**
 * The templates of a batch of messages, one per message: each masked ({@link normalizeLogMessage}),
 * then lines of equal length grouped by their words, positions holding values (digits, masks,
 * many different words) becoming <*>. What stays is what every line of a group shares, so a
 * template reads as its lines do. Deterministic: the same batch gives the same templates.
 */
export function signaturesOf(messages: readonly string[]): string[] {
  const tokens = messages.map((m) =>
    collapseIdLists(
      normalizeLogMessage(m)
        .split(" ")
        .filter((t) => t !== ""),
    ),
  );
  const byLength = new Map<number, Map<string, TemplateGroup>>();
  tokens.forEach((words, i) => {
    const shape = words.map(shapeOf);
    const key = shape.join("\u0000");
    const bucket = byLength.get(words.length) ?? new Map<string, TemplateGroup>();
    const group = bucket.get(key) ?? { shape, members: [] };
    group.members.push(i);
    bucket.set(key, group);
    byLength.set(words.length, bucket);
  });
  const out: string[] = new Array<string>(messages.length).fill("");
  for (const bucket of byLength.values()) {
    for (const group of mergeVariablePositions([...bucket.values()])) {
      const words = group.shape.map((_, p) => {
        const seen = new Set(group.members.map((m) => tokens[m]?.[p] ?? ""));
        if (seen.size === 1) return [...seen][0] ?? "";
        const shape = group.shape[p] ?? WILDCARD;
        return shape.includes(WILDCARD) ? shape : wildcardFor(seen);
      });
      const template = words.join(" ");
      for (const m of group.members) out[m] = template;
    }
  }
  return out;
}

const LEVEL_RANK: Record<LogLine["level"], number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

/** A log record: a line with the stack-trace lines that followed it (same pod) folded in. */
interface LogRecord {
  line: LogLine;
  level: LogLine["level"];
  /** The text the template is built from: the line's message, or a Python traceback's closing line. */
  head: string;
  sample: string;
}

/** Folds stack traces into the line that started them, per pod, keeping the lines' order. */
function foldRecords(lines: LogLine[]): LogRecord[] {
  const records: LogRecord[] = [];
  const lastOfPod = new Map<string, LogRecord>();
  for (const line of lines) {
    const previous = lastOfPod.get(line.pod);
    if (previous !== undefined && isContinuation(line.message, /^Traceback \(most recent call last\)/.test(previous.head))) {
      const text = line.message.trim();
      if (LEVEL_RANK[line.level] > LEVEL_RANK[previous.level]) previous.level = line.level;
      // Python prints the exception last: "Traceback (most recent call last):" … "ValueError: boom".
      if (/^Traceback \(most recent call last\)/.test(previous.head) && /^[\w.]+(Error|Exception|Exit|Interrupt)\b/.test(text)) previous.head = text;
      if (previous.sample.length < 600) previous.sample = `${previous.sample}\n${text}`;
      continue;
    }
    const record: LogRecord = { line, level: line.level, head: line.message, sample: line.message };
    records.push(record);
    lastOfPod.set(line.pod, record);
  }
  return records;
}

/**
 * Groups log lines by template ({@link signaturesOf} over the kept lines), keeping warnings and
 * errors (the lines that explain faults), most frequent first. Multi-line stack traces count
 * once, under the line that started them.
 */
export function extractSignatures(lines: LogLine[], minLevel: LogLine["level"] = "warn"): LogSignature[] {
  const groups = new Map<string, LogSignature>();
  const records = foldRecords(lines).filter((r) => LEVEL_RANK[r.level] >= LEVEL_RANK[minLevel]);
  // Templated together, so a value that varies across the batch (a user, a host) is one <*>.
  const templates = signaturesOf(records.map((r) => r.head));
  for (const [i, { line, level, sample }] of records.entries()) {
    const template = templates[i] ?? normalizeLogMessage(line.message);
    const key = `${level}|${template}`;
    const existing = groups.get(key);
    if (existing === undefined) {
      groups.set(key, { template, level, count: 1, firstSeen: line.t, lastSeen: line.t, sample });
    } else {
      existing.count += 1;
      existing.firstSeen = Math.min(existing.firstSeen, line.t);
      existing.lastSeen = Math.max(existing.lastSeen, line.t);
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
}
