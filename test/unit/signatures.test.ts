import { describe, expect, it } from "vitest";
import { errorClass, externalHost, extractSignatures, logMessageText, normalizeLogMessage } from "../../evidence/signatures.js";
import { redactSecrets, secretKinds } from "../../domain/secrets.js";
import type { LogLine } from "../../environments/adapter.js";

function line(message: string, level: LogLine["level"] = "error", t = 0): LogLine {
  return { t, service: "svc", pod: "svc-7d9f8b6c5d-x2k4p", level, message };
}

describe("log signature normalization", () => {
  it("masks ids, numbers, hashes, addresses and timestamps so one fault is one signature", () => {
    // Given two lines of the same fault that differ only in variable parts
    const a = "2026-11-23T05:12:11.123Z failed to deserialize record at topic=orders partition=3 offset=18231 req_id=3f2a9c1e-1b2c-4d5e-8f90-123456789abc";
    const b = "2026-11-23T05:14:02.990Z failed to deserialize record at topic=orders partition=1 offset=99 req_id=0a1b2c3d-1b2c-4d5e-8f90-abcdefabcdef";
    // When they are normalized
    // Then their templates are equal and keep the words that identify the fault
    expect(normalizeLogMessage(a)).toBe(normalizeLogMessage(b));
    expect(normalizeLogMessage(a)).toContain("failed to deserialize record at topic=orders");
    expect(normalizeLogMessage("connect ECONNREFUSED 10.12.3.4:8080")).toBe("connect ECONNREFUSED <ip>");
    expect(normalizeLogMessage("image sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 pulled")).toBe("image <hex> pulled");
  });

  it("groups warnings and errors by template, most frequent first, and ignores info chatter", () => {
    // Given a mix of repeated errors, a rarer warning and info lines
    const lines = [
      line("exec /app/server: exec format error", "fatal", 1),
      line("exec /app/server: exec format error", "fatal", 2),
      line("slow request GET /orders/17 took 912ms", "warn", 3),
      line("GET /healthz 200 3ms", "info", 4),
    ];
    // When signatures are extracted
    const signatures = extractSignatures(lines);
    // Then the fatal line is one signature counted twice, first; info is dropped
    expect(signatures.map((s) => [s.template, s.count])).toEqual([
      ["exec /app/server: exec format error", 2],
      ["slow request GET /orders/<num> took <num>", 1],
    ]);
    expect(signatures[0]?.firstSeen).toBe(1);
    expect(signatures[0]?.lastSeen).toBe(2);
  });
});

describe("secret detection", () => {
  it("finds credentials printed in logs and redacts their values", () => {
    const leaked = "config loaded: DB_PASSWORD=hunter2hunter2 region=eu AKIAIOSFODNN7EXAMPLE";
    expect(secretKinds(leaked).sort()).toEqual(["aws-access-key", "key-value-secret"]);
    const redacted = redactSecrets(leaked);
    expect(redacted).not.toContain("hunter2hunter2");
    expect(redacted).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(redacted).toContain("DB_PASSWORD=[REDACTED]");
  });

  it("recognises vendor tokens by their prefix wherever they appear", () => {
    // Given a GitHub token and a Stripe live key printed without a credential-named key
    const leaked = "calling api with ghp_abcdefghijklmnopqrstuvwxyz0123456789 and sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    // Then both are found and redacted
    expect(secretKinds(leaked)).toEqual(["api-token"]);
    expect(redactSecrets(leaked)).toBe("calling api with [REDACTED] and [REDACTED]");
  });

  it("does not mistake ordinary authentication messages for leaks", () => {
    expect(secretKinds("invalid password for user bob")).toEqual([]);
    expect(secretKinds("token expired for session 42")).toEqual([]);
  });
});

