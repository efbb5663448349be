import { ApiException, type V1NetworkPolicy, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { apiStatusOf } from "../../environments/kubernetes/api-errors.js";
import { InMemoryConfigMapHistory } from "../../environments/kubernetes/config-history.js";
import { configMapsReferenced } from "../../environments/kubernetes/config-maps.js";
import { isStaleWrite } from "../../environments/kubernetes/dry-run.js";
import { logLevel, parsePodLog, splitTimestamp } from "../../environments/kubernetes/log-lines.js";
import { cpuCores, memoryMib } from "../../environments/kubernetes/quantity.js";
import { selectorMatches, selectorToQuery } from "../../environments/kubernetes/selectors.js";
import { networkPolicyState, podStatus } from "../../environments/kubernetes/translate.js";

describe("translations from Kubernetes objects", () => {
  test("Given a crash-looping pod, When translated, Then reason, restarts, readiness and the last termination come from its container statuses", () => {
    const pod: V1Pod = {
      metadata: { name: "api-1", creationTimestamp: new Date("2026-11-30T06:00:00Z") },
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [
          {
            name: "api",
            image: "api:1",
            imageID: "",
            ready: false,
            restartCount: 7,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } },
          },
          { name: "sidecar", image: "envoy", imageID: "", ready: true, restartCount: 1 },
        ],
      },
    };
    expect(podStatus(pod, 3)).toEqual({
      name: "api-1",
      phase: "Running",
      ready: false,
      reason: "CrashLoopBackOff",
      restarts: 8,
      lastTerminationReason: "OOMKilled",
      lastExitCode: 137,
      revision: 3,
      startedAt: Date.parse("2026-11-30T06:00:00Z"),
    });
  });

  test("Given NetworkPolicies, When translated, Then allowed sources are app names, empty ingress denies all, an open rule or egress-only policy allows all", () => {
    const base = { metadata: { name: "p", creationTimestamp: new Date(0) } };
    const allowFrontend: V1NetworkPolicy = {
      ...base,
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ _from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } } }, { ipBlock: { cidr: "10.0.0.0/8" } }] }] },
    };
    expect(networkPolicyState(allowFrontend, "checkout").allowIngressFrom).toEqual(["ipBlock:10.0.0.0/8", "web"]);
    expect(networkPolicyState({ ...base, spec: { podSelector: {}, policyTypes: ["Ingress"] } }, "checkout").allowIngressFrom).toEqual([]);
    expect(networkPolicyState({ ...base, spec: { podSelector: {}, ingress: [{}] } }, "checkout").allowIngressFrom).toEqual(["*"]);
    expect(networkPolicyState({ ...base, spec: { podSelector: {}, policyTypes: ["Egress"] } }, "checkout").allowIngressFrom).toEqual(["*"]);
  });

  test("Given label selectors, When matched and written as a query, Then matchLabels and every matchExpressions operator behave as the API server's", () => {
    const selector = {
      matchLabels: { app: "checkout" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["web", "api"] },
        { key: "canary", operator: "DoesNotExist" },
      ],
    };
    expect(selectorMatches(selector, { app: "checkout", tier: "api" })).toBe(true);
    expect(selectorMatches(selector, { app: "checkout", tier: "db" })).toBe(false);
    expect(selectorMatches(selector, { app: "checkout", tier: "web", canary: "1" })).toBe(false);
    expect(selectorMatches({}, { any: "thing" })).toBe(true);
    expect(selectorToQuery(selector)).toBe("app=checkout,tier in (web,api),!canary");
  });

  test("Given quantities, When read, Then binary and decimal suffixes, millicores and exponents convert", () => {
    expect([memoryMib("512Mi"), memoryMib("1Gi"), memoryMib("1G"), memoryMib("134217728"), memoryMib(undefined), memoryMib("lots")]).toEqual([512, 1024, 954, 128, 0, 0]);
    expect([cpuCores("250m"), cpuCores("2"), cpuCores("1.5")]).toEqual([0.25, 2, 1.5]);
  });

  test("Given a pod template, When its ConfigMaps are listed, Then envFrom, env references and (projected) volumes all count", () => {
    const names = configMapsReferenced({
      spec: {
        initContainers: [{ name: "init", envFrom: [{ configMapRef: { name: "init-cfg" } }] }],
        containers: [
          {
            name: "app",
            env: [
              { name: "A", valueFrom: { configMapKeyRef: { name: "flags", key: "a" } } },
              { name: "B", valueFrom: { secretKeyRef: { name: "s", key: "b" } } },
            ],
          },
        ],
        volumes: [
          { name: "v", configMap: { name: "settings" } },
          { name: "p", projected: { sources: [{ configMap: { name: "ca" } }] } },
        ],
      },
    });
    expect(names).toEqual(["ca", "flags", "init-cfg", "settings"]);
  });
});

