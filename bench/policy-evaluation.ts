/**
 * Cost of one policy evaluation (every rule, including the ledger rules that count rate limits,
 * the idempotency window, concurrent workloads and circuit-breaker failures from the `actions`
 * table), with an empty ledger and with 20,000 recorded actions in the same environment. The
 * baseline, in the same run, is the same evaluation over an in-memory ledger holding the same
 * actions: the ratio is what reading the shared table costs.
 */
import { openDatabase, type Database } from "../store/database.js";
import { IncidentStore } from "../store/incident-store.js";
import { migrate } from "../store/migrate.js";
import type { ActionCountQuery, PolicyLedger } from "../domain/ledger.js";
import { ActionsLedger } from "../store/ledger.js";
import { DEFAULT_POLICY, PolicyEngine, type IncidentFacts } from "../policy/policy.js";
import { canonicalJson } from "../domain/json.js";
import { createDefaultRegistry } from "../tools/registry.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import type { ToolCall } from "../domain/model.js";
import { withScratchDatabase } from "./scratch-database.js";
import { percentile } from "./stats.js";

const EVALUATIONS = 300;
const MINUTE = 60_000;
const WORKLOADS = 200;

/** One row of the table. */
export interface PolicyRow {
  backend: string;
  actions: number;
  ledger: string;
  p50Ms: number;
  p99Ms: number;
}

interface Recorded {
  environmentId: string;
  namespace: string;
  service: string;
  tool: string;
  actionClass: string;
  params: string;
  at: number;
  failed: boolean;
}

/** The same questions answered from an array: the baseline without a database. */
class ArrayLedger implements PolicyLedger {
  constructor(private readonly rows: Recorded[]) {}
  countActions(q: ActionCountQuery): Promise<number> {
    return Promise.resolve(
      this.rows.filter(
        (r) =>
          r.environmentId === q.environmentId &&
          r.namespace === q.namespace &&
          (q.service === undefined || r.service === q.service) &&
          (r.tool === q.action || r.actionClass === q.action) &&
          r.at > q.since,
      ).length,
    );
  }
  lastSameCall(q: { environmentId: string; namespace: string; call: ToolCall; since: number }): Promise<{ incidentId: string; at: number } | undefined> {
    const key = canonicalJson(q.call.params);
    const hit = this.rows.find((r) => r.environmentId === q.environmentId && r.namespace === q.namespace && r.tool === q.call.tool && r.params === key && r.at > q.since);
    return Promise.resolve(hit === undefined ? undefined : { incidentId: "x", at: hit.at });
  }
  workloadsInFlight(): Promise<string[]> {
    return Promise.resolve([]);
  }
  failures(q: { environmentId: string; namespace: string; service: string; since: number }): Promise<number> {
    return Promise.resolve(this.rows.filter((r) => r.environmentId === q.environmentId && r.namespace === q.namespace && r.service === q.service && r.failed && r.at > q.since).length);
  }
}

/** Records `count` finished remediations spread over the last day and 200 workloads, in bulk. */
async function seed(db: Database, count: number, now: number): Promise<Recorded[]> {
  if (count === 0) return [];
  await db.pool.query(
    `INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, environment_id)
     SELECT 'bench-' || g, 'fp-' || g, 'KubePodNotReady', 'svc-' || (g % ${WORKLOADS}), 'warning', 'resolved', 'env-bench' FROM generate_series(1, $1) g`,
    [count / 10],
  );
  await db.pool.query(
    `INSERT INTO actions (incident_id, attempt, kind, tool, params, risk, action_class, target_service, idempotency_key, status, namespace, env_time, verdict)
     SELECT 'bench-' || (1 + g % ($1 / 10)), 1 + g / ($1 / 10), 'remediation', 'restart_pods', jsonb_build_object('service', 'svc-' || (g % ${WORKLOADS})), 'low', 'restart',
            'svc-' || (g % ${WORKLOADS}), 'bench-key-' || g, 'succeeded', 'prod', to_timestamp(($2::bigint - (g % 1440) * ${MINUTE}) / 1000.0),
            CASE WHEN g % 7 = 0 THEN 'not_recovered' ELSE 'recovered' END
       FROM generate_series(0, $1 - 1) g`,
    [count, now],
  );
  return Array.from({ length: count }, (_, g) => ({
    environmentId: "env-bench",
    namespace: "prod",
    service: `svc-${g % WORKLOADS}`,
    tool: "restart_pods",
    actionClass: "restart",
    params: canonicalJson({ service: `svc-${g % WORKLOADS}` }),
    at: now - (g % 1440) * MINUTE,
    failed: g % 7 === 0,
  }));
}

