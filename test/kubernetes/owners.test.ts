import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { ForbiddenError } from "../../domain/errors.js";
import { makeKubeApis } from "../../environments/kubernetes/apis.js";
import { KubernetesEnvironment } from "../../environments/kubernetes/kubernetes-environment.js";
import { podsOfService, podsOnNode, workloadOfPod, workloadsOfPods } from "../../environments/kubernetes/owners.js";
import { shippedRules, startCluster, type TestCluster } from "./cluster.js";

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("owner lookups", () => {
  test("Given checkout's pods, When their owners are followed, Then pod → ReplicaSet → Deployment", async () => {
    const c = (cluster = await startCluster({ rules: shippedRules() }));
    const apis = makeKubeApis(c.kubeConfig());
    const pod = await apis.core.readNamespacedPod({ name: "checkout-85d4c7b9f7-lmn8z", namespace: "prod" });
    expect(await workloadOfPod(apis, pod)).toEqual({ namespace: "prod", kind: "Deployment", name: "checkout" });
    expect(await workloadOfPod(apis, { metadata: { name: "bare", namespace: "prod" } })).toBeUndefined();
    expect(
      await workloadOfPod(apis, { metadata: { name: "db-0", namespace: "prod", ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "u", controller: true }] } }),
    ).toEqual({
      namespace: "prod",
      kind: "StatefulSet",
      name: "db",
    });
  });

  test("Given a node and a Service, When their pods are listed, Then the node's pods (field selector) and the Service's (its selector) lead to their workloads", async () => {
    const c = (cluster = await startCluster({ rules: shippedRules() }));
    const apis = makeKubeApis(c.kubeConfig());
    const onNode = await podsOnNode(apis, "node-1");
    expect(onNode.map((p) => p.metadata?.name).sort()).toEqual(["checkout-6b7f9d5c48-7kq4m", "checkout-6b7f9d5c48-x2x9p", "checkout-85d4c7b9f7-lmn8z", "ledger-0"]);
    expect(await workloadsOfPods(apis, onNode)).toEqual([
      { namespace: "prod", kind: "Deployment", name: "checkout" },
      { namespace: "prod", kind: "StatefulSet", name: "ledger" },
    ]);
    expect(await podsOnNode(apis, "node-9")).toEqual([]);
    const behindService = await podsOfService(apis, "prod", "checkout");
    expect(behindService).toHaveLength(3);
    expect(await workloadsOfPods(apis, behindService)).toEqual([{ namespace: "prod", kind: "Deployment", name: "checkout" }]);
  });
});

describe("connecting", () => {
  test("Given a kubeconfig file and context, When the adapter is built from the environment, Then it reads the cluster with them", async () => {
    const c = (cluster = await startCluster());
    const dir = mkdtempSync(join(tmpdir(), "suture-kube-"));
    const path = join(dir, "config");
    writeFileSync(path, c.kubeconfigText());
    const env = KubernetesEnvironment.fromEnvironment({ kubeconfigPath: path, context: "suture-sim", namespace: "prod" });
    expect(env.kind).toBe("kubernetes");
    expect(await env.listServices()).toEqual(["checkout", "frontend", "prod/statefulset/ledger"]);
    expect(() => KubernetesEnvironment.fromEnvironment({ kubeconfigPath: path, context: "nope", namespace: "prod" })).toThrow();
  });

  test("Given a role without pods/log, When Suture tails logs, Then the refusal names get pods/log instead of reading as no logs", async () => {
    const c = (cluster = await startCluster({ rules: shippedRules((yaml) => yaml.replace("      - pods/log\n", "")) }));
    await expect(c.adapter().tailLogs("checkout", 5)).rejects.toThrow(ForbiddenError);
    await expect(c.adapter().tailLogs("checkout", 5)).rejects.toThrow(/cannot get pods\/log in namespace "prod"/);
  });
});
