import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

/** One inventory API with a data volume; `fault` breaks it (or not) 20 min before the alert. */
function world(options: { usedPct?: number; fault?: NonNullable<EnvironmentSpecInput["faults"]>[number] } = {}): EnvironmentSpecInput {
  return {
    seed: 31,
    historyMinutes: 120,
    services: [
      {
        name: "stock-ledger",
        namespace: "inventory",
        replicas: 4,
        baseline: { requestRate: 150, errorRate: 0.002, latencyP99Ms: 90 },
        disk: { mount: "/var/lib/stock", sizeGib: 200, usedPct: options.usedPct ?? 40 },
      },
    ],
    faults: options.fault !== undefined ? [options.fault] : [],
  };
}

/** The same API with a 1 GiB memory limit and a 330 MiB working set. */
function memoryWorld(fault?: NonNullable<EnvironmentSpecInput["faults"]>[number]): EnvironmentSpecInput {
  const base = world(fault !== undefined ? { fault } : {});
  return { ...base, services: (base.services ?? []).map((svc) => ({ ...svc, memoryLimitMib: 1024, baselineMemoryMib: 330 })) };
}

function kubeAlert(alertname: string) {
  return makeAlert({ service: "stock-ledger", namespace: "inventory", name: alertname, labels: { alertname, namespace: "inventory", deployment: "stock-ledger", job: "kube-state-metrics" } });
}

async function diagnose(spec: EnvironmentSpecInput, alertname: string) {
  const alert = kubeAlert(alertname);
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const claim = evidence.find((e) => e.key === "alert.claim");
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return { claim, top };
}

describe("alert.claim: what the alert's name says is wrong, checked against the object now", () => {
  it("Given every replica ready and every signal at baseline, When KubeDeploymentReplicasMismatch arrives, Then the claim does not hold and Suture takes no action", async () => {
    const { claim, top } = await diagnose(world(), "KubeDeploymentReplicasMismatch");
    expect(claim?.value).toBe("replicas");
    expect(claim?.attrs["holds_now"]).toBe(false);
    expect(top?.id).toBe("rules:alert-claim-contradicted-now");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given pods crash-looping after a bad rollout, When the same alert arrives, Then the claim holds and nothing closes it as stale", async () => {
    const { claim, top } = await diagnose(world({ fault: { kind: "bad-rollout", service: "stock-ledger", atMinutes: -20 } }), "KubeDeploymentReplicasMismatch");
    expect(claim?.attrs["holds_now"]).toBe(true);
    expect(top?.id).not.toBe("rules:alert-claim-contradicted-now");
    expect(top?.disposition).not.toBe("no-action");
  });

  it("Given the volume 58 % used, When KubePersistentVolumeFillingUp arrives (evaluated before an expansion), Then the claim does not hold: no action", async () => {
    const { claim, top } = await diagnose(world({ usedPct: 58 }), "KubePersistentVolumeFillingUp");
    expect(claim?.value).toBe("volume");
    expect(claim?.attrs["holds_now"]).toBe(false);
    expect(top?.id).toBe("rules:alert-claim-contradicted-now");
  });

  it("Given the volume 91 % used, When the same alert arrives, Then the claim holds and no no-action closes it", async () => {
    const { claim, top } = await diagnose(world({ usedPct: 91 }), "KubePersistentVolumeFillingUp");
    expect(claim?.attrs["holds_now"]).toBe(true);
    expect(top?.disposition ?? "none").not.toBe("no-action");
  });

  it("Given the working set a third of the memory limit and no OOM kill, When ContainerMemoryUsageHigh arrives (a usage figure counting page cache), Then the claim does not hold: no action", async () => {
    const { claim, top } = await diagnose(memoryWorld(), "ContainerMemoryUsageHigh");
    expect(claim?.value).toBe("memory");
    expect(claim?.attrs["holds_now"]).toBe(false);
    expect(String(claim?.attrs["observed"])).toContain("of its 1024 MiB limit");
    expect(top?.id).toBe("rules:alert-claim-contradicted-now");
  });

  it("Given a leak that has taken the working set near the limit, When the same alert arrives, Then the claim holds and no no-action closes it", async () => {
    const { claim, top } = await diagnose(memoryWorld({ kind: "memory-leak", service: "stock-ledger", atMinutes: -60, params: { mibPerMinute: 12 } }), "ContainerMemoryUsageHigh");
    expect(claim?.attrs["holds_now"]).toBe(true);
    expect(top?.disposition ?? "none").not.toBe("no-action");
  });

  it("Given a heap alert (JvmMemoryHeapHigh), When perceived, Then no container-memory claim is read from it: a heap can fill inside a roomy container", async () => {
    const { claim } = await diagnose(memoryWorld(), "JvmMemoryHeapHigh");
    expect(claim).toBeUndefined();
  });

  it("Given an alert whose name claims nothing Suture can check (HighErrorRate), When perceived, Then no claim fact is derived from its words", async () => {
    const { claim } = await diagnose(world(), "HighErrorRate");
    expect(claim).toBeUndefined();
  });
});

