import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { choose } from "../../nodes/diagnose.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

/** An API whose features ConfigMap changes `before` → `after` 45 min ago, after which only its p99 latency rises. */
function launch(before: Record<string, string>, after: Record<string, string>): EnvironmentSpecInput {
  return {
    seed: 67,
    services: [{ name: "lot-api", namespace: "auctions", replicas: 3, baseline: { requestRate: 200, errorRate: 0.002, latencyP99Ms: 150 }, configMaps: [{ name: "lot-api-features", data: before }] }],
    faults: [
      {
        kind: "apply",
        atMinutes: -45,
        changedBy: "auction-team@gitops",
        manifest: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: lot-api-features, namespace: auctions }\ndata: ${JSON.stringify(after)}\n`,
      },
    ],
    observations: {
      "lot-api": {
        metrics: [
          {
            metric: "latency_p99_ms",
            points: [
              { atMinutes: -200, value: 150 },
              { atMinutes: -44, value: 155 },
              { atMinutes: -40, value: 24800 },
              { atMinutes: 30, value: 25100 },
            ],
          },
        ],
      },
    },
  };
}

const alert = makeAlert({ service: "lot-api", namespace: "auctions", name: "HTTPLatencyP99High", labels: { alertname: "HTTPLatencyP99High", namespace: "auctions", job: "lot-api" } });

async function decide(spec: EnvironmentSpecInput) {
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const hypotheses = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return { changed: evidence.find((e) => e.key === "config.changed"), choice: choose(hypotheses, new Set(), 0.6, 3) };
}

describe("a feature switched on that made the service slower, not failing", () => {
  it("Given longpoll_enabled turned from false to true and only p99 latency up, When the latency alert arrives, Then it is escalated to the feature's owners and nothing is reverted", async () => {
    const { changed, choice } = await decide(launch({ longpoll_enabled: "false", hold_seconds: "25" }, { longpoll_enabled: "true", hold_seconds: "25" }));
    expect(changed?.attrs["feature_enabled"]).toBe(true);
    expect(choice.decision).toBe("escalate");
    expect(choice.hypothesis?.id).toBe("rules:feature-switched-on-slower-not-failing");
    expect(choice.proposal).toBeNull();
  });

  it("Given a change that switched nothing on (a timeout raised) with the same latency, When the alert arrives, Then the change is reverted as before", async () => {
    const { changed, choice } = await decide(launch({ longpoll_enabled: "true", hold_seconds: "5" }, { longpoll_enabled: "true", hold_seconds: "25" }));
    expect(changed?.attrs["feature_enabled"]).toBe(false);
    expect(choice.decision).toBe("act");
    expect(choice.proposal?.call.tool).toBe("revert_config_map");
  });
});
