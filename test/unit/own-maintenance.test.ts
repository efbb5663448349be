import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

const VACUUM = 'LOG:  automatic aggressive vacuum to prevent wraparound of table "ledger.public.entries": started';

/** A Postgres workload whose log says `line` 30 min ago; `fault` optionally breaks it. */
function database(line: string, extra: { finished?: boolean; fault?: NonNullable<EnvironmentSpecInput["faults"]>[number] } = {}): EnvironmentSpecInput {
  return {
    seed: 41,
    services: [{ name: "ledger-pg", namespace: "books", replicas: 2, baseline: { requestRate: 200, errorRate: 0, latencyP99Ms: 15 } }],
    faults: extra.fault !== undefined ? [extra.fault] : [],
    observations: {
      "ledger-pg": {
        logs: [
          { fromMinutes: -30, level: "info", message: line },
          ...(extra.finished === true ? [{ fromMinutes: -5, level: "info" as const, message: 'LOG:  automatic vacuum of table "ledger.public.entries": finished, index scans: 1' }] : []),
        ],
      },
    },
  };
}

const alert = makeAlert({
  service: "ledger-pg",
  namespace: "books",
  name: "PostgresqlLongRunningTransaction",
  labels: { alertname: "PostgresqlLongRunningTransaction", namespace: "books", pod: "ledger-pg-0", job: "postgres-exporter" },
});

async function diagnose(spec: EnvironmentSpecInput) {
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return { maintenance: evidence.find((e) => e.key === "log.maintenance"), top };
}

describe("a long-transaction alert that counts the datastore's own maintenance", () => {
  it("Given an anti-wraparound autovacuum started 30 min ago and nothing impaired, When the oldest-transaction alert arrives, Then no action, citing the maintenance", async () => {
    const { maintenance, top } = await diagnose(database(VACUUM));
    expect(Number(maintenance?.value)).toBeGreaterThanOrEqual(29);
    expect(top?.id).toBe("rules:own-maintenance-is-the-oldest-transaction");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given the vacuum reported finished since, When the alert arrives, Then the maintenance is not what it counts: nothing closes it that way", async () => {
    const { maintenance, top } = await diagnose(database(VACUUM, { finished: true }));
    expect(maintenance).toBeUndefined();
    expect(top?.id).not.toBe("rules:own-maintenance-is-the-oldest-transaction");
  });

  it("Given the same vacuum while the database's errors climb, When the alert arrives, Then it is not closed as maintenance", async () => {
    const { top } = await diagnose(database(VACUUM, { fault: { kind: "release", service: "ledger-pg", atMinutes: -10, params: { version: "15.9", errorRate: 0.3 } } }));
    expect(top?.id).not.toBe("rules:own-maintenance-is-the-oldest-transaction");
  });
});