describe("structured logs and error classes", () => {
  it("takes a JSON line's message and error fields, and a logfmt line's msg and err, not the framing", () => {
    // Given the same failure logged as JSON and as logfmt, with different times, callers and trace ids
    const json =
      '{"ts":"2026-11-30T07:00:01Z","level":"error","caller":"db.go:42","trace_id":"ab12cd34ef56ab12","msg":"query failed","error":"dial tcp: lookup postgres on 10.96.0.10:53: no such host"}';
    const logfmt = 'ts=2026-11-30T07:00:02Z level=error caller=db.go:42 msg="query failed" err="dial tcp: lookup postgres on 10.96.0.11:53: no such host"';
    // When they are normalized
    // Then both give the template of the message and its error, without ts, caller or trace id
    expect(normalizeLogMessage(json)).toBe("query failed: dial tcp: lookup postgres on <ip>: no such host");
    expect(normalizeLogMessage(logfmt)).toBe(normalizeLogMessage(json));
    // And a JSON line without those fields stays as it is
    expect(logMessageText('{"status":"ok"}')).toBe('{"status":"ok"}');
    // And the failing HTTP status a JSON line reports stays with its message (a success does not)
    expect(logMessageText('{"level":"error","msg":"request rejected","status":400,"path":"/v3/registrations"}')).toBe("request rejected status=400");
    expect(logMessageText('{"level":"info","msg":"sync batch accepted","status":201}')).toBe("sync batch accepted");
  });

  it("unescapes a quoted logfmt value the way Go's logfmt writes it: a multi-line error reads as the JSON line does", () => {
    // Given a Rails error with quotes and line breaks, logged as JSON and as logfmt (strconv.Quote escapes: \" and \n)
    const error = 'PG::UndefinedColumn: ERROR:  column "legacy_plan_id" does not exist\nLINE 1: SELECT plan_tier, legacy_plan_id FROM accounts';
    const json = JSON.stringify({ level: "error", msg: "request failed", error });
    const logfmt = `level=error msg="request failed" error=${JSON.stringify(error)}`;
    // When their text is read
    // Then both say the same: the quote is a quote and the line break a line break (before: "existnLINE")
    expect(logMessageText(logfmt)).toBe(logMessageText(json));
    expect(logMessageText(logfmt)).toContain('column "legacy_plan_id" does not exist\nLINE 1:');
  });

  it("folds a stack trace into the line that started it, and a Python traceback under its exception", () => {
    // Given a Java exception with frames and a cause, and a Python traceback, from two pods
    const lines: LogLine[] = [
      { ...line("ERROR request failed: java.net.UnknownHostException: payments", "error", 1), pod: "a" },
      { ...line("    at java.net.InetAddress.getAllByName(InetAddress.java:1281)", "info", 1), pod: "a" },
      { ...line("Caused by: java.net.UnknownHostException: payments: Name or service not known", "error", 1), pod: "a" },
      { ...line("Traceback (most recent call last):", "error", 2), pod: "b" },
      { ...line('  File "/app/main.py", line 3, in <module>', "info", 2), pod: "b" },
      { ...line("psycopg2.OperationalError: FATAL:  password authentication failed for user app", "error", 2), pod: "b" },
    ];
    // When signatures are extracted
    const signatures = extractSignatures(lines);
    // Then there is one signature per exception, the Python one named by its exception line
    expect(signatures.map((s) => s.template).sort()).toEqual([
      "ERROR request failed: java.net.UnknownHostException: payments",
      "psycopg2.OperationalError: FATAL: password authentication failed for user app",
    ]);
    expect(signatures.find((s) => s.template.startsWith("ERROR"))?.sample).toContain("Caused by:");
    // And a line that is not a frame is its own signature
    expect(extractSignatures([line("TypeError: x is undefined", "error", 1), line("TypeError: x is undefined", "error", 2)]).map((s) => s.count)).toEqual([2]);
  });

  it("classifies errors the same across languages and libraries", () => {
    const cases: Array<[string, string]> = [
      ["getaddrinfo ENOTFOUND payments.prod.svc.cluster.local", "dns"],
      ["dial tcp: lookup payments on 10.96.0.10:53: no such host", "dns"],
      ["java.net.UnknownHostException: payments: Name or service not known", "dns"],
      ["connect ECONNREFUSED 10.0.0.5:5432", "connection_refused"],
      ["read: connection reset by peer", "connection_reset"],
      ["x509: certificate signed by unknown authority", "tls"],
      ["TLS handshake failed from 100.64.12.9: client certificate revoked", "tls"],
      ["javax.net.ssl.SSLHandshakeException: PKIX path building failed", "tls"],
      ["ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls"],
      ['FATAL: password authentication failed for user "app"', "auth"],
      ["upstream returned 401 Unauthorized", "auth"],
      ["FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "oom"],
      ["Readiness probe failed: HTTP probe failed with statuscode: 503", "probe"],
      ['exec: "/app/serve": stat /app/serve: no such file or directory', "exec"],
      ["Error: unknown flag: --listen-addr", "unknown_flag"],
      ["flag provided but not defined: -port", "unknown_flag"],
      ["POST https://api.rates.example/v2/quotes: 503 Service Unavailable (retry 3/3)", "upstream_status"],
      ["upstream responded status=502 after 31ms", "upstream_status"],
      ["no healthy upstream", "upstream_status"],
      ["504 Gateway Timeout from edge", "upstream_status"],
      // The client went away: not the server's failure (a connection reset the server itself saw stays connection_reset).
      ["request aborted: Error: aborted at abortIncoming (node:_http_server:794:17) code=ECONNRESET", "client_abort"],
      ["feed stream failed: Error [ERR_STREAM_PREMATURE_CLOSE]: Premature close", "client_abort"],
      ["http: TLS handshake error from 10.20.150.88:24009: EOF", "client_abort"],
      ['10.0.4.2 - - "GET /feed HTTP/1.1" 499 0 client closed request', "client_abort"],
      ["upstream connection to ledger-db: read ECONNRESET", "connection_reset"],
      // The server rightly refused the client's request (auth, throttling and timeouts are not the client's mistake).
      ["request rejected status=422", "client_error"],
      ["POST /v3/registrations 400 Bad Request: ear tag fails checksum", "client_error"],
      ["payload validation failed: field 'postcode' is required", "client_error"],
      ["request rejected status=429", "rate_limited"],
      ["github GET /repos/o/r/git/refs 403: You have exceeded a secondary rate limit. retry-after=60; backing off", "rate_limited"],
      ["botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the PutItem operation: Rate exceeded", "rate_limited"],
      ["request rejected status=401", "auth"],
      ["order 503 shipped in 12ms", ""],
      ["GET /orders took 912ms", ""],
    ];
    for (const [text, expected] of cases) expect([text, errorClass(text)]).toEqual([text, expected]);
  });

  it("names the host outside the cluster a log line's failing call went to, and no cluster or source-file name", () => {
    // Given the services and namespaces the workload knows
    const inCluster = new Set(["fx-quote", "ledger-db", "banking"]);
    const cases: Array<[string, string]> = [
      // When a line names a URL or host:port outside the cluster, Then that host is named
      ["POST https://api.ratesprovider.example/v2/quotes: 503 Service Unavailable", "api.ratesprovider.example"],
      ["dial tcp smtp.mailvendor.com:587: i/o timeout", "smtp.mailvendor.com"],
      // And cluster Services, private names, addresses and stack frames are not
      ["dial tcp ledger-db.banking.svc.cluster.local:5432: connect: connection refused", ""],
      ["connect to ledger-db.banking:5432 timed out", ""],
      ["GET http://fx-quote:8080/v1/rate: 503", ""],
      ["GET http://registry.internal/v2/: 503", ""],
      ["connect ECONNREFUSED 10.0.0.5:5432", ""],
      ["at com.acme.RatesClient.fetch(RatesClient.java:118)", ""],
    ];
    for (const [text, expected] of cases) expect([text, externalHost(text, inCluster)]).toEqual([text, expected]);
  });
});
