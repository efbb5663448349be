import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

/** A 4-member datastore whose newest member is running, not ready; `log` is what it says every 2 min. */
function cluster(log: string | undefined, restarts = 0): EnvironmentSpecInput {
  return {
    seed: 59,
    services: [{ name: "events-store", namespace: "scores", kind: "StatefulSet", replicas: 4, baseline: { requestRate: 120, errorRate: 0.001, latencyP99Ms: 25 } }],
    observations: {
      "events-store": {
        pods: [{ name: "events-store-3", phase: "Running", ready: false, restarts, createdAtMinutes: -40 }],
        ...(log !== undefined ? { logs: [{ fromMinutes: -38, everySeconds: 120, level: "info" as const, message: log }] } : {}),
      },
    },
  };
}

const alert = makeAlert({
  service: "events-store",
  namespace: "scores",
  name: "KubeStatefulSetReplicasMismatch",
  labels: { alertname: "KubeStatefulSetReplicasMismatch", namespace: "scores", statefulset: "events-store", job: "kube-state-metrics" },
});

async function diagnose(spec: EnvironmentSpecInput) {
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return top;
}

describe("a new member of a clustered datastore still joining", () => {
  it("Given one member running, not ready, never restarted, and logging that it streams its data as it bootstraps, When the replicas-mismatch alert arrives, Then no action", async () => {
    const top = await diagnose(cluster("Bootstrap streaming progress 61% (42.1 GiB of 69.0 GiB received)"));
    expect(top?.id).toBe("rules:new-member-still-joining");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given the same member restarting, When the alert arrives, Then it is not read as joining", async () => {
    const top = await diagnose(cluster("Bootstrap streaming progress 61% (42.1 GiB of 69.0 GiB received)", 3));
    expect(top?.id).not.toBe("rules:new-member-still-joining");
  });

  it("Given a member not ready with nothing in its log about joining, When the alert arrives, Then it is not closed", async () => {
    const top = await diagnose(cluster(undefined));
    expect(top?.id ?? "none").not.toBe("rules:new-member-still-joining");
    expect(top?.disposition ?? "escalate").not.toBe("no-action");
  });
});
