import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../environments/cluster-api/backend.js";
import type { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import type { ClusterApiServer } from "../../environments/cluster-api/server.js";
import { kubectl, PODS, REPLICA_SETS, runKubectl, startCheckoutServer, type KubectlResult } from "../helpers/kubernetes.js";

/** The pod template without the label the Deployment controller adds to ReplicaSets' templates. */
function templateWithoutHash(object: KubeObject | undefined): unknown {
  const template = structuredClone((object?.["spec"] as { template: { metadata: { labels: Record<string, string> } } }).template);
  delete template.metadata.labels["pod-template-hash"];
  return template;
}

describe.skipIf(kubectl === undefined)(`kubectl against the simulated API server${kubectl === undefined ? " (skipped: kubectl is not on PATH)" : ""}`, () => {
  let server: ClusterApiServer;
  let backend: MemoryClusterBackend;
  let dir: string;
  let kube: (...args: string[]) => Promise<KubectlResult>;
  let ok: (...args: string[]) => Promise<string>;

  const deployment = (): KubeObject | undefined =>
    backend.get(
      backend.types().find((t) => t.plural === "deployments")!,
      "prod",
      "checkout",
    );
  const replicaSet = (name: string): KubeObject | undefined =>
    backend.get(
      backend.types().find((t) => t.plural === "replicasets")!,
      "prod",
      name,
    );

  async function start(rbac: boolean): Promise<void> {
    ({ server, backend } = await startCheckoutServer({ rbac }));
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-kubectl-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    await writeFile(kubeconfig, server.kubeconfig({ namespace: "prod" }));
    kube = (...args) => runKubectl(kubeconfig, path.join(dir, "cache"), args);
    ok = async (...args) => {
      const result = await kube(...args);
      expect(result.code, `kubectl ${args.join(" ")} failed:\n${result.stderr}`).toBe(0);
      return result.stdout;
    };
  }

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe("without RBAC", () => {
    beforeEach(() => start(false));

    it("Given the fixture When `kubectl get deploy,rs,pods,svc,netpol,cm -n prod` runs Then every kind prints with kubectl's usual columns", async () => {
      const out = await ok("get", "deploy,rs,pods,svc,netpol,cm", "-n", "prod");
      expect(out).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment\.apps\/checkout\s+2\/2\s+1\s+2\s+\S+/);
      expect(out).toMatch(/NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nreplicaset\.apps\/checkout-6b7f9d5c48\s+2\s+2\s+2/);
      expect(out).toMatch(new RegExp(`pod/${PODS.pullBackOff}\\s+0/1\\s+ImagePullBackOff\\s+0`));
      expect(out).toMatch(new RegExp(`pod/${PODS.restarted}\\s+1/1\\s+Running\\s+1`));
      expect(out).toMatch(/NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nservice\/checkout\s+ClusterIP\s+10\.96\.12\.34\s+<none>\s+80\/TCP/);
      expect(out).toMatch(/networkpolicy\.networking\.k8s\.io\/checkout-allow-frontend\s+app=checkout/);
      expect(out).toMatch(/configmap\/checkout-config\s+2\s/);
    });

    it("Given a pod in ImagePullBackOff When `kubectl describe pod` runs Then its state and events show", async () => {
      const out = await ok("describe", "pod", PODS.pullBackOff, "-n", "prod");
      expect(out).toContain("Reason:       ImagePullBackOff");
      expect(out).toMatch(/Warning\s+Failed\s+.*Failed to pull image "registry\.example\.com\/checkout:1\.4\.1"/);
      expect(out).toMatch(/Normal\s+BackOff\s+/);
    });

    it("Given seeded logs When `kubectl logs` runs (and --previous, --tail) Then the text prints", async () => {
      expect(await ok("logs", PODS.running, "-n", "prod")).toBe("listening on :8080\nGET /cart 200\nGET /pay 200\n");
      expect(await ok("logs", PODS.running, "-n", "prod", "--tail=1")).toBe("GET /pay 200\n");
      expect(await ok("logs", PODS.restarted, "-n", "prod", "--previous")).toContain("fatal: out of memory");
    });

    it("Given two ReplicaSets with revisions When `kubectl rollout history` runs Then both revisions list", async () => {
      const out = await ok("rollout", "history", "deployment/checkout", "-n", "prod");
      expect(out).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    });

    it("Given revision 2 is live When `kubectl rollout undo` runs Then the Deployment's template is revision 1's", async () => {
      const out = await ok("rollout", "undo", "deployment/checkout", "-n", "prod");
      expect(out).toContain("deployment.apps/checkout rolled back");
      expect(templateWithoutHash(deployment())).toEqual(templateWithoutHash(replicaSet(REPLICA_SETS.revision1)));
      // No controllers: the ReplicaSets and Pods are as they were.
      expect(replicaSet(REPLICA_SETS.revision2)?.["spec"]).toMatchObject({ replicas: 1 });
    });

    it("Given `kubectl rollout undo --dry-run=server` When it runs Then it reports success and changes nothing", async () => {
      const before = deployment();
      const out = await ok("rollout", "undo", "deployment/checkout", "-n", "prod", "--dry-run=server");
      expect(out).toContain("rolled back (server dry run)");
      expect(deployment()).toEqual(before);
    });

    it("Given `kubectl delete --dry-run=server` When it runs Then it reports the deletion and the Deployment stays", async () => {
      const out = await ok("delete", "deployment", "checkout", "-n", "prod", "--dry-run=server");
      expect(out).toContain('deployment.apps "checkout" deleted (server dry run)');
      expect(deployment()).toBeDefined();
    });

    it("Given `kubectl scale` and `kubectl patch` When they run Then the Deployment changes as asked", async () => {
      await ok("scale", "deployment/checkout", "-n", "prod", "--replicas=4");
      expect(deployment()?.["spec"]).toMatchObject({ replicas: 4 });
      await ok("set", "image", "deployment/checkout", "-n", "prod", "checkout=registry.example.com/checkout:1.4.2");
      expect(JSON.stringify(deployment()?.["spec"])).toContain("checkout:1.4.2");
      await ok("patch", "configmap", "checkout-config", "-n", "prod", "--type=merge", "-p", '{"data":{"FEATURE_NEW_CART":"true"}}');
      expect(await ok("get", "cm", "checkout-config", "-n", "prod", "-o", "jsonpath={.data.FEATURE_NEW_CART}")).toBe("true");
    });

    it("Given no OpenAPI When `kubectl apply --validate=false` creates then changes a Deployment Then its strategic merge patch lands", async () => {
      const manifest = (image: string, env: string): string =>
        [
          "apiVersion: apps/v1",
          "kind: Deployment",
          "metadata: { name: cart, namespace: prod }",
          "spec:",
          "  replicas: 1",
          "  selector: { matchLabels: { app: cart } }",
          "  template:",
          "    metadata: { labels: { app: cart } }",
          "    spec:",
          "      containers:",
          `        - { name: cart, image: "${image}", env: [${env}] }`,
          "        - { name: proxy, image: envoy:1 }",
          "",
        ].join("\n");
      const file = path.join(dir, "cart.yaml");
      await writeFile(file, manifest("cart:1", "{ name: A, value: '1' }"));
      expect(await ok("apply", "--validate=false", "-f", file)).toContain("deployment.apps/cart created");
      await writeFile(file, manifest("cart:2", "{ name: A, value: '1' }, { name: B, value: '2' }"));
      expect(await ok("apply", "--validate=false", "-f", file)).toContain("deployment.apps/cart configured");
      const applied = backend.get(
        backend.types().find((t) => t.plural === "deployments")!,
        "prod",
        "cart",
      );
      const containers = (applied?.["spec"] as { template: { spec: { containers: Array<{ name: string; image: string; env?: unknown[] }> } } }).template.spec.containers;
      expect(containers.map((c) => `${c.name}=${c.image}`)).toEqual(["cart=cart:2", "proxy=envoy:1"]);
      expect(containers[0]?.env).toEqual([
        { name: "A", value: "1" },
        { name: "B", value: "2" },
      ]);
      // Without OpenAPI kubectl's default validation cannot run: it says so rather than guessing.
      const validated = await kube("apply", "-f", file);
      expect(validated.stderr).toContain("failed to download openapi");
    });

    it("Given a field selector kubectl users type When `kubectl get pods --field-selector` runs Then only matching pods print", async () => {
      const out = await ok("get", "pods", "-n", "prod", "--field-selector", "status.phase=Pending", "-o", "name");
      expect(out).toBe(`pod/${PODS.pullBackOff}\n`);
    });
  });

  describe("with Suture's RBAC manifest", () => {
    beforeEach(() => start(true));

    it("Given no rule grants delete When `kubectl delete deploy checkout` runs Then it fails with forbidden and the Deployment stays", async () => {
      const result = await kube("delete", "deploy", "checkout", "-n", "prod");
      expect(result.code, `kubectl delete succeeded:\n${result.stdout}`).not.toBe(0);
      expect(result.stderr).toContain('deployments.apps "checkout" is forbidden: User "system:serviceaccount:suture-system:suture" cannot delete resource "deployments" in API group "apps"');
      expect(deployment()).toBeDefined();
    });

    it("Given the remediator binding When `kubectl rollout undo` runs Then reading and patching are allowed", async () => {
      await ok("rollout", "undo", "deployment/checkout", "-n", "prod");
      expect(templateWithoutHash(deployment())).toEqual(templateWithoutHash(replicaSet(REPLICA_SETS.revision1)));
    });
  });
});
