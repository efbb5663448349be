/**
 * Incident-memory search on real PostgreSQL with pgvector: top-5 latency (p50/p99) through the
 * HNSW index at 10k and 100k stored incidents, recall@5 against an exact scan of the same rows,
 * and insert throughput with the index maintained incrementally. Vectors are real embeddings
 * (the offline hashing embedder) of generated incident texts, so they are centred like the
 * vectors the product stores.
 *
 *   BENCH_DATABASE_URL=postgres://… npm run bench     (or TEST_DATABASE_URL)
 */
import pgvector from "pgvector";
import { openDatabase, type Database } from "../store/database.js";
import { withScratchDatabase } from "./scratch-database.js";
import { migrate } from "../store/migrate.js";
import { HashingEmbedder, type WeightedText } from "../memory/embeddings.js";
import { Rng } from "../environments/simulator/rng.js";
import { percentile } from "./stats.js";

const SIZES = (process.env["BENCH_MEMORY_SIZES"] ?? "10000,100000").split(",").map(Number);
const QUERIES = Number(process.env["BENCH_MEMORY_QUERIES"] ?? 200);
const BATCH = 500;

const ALERTS = [
  "KubePodCrashLooping",
  "KubePodNotReady",
  "KubeDeploymentReplicasMismatch",
  "HighErrorRate",
  "HighLatencyP99",
  "KafkaConsumerLagHigh",
  "KubePersistentVolumeFillingUp",
  "NodeFilesystemSpaceFillingUp",
  "KubeContainerOOMKilled",
  "KubeCPUOvercommit",
  "TargetDown",
  "CertificateExpiringSoon",
  "AuthFailuresHigh",
  "KubeJobFailed",
  "PostgresReplicationLag",
  "RedisMemoryHigh",
  "NginxHighHttp5xxErrorRate",
  "KubeHpaMaxedOut",
];
const SERVICES = Array.from(
  { length: 60 },
  (_, i) => `${["checkout", "payments", "orders", "search", "catalog", "billing", "ledger", "auth", "gateway", "recommendations"][i % 10]}-${Math.floor(i / 10)}`,
);
const SYMPTOMS = [
  "pod.reason CrashLoopBackOff",
  "pod.reason ImagePullBackOff",
  "pod.last_termination OOMKilled",
  "recent rollout changed image",
  "recent rollout changed env",
  "config map changed keys feature flag",
  "error_rate abnormal",
  "latency_p99_ms abnormal",
  "request_rate abnormal",
  "service.port_mismatch true",
  "breaker.state open",
  "consumer_lag abnormal",
  "disk_usage_pct abnormal",
  "secret exposed key-value-secret",
];
const SIGNATURES = [
  "exec /app/server: exec format error",
  "failed to deserialize record at topic=orders partition= offset=",
  "connect ECONNREFUSED",
  "upstream request timeout context deadline exceeded",
  "write /var/log/app/app.log: no space left on device",
  "TypeError: Cannot read properties of undefined",
  "circuit breaker is OPEN; failing fast",
  "x509: certificate has expired or is not yet valid",
  "ERROR: invalid page in block of relation",
  "FeatureFlagError: enabled but rule set missing",
];

function pick<T>(rng: Rng, items: T[]): T {
  return items[rng.int(0, items.length - 1)] as T;
}

/** A generated incident document shaped like memory/incident-text.ts writes them. */
function incidentDoc(rng: Rng): WeightedText[] {
  const alert = pick(rng, ALERTS);
  const service = pick(rng, SERVICES);
  const symptoms = Array.from({ length: rng.int(1, 4) }, () => pick(rng, SYMPTOMS));
  const signatures = Array.from({ length: rng.int(0, 3) }, () => pick(rng, SIGNATURES));
  return [
    { text: alert, weight: 3 },
    { text: `${alert} firing on ${service}`, weight: 1.5 },
    { text: `${service} prod critical`, weight: 0.5 },
    { text: `service ${service}`, weight: 1 },
    { text: symptoms.join(". "), weight: 1.5 },
    { text: signatures.join(". "), weight: 1 },
  ];
}

