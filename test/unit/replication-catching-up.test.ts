import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

/** A Postgres replica whose log says "replay lag decreasing" every 2 min from -20 to `until` min. */
function replica(until: number, fault?: NonNullable<EnvironmentSpecInput["faults"]>[number]): EnvironmentSpecInput {
  return {
    seed: 43,
    services: [{ name: "fares-pg", namespace: "transit", replicas: 2, baseline: { requestRate: 150, errorRate: 0, latencyP99Ms: 12 } }],
    faults: fault !== undefined ? [fault] : [],
    observations: {
      "fares-pg": { logs: [{ fromMinutes: -20, toMinutes: until, everySeconds: 120, level: "info", message: "LOG:  [fares-pg-1] recovery restart point at 3B/9A0F1D28; replay lag decreasing" }] },
    },
  };
}

function lagAlert(severity: string) {
  return makeAlert({
    service: "fares-pg",
    namespace: "transit",
    name: "PostgresqlReplicationLag",
    severity,
    labels: { alertname: "PostgresqlReplicationLag", namespace: "transit", pod: "fares-pg-1", job: "postgres-exporter", severity },
  });
}

async function diagnose(spec: EnvironmentSpecInput, severity = "warning") {
  const alert = lagAlert(severity);
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return { catchingUp: evidence.find((e) => e.key === "log.catching_up"), top };
}

describe("a replication-lag alert while the replica says it is catching up", () => {
  it("Given the replica logging that its replay lag is decreasing up to now and nothing impaired, When the warning arrives, Then no action", async () => {
    const { catchingUp, top } = await diagnose(replica(30));
    expect(catchingUp?.attrs["minutes_since_last"]).toBeLessThanOrEqual(2);
    expect(top?.id).toBe("rules:replication-lag-catching-up");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given it stopped saying so 15 min ago, When the alert arrives, Then nothing says it is catching up now and it is not closed that way", async () => {
    const { catchingUp, top } = await diagnose(replica(-15));
    expect(catchingUp).toBeUndefined();
    expect(top?.id).not.toBe("rules:replication-lag-catching-up");
  });

  it("Given the same lines while its errors climb after a release, When the alert arrives, Then it is not closed as catching up", async () => {
    const { top } = await diagnose(replica(30, { kind: "release", service: "fares-pg", atMinutes: -10, params: { version: "16.4", errorRate: 0.3 } }));
    expect(top?.id).not.toBe("rules:replication-lag-catching-up");
  });
});