async function benchBackend(backend: string, open: () => Promise<Database>): Promise<PolicyRow[]> {
  const rows: PolicyRow[] = [];
  const tools = createDefaultRegistry();
  const engine = new PolicyEngine(DEFAULT_POLICY, tools);
  const env = SimEnvironment.create({ services: [{ name: "checkout", replicas: 4, revisions: [{ image: "registry.internal/checkout:1.0.0", deployedAtMinutes: -9000 }] }] });
  const now = env.now();
  for (const count of [0, 20_000]) {
    const db = await open();
    try {
      await migrate(db);
      const recorded = await seed(db, count, now);
      const facts: IncidentFacts = {
        id: "inc-bench",
        subject: { service: "checkout", namespace: "prod" },
        environmentId: "env-bench",
        openedAt: now,
        now,
        attempts: [],
        usage: { modelTokens: 0, modelCostUsd: 0 },
        services: ["checkout"],
      };
      const ledgers: Array<[string, PolicyLedger]> = [
        ["in-memory (baseline)", new ArrayLedger(recorded)],
        ["actions table", new ActionsLedger(new IncidentStore(db))],
      ];
      for (const [name, ledger] of ledgers) {
        const times: number[] = [];
        for (let i = 0; i < EVALUATIONS + 20; i++) {
          const started = performance.now();
          await engine.evaluate(
            { call: { tool: "restart_pods", params: { service: "checkout" } }, confidence: 0.9, category: "deployment", strategy: "restart_pods:checkout", incident: facts },
            env,
            ledger,
          );
          if (i >= 20) times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        rows.push({ backend, actions: count, ledger: name, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) });
      }
    } finally {
      await db.close();
    }
  }
  return rows;
}

/** Runs the policy bench on PGlite, and on PostgreSQL when a URL is given. */
export async function benchPolicy(url?: string): Promise<PolicyRow[]> {
  const rows = await benchBackend("embedded (PGlite)", () => openDatabase({ dataDir: "memory://" }));
  if (url !== undefined && url !== "") rows.push(...(await withScratchDatabase(url, (scratch) => benchBackend("PostgreSQL", () => openDatabase({ url: scratch })))));
  return rows;
}

/** Prints the policy table with each row's ratio to its in-memory baseline. */
export function printPolicyTable(rows: PolicyRow[]): void {
  console.log(`\nPolicy evaluation (every rule; ledger rules read the actions table), ${EVALUATIONS} evaluations per row\n`);
  const header = `${"backend".padEnd(20)} ${"actions".padStart(8)} ${"ledger".padEnd(22)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"p50 vs in-memory".padStart(17)}`;
  console.log(header);
  console.log("-".repeat(header.length));
  for (const r of rows) {
    const base = rows.find((b) => b.backend === r.backend && b.actions === r.actions && b.ledger.startsWith("in-memory"));
    const ratio = base !== undefined ? `${(r.p50Ms / base.p50Ms).toFixed(2)}×` : "-";
    console.log(`${r.backend.padEnd(20)} ${String(r.actions).padStart(8)} ${r.ledger.padEnd(22)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${ratio.padStart(17)}`);
  }
}

if (process.argv[1]?.endsWith("policy-evaluation.ts") === true) {
  printPolicyTable(await benchPolicy(process.env["BENCH_DATABASE_URL"] ?? process.env["TEST_DATABASE_URL"]));
}
