import { describe, expect, it } from "vitest";
import { extractSignatures, normalizeLogMessage } from "../../evidence/signatures.js";
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

  it("does not mistake ordinary authentication messages for leaks", () => {
    expect(secretKinds("invalid password for user bob")).toEqual([]);
    expect(secretKinds("token expired for session 42")).toEqual([]);
  });
});