const TOP5 = `SELECT id FROM incident_memory WHERE scope = 'bench' AND kind = 'incident' ORDER BY embedding <=> $1::vector LIMIT 5`;

async function insertRows(db: Database, embedder: HashingEmbedder, rng: Rng, count: number): Promise<number> {
  let inserted = 0;
  let elapsed = 0;
  while (inserted < count) {
    const n = Math.min(BATCH, count - inserted);
    const vectors = Array.from({ length: n }, () => pgvector.toSql(embedder.embedOne(incidentDoc(rng))) ?? "");
    const values = vectors.map((_, i) => `('incident', 'bench', 'bench incident', 'generated', $${i + 1}::vector)`).join(",");
    const started = performance.now();
    await db.pool.query(`INSERT INTO incident_memory (kind, scope, title, text, embedding) VALUES ${values}`, vectors);
    elapsed += performance.now() - started;
    inserted += n;
  }
  return (count / elapsed) * 1000;
}

async function measure(db: Database, embedder: HashingEmbedder, size: number, insertRate: number): Promise<Record<string, number>> {
  const rng = new Rng(99);
  const queries = Array.from({ length: QUERIES }, () => pgvector.toSql(embedder.embedOne(incidentDoc(rng))) ?? "");
  const times: number[] = [];
  let recall = 0;
  const client = await db.pool.connect();
  try {
    for (const q of queries.slice(0, 10)) await client.query(TOP5, [q]);
    for (const q of queries) {
      const started = performance.now();
      const approx = (await client.query<{ id: string }>(TOP5, [q])).rows.map((r) => r.id);
      times.push(performance.now() - started);
      await client.query("BEGIN");
      await client.query("SET LOCAL enable_indexscan = off");
      await client.query("SET LOCAL enable_bitmapscan = off");
      const exact = (await client.query<{ id: string }>(TOP5, [q])).rows.map((r) => r.id);
      await client.query("COMMIT");
      recall += approx.filter((id) => exact.includes(id)).length / Math.max(1, exact.length);
    }
    const plan = (await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${TOP5.replace("$1::vector", `'${queries[0] ?? ""}'::vector`)}`)).rows.map((r) => r["QUERY PLAN"]).join(" ");
    if (!plan.includes("incident_memory_embedding_idx")) console.log(`  note: the planner did not use the HNSW index at ${size} rows`);
  } finally {
    client.release();
  }
  times.sort((a, b) => a - b);
  return { size, p50: percentile(times, 50), p99: percentile(times, 99), recall: recall / queries.length, insertRate };
}

/** Runs the memory benchmark against a fresh database on the server at `url`. */
export async function benchMemorySearch(url: string): Promise<Array<Record<string, number>>> {
  return withScratchDatabase(url, async (scratch) => {
    const db = await openDatabase({ url: scratch });
    const rows: Array<Record<string, number>> = [];
    try {
      await migrate(db);
      const embedder = new HashingEmbedder();
      const rng = new Rng(7);
      let stored = 0;
      for (const size of SIZES) {
        const rate = await insertRows(db, embedder, rng, size - stored);
        stored = size;
        await db.pool.query("ANALYZE incident_memory");
        rows.push(await measure(db, embedder, size, rate));
      }
    } finally {
      await db.close();
    }
    return rows;
  });
}

/** Prints the memory table. */
export function printMemoryTable(rows: Array<Record<string, number>>): void {
  console.log(`\nIncident memory search on PostgreSQL + pgvector (HNSW, cosine, 384-d, ${QUERIES} queries, top 5)\n`);
  const header = `${"stored".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"recall@5 vs exact".padStart(18)} ${"inserts/s (index kept)".padStart(23)}`;
  console.log(header);
  console.log("-".repeat(header.length));
  for (const r of rows) {
    console.log(
      `${String(r["size"]).padStart(8)} ${(r["p50"] ?? 0).toFixed(2).padStart(8)} ${(r["p99"] ?? 0).toFixed(2).padStart(8)} ${(r["recall"] ?? 0).toFixed(3).padStart(18)} ${Math.round(
        r["insertRate"] ?? 0,
      )
        .toString()
        .padStart(23)}`,
    );
  }
}
