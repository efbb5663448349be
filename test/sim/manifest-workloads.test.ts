import type { V1Deployment, V1Pod, V1ReplicaSet, V1Service } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseScenario } from "../../app/scenario.js";
import type { KubeObject } from "../../environments/cluster-api/backend.js";
import { DEPLOYMENTS, PODS, REPLICA_SETS, SERVICES } from "../../environments/simulator/kinds.js";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { EnvironmentSpecSchema } from "../../environments/simulator/spec.js";
import { summarizeSeries } from "../../evidence/metrics.js";

const MINUTE = 60_000;

function as<T>(objects: KubeObject[]): T[] {
  return objects as unknown as T[];
}

async function world(spec: EnvironmentSpecInput, minutes = 0): Promise<SimEnvironment> {
  const env = SimEnvironment.create(spec);
  await env.advanceTo(env.startTime + minutes * MINUTE);
  return env;
}

async function current(env: SimEnvironment, service: string, metric: "error_rate" | "request_rate"): Promise<number> {
  return summarizeSeries(await env.queryMetric(service, metric, 3))?.current ?? NaN;
}

/** `kubectl get deploy,svc,rs,po -n shop -o yaml` of a two-workload shop, with what the API server adds. */
const KUBECTL_OUTPUT = `apiVersion: v1
kind: List
metadata: { resourceVersion: "" }
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: cart
      namespace: shop
      uid: 3b0c1a52-7f7e-4c55-a5f1-1d1f0e6b2c11
      resourceVersion: "884213"
      generation: 7
      creationTimestamp: "2025-02-01T09:00:00Z"
      labels: { app: cart, team: web }
      annotations:
        deployment.kubernetes.io/revision: "7"
        kubernetes.io/change-cause: "helm upgrade cart 3.1.0"
      managedFields:
        - { manager: helm, operation: Update, apiVersion: apps/v1 }
    spec:
      replicas: 3
      selector: { matchLabels: { app: cart } }
      strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
      template:
        metadata:
          creationTimestamp: null
          labels: { app: cart, team: web }
        spec:
          containers:
            - name: app
              image: registry.internal/cart:3.1.0
              command: ["/srv/cart"]
              args: ["--listen=:9090", "--cache=redis"]
              ports: [{ name: http, containerPort: 9090, protocol: TCP }]
              env: [{ name: REDIS_URL, value: "redis://redis.shop:6379" }]
              resources: { limits: { cpu: "2", memory: 768Mi }, requests: { cpu: 500m, memory: 512Mi } }
              readinessProbe: { httpGet: { path: /ready, port: 9090 }, periodSeconds: 5, failureThreshold: 3 }
              imagePullPolicy: IfNotPresent
              terminationMessagePath: /dev/termination-log
          restartPolicy: Always
          dnsPolicy: ClusterFirst
    status:
      observedGeneration: 7
      replicas: 3
      readyReplicas: 3
      availableReplicas: 3
      updatedReplicas: 3
  - apiVersion: apps/v1
    kind: Deployment
    metadata: { name: storefront, namespace: shop, labels: { app: storefront } }
    spec:
      replicas: 2
      selector: { matchLabels: { app: storefront } }
      template:
        metadata: { labels: { app: storefront } }
        spec:
          containers:
            - { name: web, image: "registry.internal/storefront:8.0.2", ports: [{ containerPort: 8080 }] }
  - apiVersion: v1
    kind: Service
    metadata: { name: cart, namespace: shop, uid: 0d8e2f3a-1111-4a1a-9a9a-000000000001, resourceVersion: "12" }
    spec:
      type: ClusterIP
      clusterIP: 10.96.14.2
      selector: { app: cart }
      ports: [{ name: http, port: 80, targetPort: 9090, protocol: TCP }]
  - apiVersion: v1
    kind: Service
    metadata: { name: storefront, namespace: shop }
    spec: { selector: { app: storefront }, ports: [{ port: 80, targetPort: 8080 }] }
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata: { name: cart-5d8c7b9f6d, namespace: shop }
    spec: { replicas: 3 }
  - apiVersion: v1
    kind: Pod
    metadata: { name: cart-5d8c7b9f6d-abcde, namespace: shop }
    spec: { containers: [{ name: app, image: registry.internal/cart:3.1.0 }] }
`;

