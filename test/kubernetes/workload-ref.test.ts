import { describe, expect, test } from "vitest";
import { InvalidInputError } from "../../domain/errors.js";
import { formatWorkloadRef, parseObjectName, parseWorkloadRef } from "../../environments/kubernetes/workload-ref.js";

describe("workload refs", () => {
  test("Given a bare name, When it is parsed, Then it is a Deployment in the adapter's default namespace", () => {
    expect(parseWorkloadRef("checkout", "prod")).toEqual({ namespace: "prod", kind: "Deployment", name: "checkout" });
  });

  test("Given namespace/name and namespace/kind/name, When parsed, Then the namespace and kind (any spelling kubectl accepts) are taken", () => {
    expect(parseWorkloadRef("payments/ledger", "prod")).toEqual({ namespace: "payments", kind: "Deployment", name: "ledger" });
    expect(parseWorkloadRef("data/statefulset/kafka", "prod")).toEqual({ namespace: "data", kind: "StatefulSet", name: "kafka" });
    expect(parseWorkloadRef("data/sts/kafka", "prod").kind).toBe("StatefulSet");
    expect(parseWorkloadRef("kube-system/DaemonSet/fluent-bit", "prod").kind).toBe("DaemonSet");
  });

  test("Given a malformed ref, When parsed, Then an InvalidInputError says what was expected", () => {
    expect(() => parseWorkloadRef("a/b/c/d", "prod")).toThrow(/expected "name", "namespace\/name" or "namespace\/kind\/name"/);
    expect(() => parseWorkloadRef("prod/cronjob/x", "prod")).toThrow(/unknown kind "cronjob"/);
    expect(() => parseWorkloadRef("Prod/checkout", "prod")).toThrow(/namespace "Prod" is not a DNS label/);
    expect(() => parseWorkloadRef("", "prod")).toThrow(InvalidInputError);
  });

  test("Given refs, When formatted, Then the shortest string that parses back to the same ref is used", () => {
    for (const ref of [
      { namespace: "prod", kind: "Deployment", name: "checkout" },
      { namespace: "payments", kind: "Deployment", name: "ledger" },
      { namespace: "data", kind: "StatefulSet", name: "kafka" },
    ] as const) {
      expect(parseWorkloadRef(formatWorkloadRef(ref, "prod"), "prod")).toEqual(ref);
    }
    expect(formatWorkloadRef({ namespace: "prod", kind: "Deployment", name: "checkout" }, "prod")).toBe("checkout");
  });

  test("Given an object name, When parsed, Then name and namespace/name are accepted and anything else refused", () => {
    expect(parseObjectName("checkout-config", "config map")).toEqual({ name: "checkout-config" });
    expect(parseObjectName("prod/checkout-config", "config map")).toEqual({ namespace: "prod", name: "checkout-config" });
    expect(() => parseObjectName("a/b/c", "config map")).toThrow(/invalid config map "a\/b\/c"/);
  });
});
