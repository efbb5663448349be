import type { LogLine } from "../adapter.js";

type Level = LogLine["level"];

const LEVEL_ALIASES: Record<string, Level> = {
  trace: "debug",
  debug: "debug",
  dbg: "debug",
  info: "info",
  information: "info",
  notice: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  err: "error",
  critical: "fatal",
  crit: "fatal",
  fatal: "fatal",
  panic: "fatal",
  emergency: "fatal",
};

/** The level a structured field names (`level`, `lvl`, `severity`), if any. */
function structuredLevel(message: string): Level | undefined {
  const trimmed = message.trim();
  if (trimmed.startsWith("{")) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (parsed !== null && typeof parsed === "object") {
        const record = parsed as Record<string, unknown>;
        const value = record.level ?? record.lvl ?? record.severity;
        if (typeof value === "string") return LEVEL_ALIASES[value.toLowerCase()];
      }
    } catch {
      // Not JSON after all: fall through to logfmt and keywords.
    }
  }
  const logfmt = /(?:^|\s)(?:level|lvl|severity)=("?)([A-Za-z]+)\1(?:\s|$)/.exec(message);
  return logfmt?.[2] === undefined ? undefined : LEVEL_ALIASES[logfmt[2].toLowerCase()];
}

/** The failing HTTP status (4xx/5xx) a structured line reports in `status`, `status_code`, `statusCode` or `http_status`: what the client was answered is part of what happened. */
export function failingHttpStatus(record: Record<string, unknown>): number | undefined {
  return [record["status"], record["status_code"], record["statusCode"], record["http_status"]].map(Number).find((n) => Number.isInteger(n) && n >= 400 && n <= 599);
}

/**
 * The message field of a JSON log line (`msg`, `message`), which is what the application said,
 * with the failing HTTP status it reports (`status=422`) and its error field (`error`, `err`) when
 * it has them; the rest of the object (level, time, caller, path) is framing that would split one
 * signature into many.
 */
export function structuredMessage(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    if (parsed === null || typeof parsed !== "object") return undefined;
    const record = parsed as Record<string, unknown>;
    const text = record.msg ?? record.message;
    const error = record.error ?? record.err;
    if (typeof text !== "string") return undefined;
    const status = failingHttpStatus(record);
    const said = status !== undefined ? `${text} status=${status}` : text;
    if (typeof error !== "string" || error === "") return said;
    // Loggers often repeat the message at the start of the error ("FATAL config" / "FATAL config: …").
    return error.startsWith(text) ? error : `${said}: ${error}`;
  } catch {
    return undefined;
  }
}

/** The level of an unstructured line from the words it uses (`FATAL`, `panic:`, `ERROR`, `Exception`, `WARN`). */
function keywordLevel(message: string): Level {
  if (/\b(FATAL|PANIC|CRITICAL)\b|\bpanic:/.test(message)) return "fatal";
  if (/\b(ERROR|ERR|Error|error|Traceback|OOMKilled)\b|Exception\b/.test(message)) return "error";
  if (/\b(WARN|WARNING|Warning|warn)\b/.test(message)) return "warn";
  if (/\b(DEBUG|TRACE)\b/.test(message)) return "debug";
  return "info";
}

/** The level of one log line: its structured level field, else its keywords. */
export function logLevel(message: string): Level {
  return structuredLevel(message) ?? keywordLevel(message);
}

// `timestamps=true` prefixes every line with an RFC 3339 time with up to nanoseconds.
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2}) ?/;

/** Splits the leading RFC 3339 timestamp off a line (milliseconds kept, finer digits dropped). */
export function splitTimestamp(line: string): { t: number | undefined; message: string } {
  const match = TIMESTAMP.exec(line);
  if (match === null) return { t: undefined, message: line };
  const fraction = (match[2] ?? "").slice(0, 4);
  const t = Date.parse(`${match[1]}${fraction}${match[3]}`);
  return { t: Number.isNaN(t) ? undefined : t, message: line.slice(match[0].length) };
}

/** The lines of one pod's log text as {@link LogLine}s; a line without a timestamp takes the previous one's. */
export function parsePodLog(text: string, service: string, pod: string, fallbackT: number): LogLine[] {
  const lines: LogLine[] = [];
  let last = fallbackT;
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    const { t, message } = splitTimestamp(raw);
    if (t !== undefined) last = t;
    lines.push({ t: t ?? last, service, pod, level: logLevel(message), message: structuredMessage(message) ?? message });
  }
  return lines;
}