const SHOP: EnvironmentSpecInput = {
  seed: 5,
  manifests: KUBECTL_OUTPUT,
  workloads: {
    "shop/cart": {
      baseline: { requestRate: 300, errorRate: 0.001, latencyP99Ms: 90 },
      deployedAtMinutes: -600,
      revisions: [
        { image: "registry.internal/cart:3.0.4", deployedAtMinutes: -20160, changeCause: "helm upgrade cart 3.0.4" },
        { image: "registry.internal/cart:3.0.9", deployedAtMinutes: -7200 },
      ],
    },
    storefront: { dependencies: ["cart"] },
  },
};

describe("Deployments in environment.manifests are the simulated workloads", () => {
  it("Given kubectl get -o yaml output with API-server fields, ReplicaSets and Pods, When the world is built, Then each Deployment runs its declared template with its workloads entry's history and traffic", async () => {
    const env = await world(SHOP, 5);
    const deployments = as<V1Deployment>(env.list(DEPLOYMENTS, "shop"));
    expect(deployments.map((d) => d.metadata?.name).sort()).toEqual(["cart", "storefront"]);
    const cart = deployments.find((d) => d.metadata?.name === "cart");
    const container = cart?.spec?.template.spec?.containers[0];
    expect(container).toMatchObject({ image: "registry.internal/cart:3.1.0", command: ["/srv/cart"], args: ["--listen=:9090", "--cache=redis"] });
    expect(cart?.spec?.replicas).toBe(3);
    expect(cart?.spec?.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(cart?.metadata?.labels).toEqual({ app: "cart", team: "web" });
    // Recomputed, not taken from the file: three revisions (two earlier ones in workloads), no managedFields, a new uid.
    expect(cart?.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(cart?.metadata?.annotations?.["kubernetes.io/change-cause"]).toBe("helm upgrade cart 3.1.0");
    expect(cart?.metadata?.managedFields).toBeUndefined();
    expect(cart?.metadata?.uid).not.toBe("3b0c1a52-7f7e-4c55-a5f1-1d1f0e6b2c11");
    const replicaSets = as<V1ReplicaSet>(env.list(REPLICA_SETS, "shop")).filter((rs) => rs.metadata?.labels?.["app"] === "cart");
    expect(replicaSets.map((rs) => rs.spec?.template?.spec?.containers[0]?.image).sort()).toEqual(["registry.internal/cart:3.0.4", "registry.internal/cart:3.0.9", "registry.internal/cart:3.1.0"]);
    // Earlier revisions keep the rest of the declared template.
    for (const rs of replicaSets) expect(rs.spec?.template?.spec?.containers[0]?.command).toEqual(["/srv/cart"]);
    // The ReplicaSet and Pod in the file were dropped: the controllers made their own.
    expect(replicaSets.some((rs) => rs.metadata?.name === "cart-5d8c7b9f6d")).toBe(false);
    const pods = as<V1Pod>(env.list(PODS, "shop"));
    expect(pods.some((p) => p.metadata?.name === "cart-5d8c7b9f6d-abcde")).toBe(false);
    const cartPods = pods.filter((p) => p.metadata?.labels?.["app"] === "cart");
    expect(cartPods).toHaveLength(3);
    expect(cartPods.every((p) => p.status?.containerStatuses?.[0]?.ready === true)).toBe(true);
    // The storefront has the defaults of a service: one container named web, 2 replicas, healthy.
    expect(pods.filter((p) => p.metadata?.labels?.["app"] === "storefront" && p.status?.containerStatuses?.[0]?.ready === true)).toHaveLength(2);
    // Non-Kubernetes parts: the cart's traffic is its workloads entry's baseline.
    expect(await current(env, "cart", "request_rate")).toBeGreaterThan(200);
    expect(as<V1Service>(env.list(SERVICES, "shop")).find((s) => s.metadata?.name === "cart")?.spec?.ports?.[0]?.targetPort).toBe(9090);
  });

  it("Given a manifest Deployment a caller depends on, When a named fault scales it to zero, Then the caller's error rate rises", async () => {
    const healthy = await world(SHOP, 10);
    const broken = await world({ ...SHOP, faults: [{ kind: "scaled-to-zero", service: "cart", atMinutes: -5 }] }, 10);
    expect(await current(healthy, "storefront", "error_rate")).toBeLessThan(0.02);
    expect(await current(broken, "storefront", "error_rate")).toBeGreaterThan(0.2);
  });

  it("Given a v1 service's Deployment and Service printed as YAML, When they are loaded as manifests, Then the Deployment's template and replicas and the pods' names are the same", async () => {
    const v1 = await world({ seed: 9, services: [{ name: "ledger", namespace: "fin", replicas: 4, image: "registry.internal/ledger:4.2.0", env: { MODE: "strict" } }] });
    const clean = (o: KubeObject): Record<string, unknown> => {
      const copy = structuredClone(o) as unknown as Record<string, unknown> & { metadata: Record<string, unknown> };
      delete copy["status"];
      return copy;
    };
    const printed = stringify({ apiVersion: "v1", kind: "List", items: [...env0(v1, DEPLOYMENTS), ...env0(v1, SERVICES)].map(clean) });
    const fromManifests = await world({ seed: 9, manifests: printed });
    const a = as<V1Deployment>(v1.list(DEPLOYMENTS, "fin"))[0];
    const b = as<V1Deployment>(fromManifests.list(DEPLOYMENTS, "fin"))[0];
    expect(b?.spec?.template).toEqual(a?.spec?.template);
    expect(b?.spec?.replicas).toBe(4);
    const names = (e: SimEnvironment): string[] =>
      as<V1Pod>(e.list(PODS, "fin"))
        .map((p) => p.metadata?.name ?? "")
        .sort();
    expect(names(fromManifests)).toEqual(names(v1));
  });

  it("Given the complete example of docs/scenarios.md, When it is loaded and built, Then it validates and its workloads run their declared pods", async () => {
    const doc = readFileSync(path.resolve("docs/scenarios.md"), "utf8");
    const start = doc.indexOf("name: cart-bad-config");
    const scenario = parseScenario(parse(doc.slice(start, doc.indexOf("```", start))), "docs/scenarios.md");
    const env = await world(scenario.environment, -20);
    const pods = as<V1Pod>(env.list(PODS, "shop"));
    expect(pods.filter((p) => p.metadata?.labels?.["app"] === "cart" && p.status?.containerStatuses?.[0]?.ready === true)).toHaveLength(3);
    expect(pods.filter((p) => p.metadata?.labels?.["app"] === "storefront")).toHaveLength(2);
  });

  it("Given a workloads entry naming no manifest workload, When the spec is validated, Then the error names the key and the known workloads", () => {
    const r = EnvironmentSpecSchema.safeParse({ ...SHOP, workloads: { basket: { dependencies: [] } } });
    expect(r.success).toBe(false);
    const issue = r.error?.issues.find((i) => i.path.join(".") === "workloads.basket");
    expect(issue?.message).toBe('no Deployment or StatefulSet "basket" in manifests; known: shop/cart, shop/storefront');
  });

  it("Given a Deployment without a container, When the spec is validated, Then the error names the object and the path", () => {
    const manifest =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: empty, namespace: shop }\nspec: { selector: { matchLabels: { app: empty } }, template: { metadata: { labels: { app: empty } }, spec: { containers: [] } } }\n";
    const r = EnvironmentSpecSchema.safeParse({ manifests: manifest });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["manifests"], message: "Deployment shop/empty: spec.template.spec.containers: expected at least one container" });
  });

  it("Given neither services nor a manifest workload, When the spec is validated, Then it is rejected", () => {
    const r = EnvironmentSpecSchema.safeParse({ manifests: "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: {}\n" });
    expect(r.error?.issues[0]?.message).toBe("expected at least one service, or a Deployment or StatefulSet in manifests");
  });
});

function env0(env: SimEnvironment, type: typeof DEPLOYMENTS): KubeObject[] {
  return env.list(type, "fin");
}
