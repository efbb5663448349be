import { describe, expect, it } from "vitest";
import type { V1LabelSelector } from "@kubernetes/client-node";
import { KubeApiError } from "../../environments/cluster-api/backend.js";
import { formatLabelSelector, matchesFields, matchesLabels, matchesLabelSelector, parseFieldSelector, parseLabelSelector } from "../../environments/cluster-api/selectors.js";
import { makePod } from "../helpers/kubernetes.js";

const web = { app: "web", tier: "frontend" };
const worker = { app: "worker" };

describe("label selectors (labelSelector=…)", () => {
  it.each<[string, boolean, boolean]>([
    ["app=web", true, false],
    ["app==web", true, false],
    ["app!=web", false, true],
    ["app in (web, api)", true, false],
    ["app notin (web,api)", false, true],
    ["tier", true, false],
    ["!tier", false, true],
    ["app in (web,worker),tier=frontend", true, false],
    ["tier notin (backend)", true, true],
    ["tier!=backend", true, true],
    ["", true, true],
  ])("Given the selector %j When web and worker labels are matched Then web=%s worker=%s", (selector, webMatches, workerMatches) => {
    const requirements = parseLabelSelector(selector);
    expect(matchesLabels(requirements, web)).toBe(webMatches);
    expect(matchesLabels(requirements, worker)).toBe(workerMatches);
  });

  it("Given an object without labels When `!=` and `notin` are matched Then they hold, as in Kubernetes", () => {
    expect(matchesLabels(parseLabelSelector("app!=web,app notin (x)"), undefined)).toBe(true);
    expect(matchesLabels(parseLabelSelector("app=web"), undefined)).toBe(false);
  });

  it("Given `app=` When parsed Then it requires an empty value (legal in Kubernetes)", () => {
    expect(parseLabelSelector("app=")).toEqual([{ key: "app", operator: "=", value: "" }]);
  });

  it.each(["=web", "app in web", "a b=c", "app=we b"])("Given the malformed selector %j When parsed Then it is a 400 BadRequest", (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(expect.objectContaining({ code: 400, reason: "BadRequest" }) as unknown);
  });
});

describe("V1LabelSelector matching (matchLabels + matchExpressions)", () => {
  it.each<[string, V1LabelSelector | undefined, boolean, boolean]>([
    ["matchLabels", { matchLabels: { app: "web" } }, true, false],
    ["In", { matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] }, true, false],
    ["NotIn", { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, false, true],
    ["Exists", { matchExpressions: [{ key: "tier", operator: "Exists" }] }, true, false],
    ["DoesNotExist", { matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, false, true],
    ["both, ANDed", { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["backend"] }] }, false, false],
    ["empty selects everything", {}, true, true],
    ["absent selects nothing", undefined, false, false],
  ])("Given %s When matched against web and worker labels Then web=%s worker=%s", (_name, selector, webMatches, workerMatches) => {
    expect(matchesLabelSelector(selector, web)).toBe(webMatches);
    expect(matchesLabelSelector(selector, worker)).toBe(workerMatches);
  });

  it("Given a selector When formatted Then it reads as kubectl prints it", () => {
    expect(
      formatLabelSelector({
        matchLabels: { app: "web" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["a", "b"] },
          { key: "canary", operator: "DoesNotExist" },
        ],
      }),
    ).toBe("app=web,tier in (a,b),!canary");
    expect(formatLabelSelector({})).toBe("<none>");
  });
});

describe("field selectors (fieldSelector=…)", () => {
  const running = makePod("a", {}, { spec: { nodeName: "node-1", containers: [] }, status: { phase: "Running" } });
  const pending = makePod("b", {}, { status: { phase: "Pending" } });

  it.each<[string, boolean, boolean]>([
    ["status.phase=Running", true, false],
    ["status.phase!=Running", false, true],
    ["metadata.name==b", false, true],
    ["metadata.namespace=prod,spec.nodeName=node-1", true, false],
    ["spec.nodeName=", false, true],
  ])("Given pods When %j is matched Then running=%s pending=%s", (selector, runningMatches, pendingMatches) => {
    const requirements = parseFieldSelector(selector, "Pod");
    expect(matchesFields(requirements, running)).toBe(runningMatches);
    expect(matchesFields(requirements, pending)).toBe(pendingMatches);
  });

  it("Given events When selected by involvedObject, type and reason Then only the matching one is kept", () => {
    const event = { apiVersion: "v1", kind: "Event", metadata: { name: "e" }, involvedObject: { kind: "Pod", name: "p", namespace: "prod", uid: "u1" }, type: "Warning", reason: "BackOff" };
    expect(matchesFields(parseFieldSelector("involvedObject.kind=Pod,involvedObject.name=p,involvedObject.namespace=prod,involvedObject.uid=u1", "Event"), event)).toBe(true);
    expect(matchesFields(parseFieldSelector("type=Warning,reason=BackOff", "Event"), event)).toBe(true);
    expect(matchesFields(parseFieldSelector("involvedObject.name=q", "Event"), event)).toBe(false);
  });

  it("Given a field Kubernetes does not index for the kind When parsed Then it is 400 'field label not supported'", () => {
    const parse = (): unknown => parseFieldSelector("spec.replicas=2", "Deployment");
    expect(parse).toThrow(KubeApiError);
    expect(parse).toThrow("field label not supported: spec.replicas");
    expect(() => parseFieldSelector("status.phase=Running", "Deployment")).toThrow(expect.objectContaining({ code: 400 }) as unknown);
  });
});
