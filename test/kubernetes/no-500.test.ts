import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KubeApiError } from "../../environments/cluster-api/backend.js";
import { PATCH_CONTENT_TYPES } from "../../environments/cluster-api/patch.js";
import { parseRequestPath } from "../../environments/cluster-api/request-path.js";
import { handleResourceRequest } from "../../environments/cluster-api/resource-handlers.js";
import { checkoutBackend } from "../helpers/kubernetes.js";

const PATHS = [
  "/apis/apps/v1/namespaces/prod/deployments",
  "/apis/apps/v1/namespaces/prod/deployments/checkout",
  "/apis/apps/v1/namespaces/prod/deployments/checkout/scale",
  "/apis/apps/v1/namespaces/prod/deployments/checkout/status",
  "/api/v1/namespaces/prod/pods/checkout-6b7f9d5c48-x2x9p/log",
  "/api/v1/namespaces/prod/configmaps/checkout-config",
  "/api/v1/nodes/node-1",
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const CONTENT_TYPES = [...Object.values(PATCH_CONTENT_TYPES), "application/json", undefined];

/** A JSON body shaped roughly like an object or a patch, so the handlers get past the first checks. */
const body = fc.oneof(
  fc.json(),
  fc
    .record({
      apiVersion: fc.constantFrom("apps/v1", "v1", 7),
      kind: fc.constantFrom("Deployment", "ConfigMap", null),
      metadata: fc.oneof(fc.object(), fc.record({ name: fc.constantFrom("checkout", "", 3) })),
      spec: fc.anything(),
    })
    .map((v) => JSON.stringify(v)),
  fc
    .array(
      fc.record({
        op: fc.constantFrom("add", "remove", "replace", "move", "copy", "test"),
        path: fc.constantFrom("", "/", "/spec", "/spec/replicas", "/metadata/labels/x", "/spec/template/spec/containers/-", "/x/0"),
        value: fc.jsonValue(),
        from: fc.constantFrom("/spec", "/nope"),
      }),
    )
    .map((v) => JSON.stringify(v)),
  fc.string(),
);
const query = fc.dictionary(fc.constantFrom("labelSelector", "fieldSelector", "dryRun", "tailLines", "watch", "includeObject", "previous"), fc.string({ maxLength: 12 }));

describe("the resource handlers never fail with anything but a KubeApiError", () => {
  it("Given random methods, paths, bodies, content types and queries When handled Then each answers or throws a KubeApiError (a 4xx)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), fc.constantFrom(...PATHS), body, fc.constantFrom(...CONTENT_TYPES), query, (method, pathname, text, contentType, params) => {
        const backend = checkoutBackend();
        const path = parseRequestPath(pathname, backend.types());
        if (path === undefined || path.kind !== "resource") throw new Error(`not a resource path: ${pathname}`);
        try {
          handleResourceRequest(backend, { method, path, query: new URLSearchParams(params), accept: undefined, contentType, body: text, now: new Date() });
        } catch (error) {
          expect(error).toBeInstanceOf(KubeApiError);
          expect((error as KubeApiError).code).toBeLessThan(500);
        }
      }),
      { numRuns: 600 },
    );
  });
});
