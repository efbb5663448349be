import { describe, expect, it } from "vitest";
import { requestVerb, ruleAllows, rulesAllow, rulesFromManifest, type PolicyRule, type RbacRequest } from "../../environments/cluster-api/rbac.js";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { RBAC_MANIFEST } from "../helpers/kubernetes.js";

/** A request in prod for `verb` on `resource` of `apiGroup`. */
function request(verb: string, apiGroup: string, resource: string, extra: Partial<RbacRequest> = {}): RbacRequest {
  return { verb, apiGroup, resource, namespace: "prod", ...extra };
}

describe("the RBAC verb of an HTTP request", () => {
  it.each<[string, boolean, boolean, string]>([
    ["GET", true, false, "get"],
    ["GET", false, false, "list"],
    ["GET", false, true, "watch"],
    ["POST", false, false, "create"],
    ["PUT", true, false, "update"],
    ["PATCH", true, false, "patch"],
    ["DELETE", true, false, "delete"],
    ["DELETE", false, false, "deletecollection"],
  ])("Given %s (named=%s, watch=%s) Then the verb is %s", (method, named, watch, verb) => {
    expect(requestVerb(method, { named, watch })).toBe(verb);
  });
});

describe("PolicyRule matching", () => {
  const scaleDeployments: PolicyRule = { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get", "patch"] };

  it.each<[string, PolicyRule, RbacRequest, boolean]>([
    ["exact rule", { apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"] }, request("patch", "apps", "deployments"), true],
    ["other verb", { apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"] }, request("delete", "apps", "deployments"), false],
    ["other group", { apiGroups: [""], resources: ["deployments"], verbs: ["patch"] }, request("patch", "apps", "deployments"), false],
    ["subresource granted", scaleDeployments, request("patch", "apps", "deployments", { subresource: "scale" }), true],
    ["subresource rule does not grant the resource", scaleDeployments, request("patch", "apps", "deployments"), false],
    ["resource rule does not grant a subresource", { apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"] }, request("patch", "apps", "deployments", { subresource: "scale" }), false],
    ["*/scale", { apiGroups: ["apps"], resources: ["*/scale"], verbs: ["patch"] }, request("patch", "apps", "statefulsets", { subresource: "scale" }), true],
    ["all wildcards", { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, request("deletecollection", "batch", "jobs"), true],
    ["resourceNames match", { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] }, request("get", "", "configmaps", { name: "a" }), true],
    ["resourceNames miss", { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] }, request("get", "", "configmaps", { name: "b" }), false],
    ["resourceNames never grant a list", { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["list"] }, request("list", "", "configmaps"), false],
    ["RoleBinding namespace", { apiGroups: [""], resources: ["pods"], verbs: ["get"], namespace: "prod" }, request("get", "", "pods", { namespace: "staging" }), false],
  ])("Given %s When the request is checked Then allowed=%s", (_name, rule, wanted, allowed) => {
    expect(ruleAllows(rule, wanted)).toBe(allowed);
  });
});

describe("rulesFromManifest on Suture's deploy/kubernetes/rbac.yaml", () => {
  const rules = rulesFromManifest(RBAC_MANIFEST);

  it.each<[string, RbacRequest]>([
    ["list pods anywhere", request("list", "", "pods", { namespace: "staging" })],
    ["read pod logs", request("get", "", "pods", { subresource: "log", name: "p" })],
    ["watch events", request("watch", "", "events")],
    ["list nodes (cluster-scoped)", { verb: "list", apiGroup: "", resource: "nodes" }],
    ["patch deployments in prod", request("patch", "apps", "deployments", { name: "checkout" })],
    ["patch deployments/scale in prod", request("patch", "apps", "deployments", { subresource: "scale", name: "checkout" })],
    ["create networkpolicies in prod", request("create", "networking.k8s.io", "networkpolicies")],
    ["create jobs in prod", request("create", "batch", "jobs")],
  ])("Given the shipped manifest Then Suture may %s", (_name, wanted) => {
    expect(rulesAllow(rules, wanted)).toBe(true);
  });

  // Resolving an alert's target reads these in any namespace, including ones Suture may not change.
  it.each<[string, string]>([
    ["", "pods"],
    ["apps", "replicasets"],
    ["apps", "deployments"],
    ["apps", "statefulsets"],
    ["apps", "daemonsets"],
    ["batch", "jobs"],
    ["batch", "cronjobs"],
    ["autoscaling", "horizontalpodautoscalers"],
    ["", "persistentvolumeclaims"],
  ])("Given the shipped manifest Then target resolution may get and list %s/%s in a namespace without a remediator binding", (apiGroup, resource) => {
    expect(rulesAllow(rules, request("get", apiGroup, resource, { namespace: "staging", name: "x" }))).toBe(true);
    expect(rulesAllow(rules, request("list", apiGroup, resource, { namespace: "staging" }))).toBe(true);
  });

  it.each<[string, RbacRequest]>([
    ["create jobs outside a bound namespace", request("create", "batch", "jobs", { namespace: "staging" })],
    ["delete jobs", request("delete", "batch", "jobs", { name: "j" })],
    ["patch cronjobs", request("patch", "batch", "cronjobs", { name: "c" })],
    ["delete deployments", request("delete", "apps", "deployments", { name: "checkout" })],
    ["patch deployments outside a bound namespace", request("patch", "apps", "deployments", { namespace: "staging", name: "checkout" })],
    ["read secrets", request("get", "", "secrets", { name: "db" })],
    ["list secrets", request("list", "", "secrets")],
    ["delete pods", request("delete", "", "pods", { name: "p" })],
    ["create deployments", request("create", "apps", "deployments")],
    ["update deployments", request("update", "apps", "deployments", { name: "checkout" })],
  ])("Given the shipped manifest Then Suture may not %s", (_name, wanted) => {
    expect(rulesAllow(rules, wanted)).toBe(false);
  });

  it("Given the shipped manifest When loaded into the simulated cluster Then its ServiceAccount, roles and bindings are objects there", () => {
    const backend = MemoryClusterBackend.fromManifests(RBAC_MANIFEST);
    const names = (plural: string): Array<string | undefined> =>
      backend
        .list(
          backend.types().find((t) => t.plural === plural)!,
          undefined,
        )
        .map((o) => o.metadata.name);
    expect(names("serviceaccounts")).toEqual(["suture"]);
    expect(names("clusterroles")).toEqual(["suture-observer", "suture-remediator"]);
    expect(names("clusterrolebindings")).toEqual(["suture-observer"]);
    expect(names("rolebindings")).toEqual(["suture-remediator"]);
  });

  it("Given the shipped manifest Then no rule names secrets or a wildcard", () => {
    const named = rules.flatMap((rule) => [...(rule.resources ?? []), ...(rule.apiGroups ?? []), ...rule.verbs]);
    expect(named).not.toContain("secrets");
    expect(named).not.toContain("*");
  });

  it("Given another subject When its rules are read Then nothing is granted", () => {
    expect(rulesFromManifest(RBAC_MANIFEST, { namespace: "default", name: "someone" })).toEqual([]);
  });

  it("Given a Role bound by a RoleBinding When read Then its rules apply only in that namespace", () => {
    const manifest = `
apiVersion: v1
kind: ServiceAccount
metadata: { name: bot, namespace: ops }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: reader, namespace: team }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader, namespace: team }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader }
subjects: [{ kind: ServiceAccount, name: bot, namespace: ops }]
`;
    const granted = rulesFromManifest(manifest);
    expect(granted).toEqual([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], namespace: "team" }]);
    expect(rulesAllow(granted, request("get", "", "configmaps", { namespace: "team" }))).toBe(true);
    expect(rulesAllow(granted, request("get", "", "configmaps", { namespace: "ops" }))).toBe(false);
  });
});
