import { describe, expect, it } from "vitest";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

type Log = { fromMinutes: number; toMinutes?: number; everySeconds?: number; level: "info" | "warn" | "error"; message: string };

/** A Postgres workload that logs `logs`. */
function database(logs: Log[]): EnvironmentSpecInput {
  return {
    seed: 61,
    services: [{ name: "ledger-pg", namespace: "books", replicas: 2, baseline: { requestRate: 150, errorRate: 0.001, latencyP99Ms: 15 } }],
    observations: { "ledger-pg": { logs } },
  };
}

async function diagnose(spec: EnvironmentSpecInput, alertname: string) {
  const alert = makeAlert({ service: "ledger-pg", namespace: "books", name: alertname, labels: { alertname, namespace: "books", pod: "ledger-pg-1", job: "postgres-exporter" } });
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return top;
}

const DEADLOCK = "ERROR:  deadlock detected DETAIL:  Process 81234 waits for ShareLock on transaction 99120451; blocked by process 81240.";
const DELAY = "LOG:  recovery is delaying application of WAL for 4h (recovery_min_apply_delay), last replayed commit at 05:58:12 UTC";

describe("database alerts about the database doing its job", () => {
  it("Given three deadlocks 7 to 4 minutes ago and nothing impaired, When a deadlock alert arrives, Then no action", async () => {
    const top = await diagnose(database([-7, -5, -4].map((m) => ({ fromMinutes: m, level: "error" as const, message: DEADLOCK }))), "PostgresqlDeadlocks");
    expect(top?.id).toBe("rules:deadlocks-retried-and-stopped");
  });

  it("Given deadlocks still logged every 30 s, When the alert arrives, Then it is not closed", async () => {
    const top = await diagnose(database([{ fromMinutes: -20, everySeconds: 30, level: "error", message: DEADLOCK }]), "PostgresqlDeadlocks");
    expect(top?.id ?? "none").not.toBe("rules:deadlocks-retried-and-stopped");
  });

  it("Given a replica whose log says it delays applying WAL by design, When a replication-lag alert arrives, Then no action; without that line it is not closed that way", async () => {
    const delayed = await diagnose(database([{ fromMinutes: -150, everySeconds: 600, level: "info", message: DELAY }]), "PostgresqlReplicationLag");
    expect(delayed?.id).toBe("rules:delayed-replica-by-design");
    const plain = await diagnose(database([]), "PostgresqlReplicationLag");
    expect(plain?.id ?? "none").not.toBe("rules:delayed-replica-by-design");
  });
});
