import type { LogLine } from "../environments/adapter.js";
import { redactSecrets } from "../domain/secrets.js";

/** A kind of abuse a workload's logs show, how often, from how many sources, and one redacted line. */
export interface SecuritySignal {
  kind: SecurityKind;
  count: number;
  /** Distinct IPv4 source addresses in the matching lines (0 when the lines name none). */
  sources: number;
  sample: string;
  firstSeen: number;
  /**
   * For scanning: every probe line says the server refused it (a 400/403/404/405, "bad request",
   * "invalid request line", "not found", blocked by a WAF) — the background noise of any public
   * endpoint, not an attack that got anywhere.
   */
  refused: boolean;
}

/** Kinds of abuse Suture recognises in logs (OWASP automated threats and common intrusion traces). */
export type SecurityKind = "credential-stuffing" | "scanning" | "token-misuse" | "scraping" | "toll-fraud" | "intrusion";

/** Failed logins, as web frameworks, identity providers and sshd word them. */
const FAILED_LOGIN =
  /\b(login|log-in|sign-?in|logon|authentication|auth)\b[^\n]{0,40}\b(fail(ed|ure)?|denied|rejected)\b|\binvalid[_ ](password|user(name)?|credentials?)\b|\bunknown[_ ]user\b|\bwrong password\b|\bbad credentials\b|\bFailed password for\b|\bInvalid user\b/i;
/** A log line that itself names stuffing or brute force (an app's own anomaly detector, a WAF). */
const ABUSE_WORDS =
  /\bcredential[- ]stuffing\b|\bbrute[- ]?forc(e|ing)\b|\bpassword spray(ing)?\b|\bdistinct source (ip|address)(es|s)?\b|\baccount takeover\b|\bcard (cracking|testing)\b|\bcarding\b|\b\d{2,} consecutive (misses|failures|declines)\b/i;
/** Probing for files and injection points nobody legitimately requests. */
const SCANNING =
  /\.\.\/\.\.\/|%2e%2e%2f|\/etc\/passwd|\/wp-(admin|login)|\/\.env\b|\/\.git\/(config|HEAD)|\bphpmyadmin\b|\bunion\s+(all\s+)?select\b|<script>|\b(sqlmap|nikto|masscan|nmap|zgrab|nuclei|dirbuster|gobuster)\b|\bport scan(ning)?\b|\bvulnerability scan\b/i;
/**
 * Traces of an exploit or of a workload already taken over: JNDI/expression-injection payloads
 * (Log4Shell, Spring4Shell), a cryptominer or its pools (resource hijacking, MITRE T1496), a
 * binary dropped and run. Refused or not, they are never background noise.
 */
