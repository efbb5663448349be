import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, NetworkingV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from "@kubernetes/client-node";
import type { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import type { ClusterApiServer } from "../../environments/cluster-api/server.js";
import { PODS, REPLICA_SETS, startCheckoutServer, SUTURE_USER } from "../helpers/kubernetes.js";

/** The Kubernetes Status body of a failed client call (client-node v2 keeps it as a JSON string). */
interface FailedCall {
  code: number;
  status: { kind?: string; status?: string; reason?: string; message?: string; code?: number };
}

async function failure(call: Promise<unknown>): Promise<FailedCall> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = error.body;
    return { code: error.code, status: (typeof body === "string" ? JSON.parse(body) : body) as FailedCall["status"] };
  }
  throw new Error("the call succeeded; a failure was expected");
}

/** Clients of the typed APIs for a server. */
function clientsFor(server: ClusterApiServer): { core: CoreV1Api; apps: AppsV1Api; networking: NetworkingV1Api } {
  const config = new KubeConfig();
  config.loadFromString(server.kubeconfig({ namespace: "prod" }));
  return { core: config.makeApiClient(CoreV1Api), apps: config.makeApiClient(AppsV1Api), networking: config.makeApiClient(NetworkingV1Api) };
}

function image(deployment: V1Deployment): string | undefined {
  return deployment.spec?.template.spec?.containers[0]?.image;
}

const namespace = "prod";

