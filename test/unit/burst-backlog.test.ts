import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

type Point = { atMinutes: number; value: number };

/** A queue consumer whose backlog follows `lag` (and its consumption rate `rate`). */
function consumer(lag: Point[], rate: Point[]): EnvironmentSpecInput {
  return {
    seed: 47,
    services: [{ name: "invoice-render", namespace: "billing", replicas: 4, baseline: { requestRate: 5, errorRate: 0.001, latencyP99Ms: 300 } }],
    observations: {
      "invoice-render": {
        metrics: [
          { metric: "consumer_lag", points: lag },
          { metric: "request_rate", points: rate },
        ],
      },
    },
  };
}

const alert = makeAlert({
  service: "invoice-render",
  namespace: "billing",
  name: "RabbitmqTooManyReadyMessages",
  labels: { alertname: "RabbitmqTooManyReadyMessages", namespace: "billing", service: "invoice-render", queue: "invoices.render" },
});

async function diagnose(spec: EnvironmentSpecInput) {
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return { drain: evidence.find((e) => e.key === "alert.backlog_draining"), top };
}

const faster = [
  { atMinutes: -200, value: 5 },
  { atMinutes: -41, value: 5 },
  { atMinutes: -39, value: 22 },
  { atMinutes: 120, value: 22 },
];

describe("a backlog that arrived as one burst and is being worked off", () => {
  it("Given 180k messages published at once 40 min ago and falling at every step since, consumers faster than usual and failing nothing, When the ready-messages alert arrives, Then no action, with the projected drain", async () => {
    const { drain, top } = await diagnose(
      consumer(
        [
          { atMinutes: -200, value: 0 },
          { atMinutes: -41, value: 0 },
          { atMinutes: -39, value: 180000 },
          { atMinutes: 0, value: 127000 },
          { atMinutes: 100, value: 0 },
        ],
        faster,
      ),
    );
    expect(drain?.attrs).toMatchObject({ arrived_in_minutes: 2, falling_since_peak: true, symptoms_abnormal: 0 });
    expect(top?.id).toBe("rules:burst-backlog-worked-off");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given a backlog that grew for 30 min (a consumer that stalled) and only now falls, When the alert arrives, Then it is not read as a burst", async () => {
    const { drain, top } = await diagnose(
      consumer(
        [
          { atMinutes: -200, value: 0 },
          { atMinutes: -45, value: 0 },
          { atMinutes: -15, value: 180000 },
          { atMinutes: 0, value: 150000 },
          { atMinutes: 60, value: 0 },
        ],
        faster,
      ),
    );
    expect(Number(drain?.attrs["arrived_in_minutes"])).toBeGreaterThan(3);
    expect(top?.id).not.toBe("rules:burst-backlog-worked-off");
  });

  it("Given the same burst no longer falling (flat for the last 20 min), When the alert arrives, Then nothing says it drains and it is not closed", async () => {
    const { drain, top } = await diagnose(
      consumer(
        [
          { atMinutes: -200, value: 0 },
          { atMinutes: -41, value: 0 },
          { atMinutes: -39, value: 180000 },
          { atMinutes: -20, value: 150000 },
          { atMinutes: 60, value: 150000 },
        ],
        faster,
      ),
    );
    expect(drain).toBeUndefined();
    expect(top?.id).not.toBe("rules:burst-backlog-worked-off");
  });
});
