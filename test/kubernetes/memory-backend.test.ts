import { describe, expect, it } from "vitest";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { RESOURCE_TYPES, typeOfKind } from "../../environments/cluster-api/resource-types.js";
import type { ResourceType } from "../../environments/cluster-api/backend.js";
import { CHECKOUT_FIXTURE, checkoutBackend, makeDeployment, makePod, PODS } from "../helpers/kubernetes.js";

function typeOf(apiVersion: string, kind: string): ResourceType {
  const type = typeOfKind(RESOURCE_TYPES, apiVersion, kind);
  if (type === undefined) throw new Error(`no type ${apiVersion} ${kind}`);
  return type;
}

const deployments = typeOf("apps/v1", "Deployment");
const pods = typeOf("v1", "Pod");
const noDryRun = { dryRun: false };

describe("MemoryClusterBackend", () => {
  it("Given a manifest with multi-document YAML and a kind: List When loaded Then every object is held with the identity it was given", () => {
    const backend = MemoryClusterBackend.fromManifests(CHECKOUT_FIXTURE);
    expect(backend.list(pods, "prod").map((p) => p.metadata.name)).toEqual([PODS.restarted, PODS.running, PODS.pullBackOff]);
    expect(backend.list(typeOf("v1", "Event"), undefined)).toHaveLength(3);
    expect(backend.get(deployments, "prod", "checkout")?.metadata.uid).toBe("00000000-0000-4000-8000-0000000000d1");
    expect(backend.get(deployments, "prod", "checkout")?.metadata.generation).toBe(2);
  });

  it("Given a new object When created Then uid, resourceVersion, generation 1 and creationTimestamp are assigned", () => {
    const backend = new MemoryClusterBackend({ now: () => new Date("2026-11-30T07:00:00.123Z") });
    const created = backend.apply({ verb: "create", object: makeDeployment("web") }, noDryRun);
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.resourceVersion).toBe("1");
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.creationTimestamp).toBe("2026-11-30T07:00:00Z");
  });

  it("Given YAML that is not a list of objects When loaded Then it is refused as a 400", () => {
    expect(() => MemoryClusterBackend.fromManifests("- just\n- a list\n")).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => MemoryClusterBackend.fromManifests("a: [unclosed\n")).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => MemoryClusterBackend.fromManifests("apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n")).toThrow(expect.objectContaining({ code: 400 }));
  });

  it("Given a stored object When updated Then resourceVersion moves on, and generation only when spec changed", () => {
    const backend = new MemoryClusterBackend();
    const created = backend.apply({ verb: "create", object: makeDeployment("web") }, noDryRun);
    const labelled = backend.apply({ verb: "update", object: { ...created, metadata: { ...created.metadata, labels: { app: "web", team: "a" } } } }, noDryRun);
    expect(labelled.metadata.resourceVersion).toBe("2");
    expect(labelled.metadata.generation).toBe(1);
    const scaled = backend.apply({ verb: "update", object: { ...labelled, spec: { ...(labelled["spec"] as object), replicas: 3 } } }, noDryRun);
    expect(scaled.metadata.resourceVersion).toBe("3");
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.metadata.uid).toBe(created.metadata.uid);
  });

  it("Given resourceVersions When objects of different types change Then one cluster-wide counter numbers them", () => {
    const backend = new MemoryClusterBackend();
    backend.apply({ verb: "create", object: makeDeployment("web") }, noDryRun);
    expect(backend.apply({ verb: "create", object: makePod("p") }, noDryRun).metadata.resourceVersion).toBe("2");
  });

  it.each<[string, () => void, number, string, string]>([
    ["a duplicate", () => checkoutBackend().apply({ verb: "create", object: makeDeployment("checkout") }, noDryRun), 409, "AlreadyExists", 'deployments.apps "checkout" already exists'],
    ["an update of a missing object", () => checkoutBackend().apply({ verb: "update", object: makeDeployment("nope") }, noDryRun), 404, "NotFound", 'deployments.apps "nope" not found'],
    ["a delete of a missing object", () => checkoutBackend().apply({ verb: "delete", type: pods, namespace: "prod", name: "nope" }, noDryRun), 404, "NotFound", 'pods "nope" not found'],
    ["a nameless object", () => new MemoryClusterBackend().apply({ verb: "create", object: makeDeployment("") }, noDryRun), 422, "Invalid", "metadata.name: Required value"],
    [
      "negative replicas",
      () => new MemoryClusterBackend().apply({ verb: "create", object: makeDeployment("web", { spec: { replicas: -1 } }) }, noDryRun),
      422,
      "Invalid",
      'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1',
    ],
    ["a name that is not a DNS subdomain", () => new MemoryClusterBackend().apply({ verb: "create", object: makeDeployment("Bad_Name") }, noDryRun), 422, "Invalid", "a lowercase RFC 1123 subdomain"],
    [
      "a namespaced object without a namespace",
      () => new MemoryClusterBackend().apply({ verb: "create", object: makePod("p", {}, { metadata: { name: "p" } }) }, noDryRun),
      422,
      "Invalid",
      "metadata.namespace",
    ],
  ])("Given %s When applied Then it is refused %i %s", (_name, change, code, reason, message) => {
    expect(change).toThrow(expect.objectContaining({ code, reason, message: expect.stringContaining(message) as unknown as string }) as unknown);
  });

  it("Given dryRun When create, update and delete are applied Then the answers look applied and nothing changed", () => {
    const backend = checkoutBackend();
    const before = JSON.stringify(backend.list(deployments, undefined));
    const dryRun = { dryRun: true };
    expect(backend.apply({ verb: "create", object: makeDeployment("web") }, dryRun).metadata.name).toBe("web");
    const current = backend.get(deployments, "prod", "checkout")!;
    expect(backend.apply({ verb: "update", object: { ...current, spec: { ...(current["spec"] as object), replicas: 5 } } }, dryRun)["spec"]).toMatchObject({ replicas: 5 });
    expect(backend.apply({ verb: "delete", type: deployments, namespace: "prod", name: "checkout" }, dryRun).metadata.name).toBe("checkout");
    expect(JSON.stringify(backend.list(deployments, undefined))).toBe(before);
  });

  it("Given seeded logs When read with tailLines, previous and timestamps Then each option is honoured", () => {
    const backend = checkoutBackend();
    expect(backend.podLog("prod", PODS.running, {})).toBe("listening on :8080\nGET /cart 200\nGET /pay 200\n");
    expect(backend.podLog("prod", PODS.running, { tailLines: 1 })).toBe("GET /pay 200\n");
    expect(backend.podLog("prod", PODS.restarted, { previous: true })).toContain("fatal: out of memory");
    expect(backend.podLog("prod", PODS.running, { timestamps: true, tailLines: 1 })).toMatch(/^\d{4}-\d\d-\d\dT\S+Z GET \/pay 200\n$/);
    expect(backend.podLog("prod", PODS.pullBackOff, {})).toBe("");
  });

  it("Given log requests for what does not exist Then they are refused", () => {
    const backend = checkoutBackend();
    expect(() => backend.podLog("prod", "nope", {})).toThrow('pods "nope" not found');
    expect(() => backend.podLog("prod", PODS.running, { container: "sidecar" })).toThrow(expect.objectContaining({ code: 404 }) as unknown);
    expect(() => backend.podLog("prod", PODS.running, { previous: true })).toThrow(expect.objectContaining({ code: 400 }) as unknown);
  });
});