describe("the simulated API server through @kubernetes/client-node", () => {
  let server: ClusterApiServer;
  let backend: MemoryClusterBackend;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let networking: NetworkingV1Api;

  beforeEach(async () => {
    ({ server, backend } = await startCheckoutServer());
    ({ core, apps, networking } = clientsFor(server));
  });
  afterEach(async () => {
    await server.close();
  });

  it("Given the fixture When a Deployment is read Then it comes back whole, with its resourceVersion", async () => {
    const deployment = await apps.readNamespacedDeployment({ name: "checkout", namespace });
    expect(deployment.metadata?.uid).toBe("00000000-0000-4000-8000-0000000000d1");
    expect(deployment.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(image(deployment)).toBe("registry.example.com/checkout:1.4.1");
  });

  it("Given pods When listed with label selectors Then only the matching ones come back, in a PodList", async () => {
    const revision2 = await core.listNamespacedPod({ namespace, labelSelector: "app=checkout,pod-template-hash in (85d4c7b9f7)" });
    expect(revision2.items.map((p) => p.metadata?.name)).toEqual([PODS.pullBackOff]);
    expect(revision2.kind).toBe("PodList");
    expect(revision2.metadata?.resourceVersion).toMatch(/^\d+$/);
    const notRevision2 = await core.listNamespacedPod({ namespace, labelSelector: "pod-template-hash!=85d4c7b9f7" });
    expect(notRevision2.items.map((p) => p.metadata?.name)).toEqual([PODS.restarted, PODS.running]);
    const waiting = revision2.items[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
    expect(waiting).toBe("ImagePullBackOff");
  });

  it("Given pods and events When listed with field selectors Then the server filters them", async () => {
    const running = await core.listNamespacedPod({ namespace, fieldSelector: "status.phase=Running" });
    expect(running.items.map((p) => p.metadata?.name)).toEqual([PODS.restarted, PODS.running]);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${PODS.pullBackOff}` });
    expect(events.items.map((e) => e.reason)).toEqual(["Failed", "BackOff"]);
    const everywhere = await core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=node-1" });
    expect(everywhere.items).toHaveLength(3);
  });

  it("Given an unsupported field selector When listing Then the answer is 400 'field label not supported'", async () => {
    const failed = await failure(apps.listNamespacedDeployment({ namespace, fieldSelector: "spec.replicas=2" }));
    expect(failed.code).toBe(400);
    expect(failed.status).toMatchObject({ kind: "Status", status: "Failure", reason: "BadRequest", message: "field label not supported: spec.replicas" });
  });

  it("Given a missing Deployment When read Then 404 with Kubernetes' message", async () => {
    const failed = await failure(apps.readNamespacedDeployment({ name: "nope", namespace }));
    expect(failed.code).toBe(404);
    expect(failed.status).toMatchObject({ reason: "NotFound", message: 'deployments.apps "nope" not found', code: 404 });
  });

  it("Given a strategic merge patch When the image is changed by container name Then only that field changes and generation moves", async () => {
    const before = await apps.readNamespacedDeployment({ name: "checkout", namespace });
    const patched = await apps.patchNamespacedDeployment(
      { name: "checkout", namespace, body: { spec: { template: { spec: { containers: [{ name: "checkout", image: "registry.example.com/checkout:1.4.2" }] } } } } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    expect(image(patched)).toBe("registry.example.com/checkout:1.4.2");
    expect(patched.spec?.template.spec?.containers[0]?.env).toEqual(before.spec?.template.spec?.containers[0]?.env);
    expect(patched.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
  });

  it("Given a JSON merge patch When labels are set and one removed Then the merge is RFC 7386's", async () => {
    const patched = await apps.patchNamespacedDeployment(
      { name: "checkout", namespace, body: { metadata: { labels: { app: null, team: "payments" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.labels).toEqual({ team: "payments" });
  });

  it("Given a JSON patch with a test When the test holds Then the replace applies, and when it fails Then 422 and nothing changes", async () => {
    const ops = (expected: number): object[] => [
      { op: "test", path: "/spec/replicas", value: expected },
      { op: "replace", path: "/spec/replicas", value: 4 },
    ];
    const patched = await apps.patchNamespacedDeployment({ name: "checkout", namespace, body: ops(2) }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
    expect(patched.spec?.replicas).toBe(4);
    const failed = await failure(apps.patchNamespacedDeployment({ name: "checkout", namespace, body: ops(2) }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch)));
    expect(failed.code).toBe(422);
    expect((await apps.readNamespacedDeployment({ name: "checkout", namespace })).spec?.replicas).toBe(4);
  });

  it("Given the scale subresource When read and patched Then it is an autoscaling/v1 Scale and spec.replicas follows", async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: "checkout", namespace });
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 2 }, status: { replicas: 3, selector: "app=checkout" } });
    const scaled = await apps.patchNamespacedDeploymentScale({ name: "checkout", namespace, body: { spec: { replicas: 5 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect(scaled.spec?.replicas).toBe(5);
    expect((await apps.readNamespacedDeployment({ name: "checkout", namespace })).spec?.replicas).toBe(5);
    const replaced = await apps.replaceNamespacedReplicaSetScale({
      name: REPLICA_SETS.revision1,
      namespace,
      body: { ...scale, metadata: { name: REPLICA_SETS.revision1, namespace }, spec: { replicas: 0 } },
    });
    expect(replaced.spec?.replicas).toBe(0);
  });

  it("Given a negative scale When patched Then 422 Invalid", async () => {
    const failed = await failure(apps.patchNamespacedDeploymentScale({ name: "checkout", namespace, body: { spec: { replicas: -1 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    expect(failed.code).toBe(422);
    expect(failed.status.message).toContain("spec.replicas: Invalid value: -1");
  });

  it("Given a pod's logs When read with container, tailLines and previous Then the seeded text comes back as plain text", async () => {
    expect(await core.readNamespacedPodLog({ name: PODS.running, namespace })).toBe("listening on :8080\nGET /cart 200\nGET /pay 200\n");
    expect(await core.readNamespacedPodLog({ name: PODS.running, namespace, container: "checkout", tailLines: 2 })).toBe("GET /cart 200\nGET /pay 200\n");
    expect(await core.readNamespacedPodLog({ name: PODS.restarted, namespace, previous: true })).toContain("fatal: out of memory");
  });

  it("Given dryRun=All When every kind of write is sent Then each answers as if applied and nothing changes", async () => {
    const before = JSON.stringify(await apps.listNamespacedDeployment({ namespace }));
    const networkPoliciesBefore = JSON.stringify(await networking.listNamespacedNetworkPolicy({ namespace }));
    const dryRun = "All";
    const patched = await apps.patchNamespacedDeployment({ name: "checkout", namespace, dryRun, body: { spec: { replicas: 9 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect(patched.spec?.replicas).toBe(9);
    const scaled = await apps.patchNamespacedDeploymentScale({ name: "checkout", namespace, dryRun, body: { spec: { replicas: 9 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect(scaled.spec?.replicas).toBe(9);
    const current = await apps.readNamespacedDeployment({ name: "checkout", namespace });
    await apps.replaceNamespacedDeployment({ name: "checkout", namespace, dryRun, body: { ...current, spec: { ...current.spec!, replicas: 9 } } });
    await apps.deleteNamespacedDeployment({ name: "checkout", namespace, dryRun });
    await networking.createNamespacedNetworkPolicy({ namespace, dryRun, body: { metadata: { name: "quarantine" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } } });
    expect(JSON.stringify(await apps.listNamespacedDeployment({ namespace }))).toBe(before);
    expect(JSON.stringify(await networking.listNamespacedNetworkPolicy({ namespace }))).toBe(networkPoliciesBefore);
  });

  it("Given a stale resourceVersion When the Deployment is replaced or patched Then 409 Conflict with Kubernetes' exact message", async () => {
    const stale = await apps.readNamespacedDeployment({ name: "checkout", namespace });
    await apps.patchNamespacedDeployment({ name: "checkout", namespace, body: { metadata: { labels: { touched: "yes" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const message = 'Operation cannot be fulfilled on deployments.apps "checkout": the object has been modified; please apply your changes to the latest version and try again';
    const replaced = await failure(apps.replaceNamespacedDeployment({ name: "checkout", namespace, body: { ...stale, spec: { ...stale.spec!, replicas: 7 } } }));
    expect(replaced.code).toBe(409);
    expect(replaced.status).toMatchObject({ reason: "Conflict", message });
    const patched = await failure(
      apps.patchNamespacedDeployment(
        { name: "checkout", namespace, body: { metadata: { resourceVersion: stale.metadata?.resourceVersion }, spec: { replicas: 7 } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    expect(patched.code).toBe(409);
    expect(patched.status.message).toBe(message);
    expect((await apps.readNamespacedDeployment({ name: "checkout", namespace })).spec?.replicas).toBe(2);
  });

  it("Given the status subresource When status is written there Then status changes, and writes to the Deployment leave status alone", async () => {
    const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    const viaMain = await apps.patchNamespacedDeployment({ name: "checkout", namespace, body: { spec: { replicas: 3 }, status: { readyReplicas: 99 } } }, merge);
    expect(viaMain.spec?.replicas).toBe(3);
    expect(viaMain.status?.readyReplicas).toBe(2);
    const viaStatus = await apps.patchNamespacedDeploymentStatus({ name: "checkout", namespace, body: { spec: { replicas: 7 }, status: { readyReplicas: 3 } } }, merge);
    expect(viaStatus.status?.readyReplicas).toBe(3);
    expect(viaStatus.spec?.replicas).toBe(3);
  });

  it("Given a Pod created with a status When created Then the server resets it to Pending, as Kubernetes does", async () => {
    const created = await core.createNamespacedPod({ namespace, body: { metadata: { name: "debug" }, spec: { containers: [{ name: "sh", image: "busybox" }] }, status: { phase: "Running" } } });
    expect(created.status).toEqual({ phase: "Pending" });
  });

  it("Given DeleteOptions in the body When dryRun or a failing precondition is sent Then nothing is deleted", async () => {
    const del = (body: object): Promise<Response> =>
      fetch(`${server.url}/apis/apps/v1/namespaces/prod/deployments/checkout`, { method: "DELETE", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    expect((await del({ kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All"], propagationPolicy: "Background" })).status).toBe(200);
    const stale = await del({ preconditions: { uid: "not-the-uid" } });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { message: string }).message).toContain("Precondition failed: UID in precondition: not-the-uid");
    expect((await apps.listNamespacedDeployment({ namespace })).items).toHaveLength(1);
    expect((await del({ preconditions: { uid: "00000000-0000-4000-8000-0000000000d1" } })).status).toBe(200);
    expect((await apps.listNamespacedDeployment({ namespace })).items).toHaveLength(0);
  });

  it("Given a NetworkPolicy When created, listed and deleted Then it lives and goes; a second create is 409 AlreadyExists", async () => {
    const body = { metadata: { name: "quarantine" }, spec: { podSelector: { matchLabels: { app: "checkout" } }, policyTypes: ["Ingress", "Egress"] } };
    const created = await networking.createNamespacedNetworkPolicy({ namespace, body });
    expect(created.metadata).toMatchObject({ name: "quarantine", namespace, generation: 1 });
    expect((await failure(networking.createNamespacedNetworkPolicy({ namespace, body }))).status).toMatchObject({ code: 409, reason: "AlreadyExists" });
    await networking.deleteNamespacedNetworkPolicy({ name: "quarantine", namespace });
    expect((await networking.listNamespacedNetworkPolicy({ namespace })).items.map((p) => p.metadata?.name)).toEqual(["checkout-allow-frontend"]);
  });

  it("Given an object whose namespace differs from the URL's When created Then 400 BadRequest", async () => {
    const failed = await failure(core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "x", namespace: "staging" }, data: {} } }));
    expect(failed.code).toBe(400);
    expect(failed.status.message).toContain("does not match the namespace");
  });

  it("Given bad JSON, an unknown path and an unsupported patch type Then Status errors, never 500", async () => {
    const post = (path: string, body: string, contentType = "application/json", method = "POST"): Promise<Response> =>
      fetch(`${server.url}${path}`, { method, body, headers: { "content-type": contentType } });
    const badJson = await post("/api/v1/namespaces/prod/configmaps", "{not json");
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ kind: "Status", reason: "BadRequest" });
    const unknown = await fetch(`${server.url}/apis/example.com/v1/widgets`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ kind: "Status", reason: "NotFound" });
    const apply = await post("/apis/apps/v1/namespaces/prod/deployments/checkout", "{}", "application/apply-patch+yaml", "PATCH");
    expect(apply.status).toBe(415);
    const watch = await fetch(`${server.url}/api/v1/namespaces/prod/pods?watch=true`);
    expect(watch.status).toBe(405);
    expect(await watch.json()).toMatchObject({ reason: "MethodNotAllowed" });
    const badDryRun = await post("/api/v1/namespaces/prod/configmaps?dryRun=Some", JSON.stringify({ metadata: { name: "x" } }));
    expect(badDryRun.status).toBe(400);
  });

  it.each<[string, string, string, string, number]>([
    ["a malformed percent escape", "GET", "/api/v1/namespaces/prod/pods/%E0%A4%A", "", 404],
    ["a path starting with //", "GET", "//api/v1/namespaces/prod/pods", "", 200],
    ["a body that is an array", "POST", "/api/v1/namespaces/prod/configmaps", "[1]", 400],
    ["metadata that is not an object", "POST", "/api/v1/namespaces/prod/configmaps", '{"metadata":"x"}', 400],
    ["a name that is not a string", "POST", "/api/v1/namespaces/prod/configmaps", '{"metadata":{"name":7}}', 422],
    ["a body of another kind", "POST", "/api/v1/namespaces/prod/configmaps", '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}', 400],
    ["a PUT whose name differs from the URL's", "PUT", "/apis/apps/v1/namespaces/prod/deployments/checkout", '{"metadata":{"name":"other"}}', 400],
    ["a scale that is not a number", "PUT", "/apis/apps/v1/namespaces/prod/deployments/checkout/scale", '{"spec":{"replicas":"many"}}', 422],
    ["a PATCH of a collection", "PATCH", "/apis/apps/v1/namespaces/prod/deployments", "{}", 405],
    ["an unknown subresource", "GET", "/apis/apps/v1/namespaces/prod/deployments/checkout/exec", "", 404],
    ["a named namespaced object without a namespace", "GET", "/apis/apps/v1/deployments/checkout", "", 404],
  ])("Given %s When sent (%s %s) Then the answer is not a 500", async (_name, method, path, body, status) => {
    const response = await fetch(`${server.url}${path}`, { method, ...(body === "" ? {} : { body, headers: { "content-type": "application/json" } }) });
    expect(response.status).toBe(status);
    if (status !== 200) expect(await response.json()).toMatchObject({ kind: "Status", status: "Failure", code: status });
  });

  it("Given a JSON patch that changes the kind or the name When sent Then 400 and nothing changes", async () => {
    const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
    const kind = await failure(apps.patchNamespacedDeployment({ name: "checkout", namespace, body: [{ op: "replace", path: "/kind", value: "ReplicaSet" }] }, jsonPatch));
    expect(kind.code).toBe(400);
    const name = await failure(apps.patchNamespacedDeployment({ name: "checkout", namespace, body: [{ op: "replace", path: "/metadata/name", value: "other" }] }, jsonPatch));
    expect(name.code).toBe(400);
    expect((await apps.listNamespacedDeployment({ namespace })).items.map((d) => d.metadata?.name)).toEqual(["checkout"]);
  });

  it("Given `kubectl get`'s Accept header When a list is read Then a meta.k8s.io/v1 Table with kubectl's columns comes back", async () => {
    const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    const response = await fetch(`${server.url}/apis/apps/v1/namespaces/prod/deployments`, { headers: { accept } });
    const table = (await response.json()) as { kind: string; apiVersion: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[]; object: { kind: string } }> };
    expect(table).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1" });
    expect(table.columnDefinitions.map((c) => c.name).slice(0, 5)).toEqual(["Name", "Ready", "Up-to-date", "Available", "Age"]);
    expect(table.rows[0]?.cells.slice(0, 4)).toEqual(["checkout", "2/2", 1, 2]);
    expect(table.rows[0]?.object.kind).toBe("PartialObjectMetadata");
  });

  it("Given discovery When /version, /api, /apis and a group version are read Then kubectl's legacy documents come back", async () => {
    const json = async (path: string): Promise<Record<string, unknown>> => (await fetch(`${server.url}${path}`)).json() as Promise<Record<string, unknown>>;
    expect(await json("/version")).toMatchObject({ major: "1", minor: "32" });
    expect(await json("/api")).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    expect(JSON.stringify(await json("/apis"))).toContain('"name":"networking.k8s.io"');
    const apps = await json("/apis/apps/v1");
    expect(apps["resources"]).toContainEqual(expect.objectContaining({ name: "deployments", namespaced: true, kind: "Deployment", shortNames: ["deploy"] }));
    expect(apps["resources"]).toContainEqual(expect.objectContaining({ name: "deployments/scale", group: "autoscaling", version: "v1", kind: "Scale" }));
    expect((await fetch(`${server.url}/openapi/v2`)).status).toBe(404);
  });

  it("Given a seeded backend When the server writes Then the backend the simulator shares sees the change", async () => {
    await apps.patchNamespacedDeploymentScale({ name: "checkout", namespace, body: { spec: { replicas: 3 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const type = backend.types().find((t) => t.plural === "deployments")!;
    expect(backend.get(type, namespace, "checkout")?.["spec"]).toMatchObject({ replicas: 3 });
  });
});

describe("the simulated API server with Suture's RBAC manifest", () => {
  let server: ClusterApiServer;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeEach(async () => {
    ({ server } = await startCheckoutServer({ rbac: true }));
    ({ apps, core } = clientsFor(server));
  });
  afterEach(async () => {
    await server.close();
  });

  it("Given the remediator binding in prod When Suture patches the Deployment and its scale Then both are allowed", async () => {
    const patched = await apps.patchNamespacedDeployment({ name: "checkout", namespace, body: { metadata: { labels: { paused: "no" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect(patched.metadata?.labels).toMatchObject({ paused: "no" });
    await apps.patchNamespacedDeploymentScale({ name: "checkout", namespace, body: { spec: { replicas: 3 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect((await core.listNamespacedPod({ namespace })).items).toHaveLength(3);
  });

  it("Given no rule grants delete When Suture deletes the Deployment Then 403 with Kubernetes' message", async () => {
    const failed = await failure(apps.deleteNamespacedDeployment({ name: "checkout", namespace }));
    expect(failed.code).toBe(403);
    expect(failed.status).toMatchObject({
      reason: "Forbidden",
      message: `deployments.apps "checkout" is forbidden: User "${SUTURE_USER}" cannot delete resource "deployments" in API group "apps" in the namespace "prod"`,
    });
  });

  it("Given no secrets access When Suture lists secrets Then 403, and a replace (update) is refused with the subresource named", async () => {
    const secrets = await failure(core.listNamespacedSecret({ namespace }));
    expect(secrets.status.message).toBe(`secrets is forbidden: User "${SUTURE_USER}" cannot list resource "secrets" in API group "" in the namespace "prod"`);
    const scale = await apps.readNamespacedDeploymentScale({ name: "checkout", namespace });
    const statefulScale = await failure(apps.replaceNamespacedReplicaSetScale({ name: REPLICA_SETS.revision1, namespace, body: scale }));
    expect(statefulScale.status.message).toContain('cannot update resource "replicasets/scale" in API group "apps"');
  });
});