const INTRUSION =
  /\$\{(\$\{[^}]*\})*j?\$?\{?[^}]{0,20}ndi:|\$\{jndi:|class\.module\.classLoader|\bxmrig\b|stratum\+tcp|\bmining pools?\b|\bcrypto-?min(ing|er)\b|\b(supportxmr|minergate|nanopool|nicehash)\b|\bkdevtmpfsi\b|\bkinsing\b|\bdrop(ped)? and execute\b|\breverse shell\b/i;
/** Credentials or tokens used where they never were before. */
const TOKEN_MISUSE =
  /\b(token|api[- _]?key|session|account)s?\b[^\n]{0,80}\b(never seen|new (country|asn|location|device)|impossible travel|unusual (location|address|client)|revoked|reused|replay(ed)?)\b|\bimpossible travel\b|\bfrom an address never seen\b|\b(client|client_id|api[-_ ]?key|key|token|partner)\b[^\n]{0,60}\b\d{2,}(\.\d+)?x its (\d+-day )?(p9[59]|usual|normal|baseline|typical)\b/i;
/** Harvesting data by walking identifiers or pages faster than any client needs. */
const SCRAPING = /\bscrap(e|er|ing)\b|\benumerat(e|ing|ion)\b|\bsequential (ids?|identifiers|records?|pans?|cards?|accounts?|numbers?)\b|\bharvest(ing)?\b|\bbulk (download|export) by\b/i;

/**
 * Artificially inflated traffic to a paid channel (SMS pumping, international revenue share fraud):
 * a line naming it, or the spend guard of a paid send (SMS, voice, OTP) tripping. Every pod added
 * sends more paid messages.
 */
const TOLL_FRAUD =
  /\bsms[- ]pumping\b|\btoll[- ]fraud\b|\bartificially inflated traffic\b|\bIRSF\b|\brevenue[- ]share fraud\b|\b(cost|spend|billing)[- ](guard|cap|anomaly|spike)\b|\b(sms|otp|voice|messaging)\b[^\n]{0,40}\b(spend|cost)\b[^\n]{0,40}\b(above|exceed(s|ed)?|over) (its |the )?(budget|cap|limit|daily)\b/i;

/** A probe the server turned away, in its own log line. */
const REFUSED = /\b(40[03459])\b|\bbad request\b|\binvalid request( line| target)?\b|\bnot found\b|\bforbidden\b|\b(access )?denied\b|\bblocked\b|\brejected\b|\bmethod not allowed\b/i;
/** A probe that got an answer: a 2xx or a 5xx (the probe reached code), in the line. */
const ANSWERED = /\b(HTTP\/\d(\.\d)?"?\s+)?(2\d\d|5\d\d)\b(?!\s*ms)/;

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
/**
 * Failed logins from at least this many distinct source addresses read as stuffing. Volume alone
 * does not: a client whose own credentials a dependency rejects fails just as often, from one place.
 */
const STUFFING_MIN_SOURCES = 4;

function kindOf(message: string): SecurityKind | "failed-login" | undefined {
  if (INTRUSION.test(message)) return "intrusion";
  if (ABUSE_WORDS.test(message)) return "credential-stuffing";
  if (SCANNING.test(message)) return "scanning";
  if (TOKEN_MISUSE.test(message)) return "token-misuse";
  if (SCRAPING.test(message)) return "scraping";
  if (TOLL_FRAUD.test(message)) return "toll-fraud";
  if (FAILED_LOGIN.test(message)) return "failed-login";
  return undefined;
}

/**
 * Abuse a workload's own logs show: credential stuffing (failed logins from many sources, or a
 * line naming it), scanning, tokens used from where they never were, scraping, toll fraud. Evidence that
 * vetoes adding capacity: scaling a service under attack serves the attacker.
 */
export function securitySignals(lines: LogLine[]): SecuritySignal[] {
  const found = new Map<SecurityKind | "failed-login", { count: number; sources: Set<string>; sample: string; firstSeen: number; refused: boolean }>();
  for (const line of lines) {
    const kind = kindOf(line.message);
    if (kind === undefined) continue;
    const entry = found.get(kind) ?? { count: 0, sources: new Set<string>(), sample: redactSecrets(line.message).slice(0, 240), firstSeen: line.t, refused: true };
    entry.count += 1;
    // Addresses and the refusal itself aside, a 2xx or 5xx left in the line is an answer.
    entry.refused &&= REFUSED.test(line.message) && !ANSWERED.test(line.message.replace(IPV4, " ").replace(new RegExp(REFUSED.source, "gi"), " "));
    for (const ip of line.message.match(IPV4) ?? []) entry.sources.add(ip);
    entry.firstSeen = Math.min(entry.firstSeen, line.t);
    found.set(kind, entry);
  }
  const failed = found.get("failed-login");
  found.delete("failed-login");
  if (failed !== undefined && failed.sources.size >= STUFFING_MIN_SOURCES) {
    const named = found.get("credential-stuffing");
    found.set("credential-stuffing", {
      count: failed.count + (named?.count ?? 0),
      sources: new Set([...failed.sources, ...(named?.sources ?? [])]),
      sample: named?.sample ?? failed.sample,
      firstSeen: Math.min(failed.firstSeen, named?.firstSeen ?? Infinity),
      refused: false,
    });
  }
  return [...found].map(([kind, e]) => ({ kind: kind as SecurityKind, count: e.count, sources: e.sources.size, sample: e.sample, firstSeen: e.firstSeen, refused: kind === "scanning" && e.refused }));
}

/** A change cause that says the revision fixed a vulnerability, or must not be rolled back. */
const SECURITY_FIX = /\bCVE-\d{4}-\d{4,}\b|\bGHSA(-[0-9a-z]{4}){3}\b|\bsecurity[ -](fix|patch|update|release|hotfix)\b|\bvulnerab(le|ility|ilities)\b|\bdo not roll[ -]?back\b|\bno rollback\b/i;

/**
 * Whether a revision's change cause marks it as a security fix (a CVE or GHSA id, "security
 * patch", "vulnerability", "do not roll back"): rolling it back would put the flaw back.
 */
export function isSecurityFix(changeCause: string | undefined): boolean {
  return changeCause !== undefined && SECURITY_FIX.test(changeCause.slice(0, 2000));
}
