import { describe, expect, it } from "vitest";
import { applyJsonPatch, applyMergePatch, applyPatch, applyStrategicMergePatch, PATCH_CONTENT_TYPES } from "../../environments/cluster-api/patch.js";

/** A pod spec with two containers, volumes, env and ports: what strategic merge patches target. */
function podSpec(): Record<string, unknown> {
  return {
    containers: [
      {
        name: "app",
        image: "app:1",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
        ports: [{ containerPort: 8080, protocol: "TCP" }],
        volumeMounts: [{ name: "data", mountPath: "/data" }],
      },
      { name: "sidecar", image: "proxy:1" },
    ],
    volumes: [{ name: "data", emptyDir: {} }],
    tolerations: [{ key: "a", operator: "Exists" }],
  };
}

describe("JSON merge patch (RFC 7386)", () => {
  it.each<[string, unknown, unknown, unknown]>([
    ["replaces a value", { a: "b" }, { a: "c" }, { a: "c" }],
    ["adds a key", { a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    ["null deletes a key", { a: "b" }, { a: null }, {}],
    ["null deletes only its key", { a: "b", b: "c" }, { a: null }, { b: "c" }],
    ["arrays are replaced", { a: ["b"] }, { a: ["c"] }, { a: ["c"] }],
    ["nested objects merge", { a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    ["a non-object patch replaces", { a: "c" }, ["c"], ["c"]],
    ["a scalar target becomes an object", { a: "foo" }, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])("Given a document When a merge patch that %s is applied Then RFC 7386's result", (_name, target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it("Given a document When patched Then the original is untouched", () => {
    const original = { a: { b: 1 } };
    applyMergePatch(original, { a: { b: 2 } });
    expect(original).toEqual({ a: { b: 1 } });
  });
});

describe("JSON patch (RFC 6902)", () => {
  const doc = { spec: { replicas: 2, list: ["a", "b"] }, metadata: { annotations: { "x/y": "1" } } };

  it.each<[string, unknown[], unknown]>([
    ["add to an object", [{ op: "add", path: "/spec/paused", value: true }], { ...doc, spec: { ...doc.spec, paused: true } }],
    ["add to the end of an array", [{ op: "add", path: "/spec/list/-", value: "c" }], { ...doc, spec: { ...doc.spec, list: ["a", "b", "c"] } }],
    ["add into an array", [{ op: "add", path: "/spec/list/0", value: "z" }], { ...doc, spec: { ...doc.spec, list: ["z", "a", "b"] } }],
    ["remove", [{ op: "remove", path: "/spec/list/0" }], { ...doc, spec: { ...doc.spec, list: ["b"] } }],
    ["replace with an escaped key", [{ op: "replace", path: "/metadata/annotations/x~1y", value: "2" }], { ...doc, metadata: { annotations: { "x/y": "2" } } }],
    ["move", [{ op: "move", from: "/spec/replicas", path: "/spec/count" }], { ...doc, spec: { list: ["a", "b"], count: 2 } }],
    ["copy", [{ op: "copy", from: "/spec/replicas", path: "/spec/count" }], { ...doc, spec: { ...doc.spec, count: 2 } }],
    [
      "test then replace",
      [
        { op: "test", path: "/spec/replicas", value: 2 },
        { op: "replace", path: "/spec/replicas", value: 3 },
      ],
      { ...doc, spec: { ...doc.spec, replicas: 3 } },
    ],
  ])("Given a document When the operations %s apply Then the result is RFC 6902's", (_name, patch, expected) => {
    expect(applyJsonPatch(doc, patch)).toEqual(expected);
  });

  it("Given a failing test op When applied Then it is a 422 Invalid and nothing changes", () => {
    expect(() =>
      applyJsonPatch(doc, [
        { op: "replace", path: "/spec/replicas", value: 9 },
        { op: "test", path: "/spec/replicas", value: 2 },
      ]),
    ).toThrow(expect.objectContaining({ code: 422, reason: "Invalid" }) as unknown);
    expect(doc.spec.replicas).toBe(2);
  });

  it.each<[string, unknown, number]>([
    ["replace of a missing path", [{ op: "replace", path: "/spec/missing", value: 1 }], 422],
    ["remove of a missing path", [{ op: "remove", path: "/nope/deeper" }], 422],
    ["a patch that is not an array", { op: "add" }, 400],
    ["an unknown op", [{ op: "frobnicate", path: "/a" }], 400],
    ["a path without a leading slash", [{ op: "add", path: "a", value: 1 }], 400],
  ])("Given %s When applied Then it is refused with %i", (_name, patch, code) => {
    expect(() => applyJsonPatch(doc, patch)).toThrow(expect.objectContaining({ code }) as unknown);
  });
});

describe("strategic merge patch (what kubectl sends)", () => {
  it("Given containers When one is patched by name Then it merges and the other is kept", () => {
    const result = applyStrategicMergePatch({ spec: podSpec() }, { spec: { containers: [{ name: "app", image: "app:2" }] } }) as { spec: ReturnType<typeof podSpec> };
    expect(result.spec["containers"]).toEqual([
      { ...(podSpec()["containers"] as object[])[0], image: "app:2" },
      { name: "sidecar", image: "proxy:1" },
    ]);
  });

  it("Given env and ports When patched by their merge keys Then entries merge, new ones append", () => {
    const patch = {
      containers: [
        {
          name: "app",
          env: [
            { name: "B", value: "3" },
            { name: "C", value: "4" },
          ],
          ports: [{ containerPort: 9090 }],
        },
      ],
    };
    const [app] = (applyStrategicMergePatch(podSpec(), patch) as { containers: Array<Record<string, unknown>> }).containers;
    expect(app?.["env"]).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "3" },
      { name: "C", value: "4" },
    ]);
    expect(app?.["ports"]).toEqual([{ containerPort: 8080, protocol: "TCP" }, { containerPort: 9090 }]);
  });

  it("Given `$patch: delete` on a list element Then that element is removed", () => {
    const result = applyStrategicMergePatch(podSpec(), { containers: [{ name: "sidecar", $patch: "delete" }], volumes: [{ name: "data", $patch: "delete" }] }) as Record<string, unknown[]>;
    expect(result["containers"]?.map((c) => (c as { name: string }).name)).toEqual(["app"]);
    expect(result["volumes"]).toEqual([]);
  });

  it("Given `$patch: replace` in a list Then the list is the patch's elements", () => {
    const result = applyStrategicMergePatch(podSpec(), { volumes: [{ $patch: "replace" }, { name: "cache", emptyDir: {} }] }) as Record<string, unknown>;
    expect(result["volumes"]).toEqual([{ name: "cache", emptyDir: {} }]);
  });

  it("Given `$patch: replace` on a map Then the map is replaced, not merged", () => {
    expect(applyStrategicMergePatch({ metadata: { labels: { a: "1", b: "2" } } }, { metadata: { labels: { $patch: "replace", c: "3" } } })).toEqual({ metadata: { labels: { c: "3" } } });
  });

  it("Given `$patch: delete` on a map Then the key is gone", () => {
    expect(applyStrategicMergePatch({ spec: { strategy: { type: "Recreate" }, replicas: 1 } }, { spec: { strategy: { $patch: "delete" } } })).toEqual({ spec: { replicas: 1 } });
  });

  it("Given tolerations (patchStrategy replace) When patched Then the list is replaced", () => {
    const result = applyStrategicMergePatch(podSpec(), { tolerations: [{ key: "b", operator: "Exists" }] }) as Record<string, unknown>;
    expect(result["tolerations"]).toEqual([{ key: "b", operator: "Exists" }]);
  });

  it("Given ownerReferences When patched by uid Then the matching reference merges", () => {
    const original = {
      metadata: {
        ownerReferences: [
          { uid: "u1", name: "a", controller: true },
          { uid: "u2", name: "b" },
        ],
      },
    };
    expect(applyStrategicMergePatch(original, { metadata: { ownerReferences: [{ uid: "u1", controller: false }] } })).toEqual({
      metadata: {
        ownerReferences: [
          { uid: "u1", name: "a", controller: false },
          { uid: "u2", name: "b" },
        ],
      },
    });
  });

  it("Given null for a key Then the key is deleted", () => {
    expect(applyStrategicMergePatch({ metadata: { annotations: { a: "1", b: "2" } } }, { metadata: { annotations: { a: null } } })).toEqual({ metadata: { annotations: { b: "2" } } });
  });

  it("Given `$retainKeys` Then keys not listed are dropped after the merge", () => {
    const original = { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } };
    expect(applyStrategicMergePatch(original, { strategy: { $retainKeys: ["type"], type: "Recreate" } })).toEqual({ strategy: { type: "Recreate" } });
  });

  it("Given `$setElementOrder` directives (kubectl apply) Then they are tolerated and ignored", () => {
    const patch = { "$setElementOrder/containers": [{ name: "app" }, { name: "sidecar" }], containers: [{ name: "app", image: "app:3" }] };
    const result = applyStrategicMergePatch(podSpec(), patch) as Record<string, unknown>;
    expect(Object.keys(result).some((key) => key.startsWith("$setElementOrder/"))).toBe(false);
    expect((result["containers"] as Array<{ image: string }>).map((c) => c.image)).toEqual(["app:3", "proxy:1"]);
  });

  it("Given `$deleteFromPrimitiveList` Then those values leave the list", () => {
    expect(applyStrategicMergePatch({ metadata: { finalizers: ["a", "b", "c"] } }, { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } })).toEqual({ metadata: { finalizers: ["a", "c"] } });
  });

  it("Given kubectl rollout restart's patch Then the template annotation is added and nothing else changes", () => {
    const deployment = { spec: { replicas: 2, template: { metadata: { labels: { app: "x" } }, spec: podSpec() } } };
    const patch = { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-30T07:00:00Z" } } } } };
    expect(applyStrategicMergePatch(deployment, patch)).toEqual({
      spec: { replicas: 2, template: { metadata: { labels: { app: "x" }, annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-30T07:00:00Z" } }, spec: podSpec() } },
    });
  });
});

describe("applyPatch by content type", () => {
  it("Given each content type When applied Then the matching algorithm runs", () => {
    const doc = {
      spec: {
        containers: [
          { name: "a", image: "1" },
          { name: "b", image: "1" },
        ],
      },
    };
    const containersPatch = { spec: { containers: [{ name: "a", image: "2" }] } };
    expect(applyPatch(PATCH_CONTENT_TYPES.strategic, doc, containersPatch)).toEqual({
      spec: {
        containers: [
          { name: "a", image: "2" },
          { name: "b", image: "1" },
        ],
      },
    });
    expect(applyPatch(PATCH_CONTENT_TYPES.merge, doc, containersPatch)).toEqual(containersPatch);
    expect(applyPatch(PATCH_CONTENT_TYPES.json, doc, [{ op: "replace", path: "/spec/containers/1/image", value: "3" }])).toEqual({
      spec: {
        containers: [
          { name: "a", image: "1" },
          { name: "b", image: "3" },
        ],
      },
    });
  });
});