/** A 4-replica StatefulSet whose template changed 40 min ago with `updateStrategy` set as given. */
function stagedWorld(updateStrategy: Record<string, unknown>, image?: string): EnvironmentSpecInput {
  return {
    seed: 32,
    historyMinutes: 120,
    services: [{ name: "tile-cache", namespace: "maps", kind: "StatefulSet", replicas: 4, baseline: { requestRate: 80, errorRate: 0.001, latencyP99Ms: 40 } }],
    faults: [
      {
        kind: "patch",
        atMinutes: -40,
        object: { kind: "StatefulSet", name: "tile-cache", namespace: "maps" },
        patchType: "strategic",
        patch: { spec: { updateStrategy, template: { spec: { containers: [{ name: "app", env: [{ name: "EVICTION", value: "lfu" }], ...(image !== undefined ? { image } : {}) }] } } } },
        changedBy: "release-bot",
      },
    ],
  };
}

const notRolledOut = makeAlert({
  service: "tile-cache",
  namespace: "maps",
  name: "KubeStatefulSetUpdateNotRolledOut",
  labels: { alertname: "KubeStatefulSetUpdateNotRolledOut", namespace: "maps", statefulset: "tile-cache", job: "kube-state-metrics" },
});

describe("an update its own strategy holds back (OnDelete, a partition)", () => {
  it("Given a partition of 3 and the updated ordinal 3 ready, When KubeStatefulSetUpdateNotRolledOut arrives, Then the three older pods are read as held and Suture takes no action", async () => {
    const evidence = await perceiveSim(SimEnvironment.create(stagedWorld({ type: "RollingUpdate", rollingUpdate: { partition: 3 } })), notRolledOut);
    const held = evidence.find((e) => e.key === "rollout.held");
    expect(held?.value).toBe(3);
    expect(held?.attrs).toMatchObject({ strategy: "RollingUpdate", partition: 3, updated: 1 });
    const [top] = await reasoner.diagnose({ alert: notRolledOut, context: makeContext(evidence), attempts: [] });
    expect(top?.id).toBe("rules:update-held-by-its-strategy");
  });

  it("Given OnDelete, When the same alert arrives, Then every pod is held on the older revision: no action", async () => {
    const evidence = await perceiveSim(SimEnvironment.create(stagedWorld({ type: "OnDelete" })), notRolledOut);
    expect(evidence.find((e) => e.key === "rollout.held")?.value).toBe(4);
    const [top] = await reasoner.diagnose({ alert: notRolledOut, context: makeContext(evidence), attempts: [] });
    expect(top?.disposition).toBe("no-action");
  });

  it("Given a partition canary whose image cannot be pulled, When the same alert arrives, Then the held update is not closed as planned", async () => {
    const evidence = await perceiveSim(SimEnvironment.create(stagedWorld({ type: "RollingUpdate", rollingUpdate: { partition: 3 } }, "registry.invalid/maps/tile-cache:does-not-exist")), notRolledOut);
    const hypotheses = await reasoner.diagnose({ alert: notRolledOut, context: makeContext(evidence), attempts: [] });
    expect(hypotheses.some((h) => h.id === "rules:update-held-by-its-strategy")).toBe(false);
    expect(hypotheses[0]?.disposition ?? "none").not.toBe("no-action");
  });
});