describe("pod logs", () => {
  test("Given timestamped lines, When parsed, Then nanosecond RFC 3339 prefixes become epoch ms and are stripped", () => {
    expect(splitTimestamp("2026-11-30T06:59:59.123456789Z hello")).toEqual({ t: Date.parse("2026-11-30T06:59:59.123Z"), message: "hello" });
    expect(splitTimestamp("no time here")).toEqual({ t: undefined, message: "no time here" });
    expect(parsePodLog("2026-11-30T07:00:00Z a\ncontinued\n\n", "svc", "pod", 5).map((l) => [l.t, l.message])).toEqual([
      [Date.parse("2026-11-30T07:00:00Z"), "a"],
      [Date.parse("2026-11-30T07:00:00Z"), "continued"],
    ]);
  });

  test("Given lines in JSON, logfmt and plain text, When levels are read, Then the level field wins over keywords", () => {
    expect(logLevel('{"level":"warning","msg":"error budget"}')).toBe("warn");
    expect(logLevel('{"severity":"CRITICAL"}')).toBe("fatal");
    expect(logLevel("ts=1 level=debug msg=ERROR-free")).toBe("debug");
    expect(logLevel("panic: runtime error: index out of range")).toBe("fatal");
    expect(logLevel("java.lang.IllegalStateException: boom")).toBe("error");
    expect(logLevel("Unhandled Exception in worker")).toBe("error");
    expect(logLevel("WARN slow query")).toBe("warn");
    expect(logLevel("GET /healthz 200")).toBe("info");
  });
});

describe("ConfigMap history", () => {
  test("Given observations, When the data repeats or changes, Then only changes make versions, and versions list oldest first", async () => {
    const history = new InMemoryConfigMapHistory();
    const seen = (data: Record<string, string>, at: number) => history.observe({ namespace: "prod", name: "flags", resourceVersion: String(at), data, observedAt: at });
    expect(await seen({ a: "1" }, 1)).toBe(1);
    expect(await seen({ a: "1" }, 2)).toBe(1);
    expect(await seen({ a: "2" }, 3)).toBe(2);
    expect(await seen({ a: "1" }, 4)).toBe(3);
    expect(await history.versions("prod", "flags")).toEqual([
      { version: 1, data: { a: "1" }, resourceVersion: "1", observedAt: 1, redacted: false },
      { version: 2, data: { a: "2" }, resourceVersion: "3", observedAt: 3, redacted: false },
      { version: 3, data: { a: "1" }, resourceVersion: "4", observedAt: 4, redacted: false },
    ]);
    expect(await history.versions("prod", "other")).toEqual([]);
  });
});

describe("API statuses", () => {
  test("Given a real API server's generic 422 for a failed resourceVersion test, When classified, Then the cause is read and it counts as a stale write", () => {
    const body = JSON.stringify({
      kind: "Status",
      code: 422,
      reason: "Invalid",
      message: "the server rejected our request due to an error in our request",
      details: { causes: [{ reason: "UnexpectedServerResponse", message: "testing value /metadata/resourceVersion failed: test failed" }] },
    });
    const status = apiStatusOf(new ApiException(422, "Unknown API Status Code!", body, {}));
    expect(status?.message).toBe("the server rejected our request due to an error in our request: testing value /metadata/resourceVersion failed: test failed");
    expect(status !== undefined && isStaleWrite(status)).toBe(true);
    expect(isStaleWrite({ code: 409, reason: "Conflict", message: "the object has been modified" })).toBe(true);
    expect(isStaleWrite({ code: 409, reason: "AlreadyExists", message: "exists" })).toBe(false);
    expect(isStaleWrite({ code: 422, reason: "Invalid", message: "spec.replicas: Invalid value: -1" })).toBe(false);
  });
});
