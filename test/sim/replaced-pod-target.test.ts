import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ownersByPodName, targetFromLabels } from "../../domain/alerts/target.js";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { resolveInCluster } from "../../environments/simulator/target-names.js";

describe("a pod alert whose pod was replaced since it fired, in the simulated cluster (the Kubernetes adapter's rules: test/kubernetes/alert-targets.test.ts)", () => {
  const backend = MemoryClusterBackend.fromManifests(readFileSync("test/fixtures/kubernetes/alert-targets.yaml", "utf8"));
  const resolve = (pod: string) => resolveInCluster(backend, targetFromLabels({ alertname: "KubePodNotReady", namespace: "shop", pod }));

  it("reads the owners a pod's name says it had, only from generated suffixes", () => {
    // Given pod names of a Deployment's ReplicaSet, a StatefulSet, and a hand-named pod
    // Then the ReplicaSet, Deployment and StatefulSet candidates follow Kubernetes' naming, and a suffix Kubernetes never generates gives none
    expect(ownersByPodName("checkout-7d9f8b6c5d-q8zkt")).toEqual({ replicaSet: "checkout-7d9f8b6c5d", daemonSet: "checkout-7d9f8b6c5d", deployment: "checkout" });
    expect(ownersByPodName("ledger-2")).toEqual({ statefulSet: "ledger" });
    expect(ownersByPodName("checkout-7d9f8b6c5d-gone1")).toEqual({});
  });

  it("leads a replaced pod to its Deployment through its ReplicaSet, or the Deployment its name carries, and escalates a name nothing fits", () => {
    // When pods that no longer exist are resolved
    const viaReplicaSet = resolve("checkout-7d9f8b6c5d-q8zkt");
    const viaDeployment = resolve("checkout-5c7b9f6d48-wx2vz");
    const nothing = resolve("ghost-5c7b9f6d48-wx2vz");
    // Then each says how it was found
    expect(viaReplicaSet).toMatchObject({ state: "resolved", kind: "Deployment", namespace: "shop", name: "checkout" });
    expect(viaReplicaSet.from).toContain("ReplicaSet shop/checkout-7d9f8b6c5d (pod shop/checkout-7d9f8b6c5d-q8zkt no longer exists");
    expect(viaDeployment).toMatchObject({ state: "resolved", kind: "Deployment", name: "checkout" });
    expect(viaDeployment.from).toContain("plus a pod-template hash");
    expect(nothing.state).toBe("unresolved");
    expect(nothing.reason).toContain("no existing ReplicaSet, Deployment, DaemonSet or StatefulSet has the name");
  });

  it("leads a pod label that carries a workload's own name (a relabelled series) to that workload", () => {
    // When a `pod` label names no pod but exactly one workload
    const target = resolve("checkout");
    // Then that workload is the target, and the lookup says the name matched exactly
    expect(target).toMatchObject({ state: "resolved", kind: "Deployment", namespace: "shop", name: "checkout" });
    expect(target.from).toContain("the workload has exactly the name the pod label carries");
  });
});
