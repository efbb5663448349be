import { DatabaseClock } from "../store/clock.js";
import { processClock } from "./fault-points.js";
import type { AdapterCallLimits } from "../environments/instrumented.js";
import { AlertmanagerSettleSilencer } from "./alert-silences.js";
import type { SettleSilencer } from "../graphs/context.js";
import path from "node:path";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { ClusterConnection } from "./cluster.js";
import { loadRunbookActionsFile } from "../environments/runbook-actions/declarations.js";
import type { ClusterConfig, Config, PrometheusConfig } from "./config.js";
import { loadSignalsFile } from "../environments/prometheus/signal-templates.js";
import { openDatabase, type Database } from "../store/database.js";
import { IncidentStore } from "../store/incident-store.js";
import { assertMigrated, migrate } from "../store/migrate.js";
import type { IncidentGraph } from "../graphs/incident-graph.js";
import { incidentGraph } from "./graph.js";
import type { Notifier } from "../domain/notification.js";
import { FileNotifier, WebhookNotifier } from "./notify.js";
import { DEFAULT_POLICY, PolicyEngine, type Policy, type PolicyHolder } from "../policy/policy.js";
import { PolicyFile } from "../policy/source.js";
import type { Reasoner } from "../reasoners/reasoner.js";
import { LlmReasoner, type LlmOptions } from "../reasoners/llm/llm-reasoner.js";
import { RunbookReasoner } from "../reasoners/runbook/runbook-reasoner.js";
import { createEmbedder, HashingEmbedder, type Embedder } from "../memory/embeddings.js";
import { IncidentMemory } from "../memory/incident-memory.js";
import { createDefaultRegistry, type ToolRegistry } from "../tools/registry.js";
import { ResourceLocks } from "../store/locks.js";
import { PostgresConfigMapHistory } from "../store/config-versions.js";

/** Everything a command needs: the database, the compiled graph and the shared services. */
export interface Suture {
  db: Database;
  store: IncidentStore;
  checkpointer: PostgresSaver;
  graph: IncidentGraph;
  tools: ToolRegistry;
  reasoners: Reasoner[];
  /** Whether past incidents adjust the reasoners' candidates (see applyMemory). */
  memoryAdjusts: boolean;
  policy: PolicyEngine;
  /** The configured policy file, reloadable while running (absent = a fixed policy). */
  policyFile?: PolicyFile;
  notifier: Notifier;
  memory: IncidentMemory;
  /** Per-workload remediation locks (one remediation at a time per workload). */
  locks: ResourceLocks;
  /** The Kubernetes cluster Suture observes and acts on, when one is configured. */
  cluster?: ClusterConnection;
  /** Alertmanager write-back while actions settle, when `ALERTMANAGER_URL` is set. */
  silencer?: SettleSilencer;
  /** Wall-clock time as the database tells it: deadlines agree across workers whose clocks do not. */
  clock: DatabaseClock;
  /** How adapter calls are bounded and retried (default: 20 s per call, reads tried 3 times). */
  adapterLimits?: AdapterCallLimits;
  close(): Promise<void>;
}

/** Options for {@link openSuture}. */
export interface OpenOptions {
  /** Apply migrations first (the demo and `migrate` do; other commands expect them applied). */
  migrate?: boolean;
  /** Use this policy instead of the configured file. */
  policy?: Policy;
  /** Use this memory scope instead of the configured one (evaluation runs use their own). */
  memoryScope?: string;
}

/** Services to wire around an open database. */
export interface WireOptions {
  policy?: Policy | PolicyHolder;
  rulesDir?: string;
  notifier?: Notifier;
  embedder?: Embedder;
  /** Memory scope: incidents are remembered and recalled within it (default "default"). */
  memoryScope?: string;
  /** Adds the LLM reasoner beside the rules. */
  llm?: LlmOptions;
  /** A Kubernetes cluster to observe and act on. */
  cluster?: ClusterConfig;
  /** Where the cluster's metrics are read (with a cluster only). */
  prometheus?: PrometheusConfig;
  /** Silences alerts at their source while actions settle. */
  silencer?: SettleSilencer;
}

/** Wires the graph and its services around an already open (and migrated) database. */
export async function wireSuture(db: Database, options: WireOptions = {}): Promise<Suture> {
  const tools = createDefaultRegistry();
  const reasoners: Reasoner[] = [await RunbookReasoner.fromDirectory(options.rulesDir)];
  if (options.llm !== undefined) reasoners.push(new LlmReasoner(options.llm, tools));
  const checkpointer = new PostgresSaver(db.pool);
  const clock = new DatabaseClock(db.pool, processClock());
  return {
    db,
    store: new IncidentStore(db),
    checkpointer,
    graph: incidentGraph(checkpointer),
    tools,
    reasoners,
    memoryAdjusts: true,
    policy: new PolicyEngine(options.policy ?? DEFAULT_POLICY, tools),
    notifier: options.notifier ?? new FileNotifier(path.join(".suture", "notifications.jsonl")),
    memory: new IncidentMemory(db, options.embedder ?? new HashingEmbedder(), options.memoryScope ?? "default"),
    locks: new ResourceLocks(db),
    clock,
    ...(options.policy instanceof PolicyFile ? { policyFile: options.policy } : {}),
    ...(options.silencer !== undefined ? { silencer: options.silencer } : {}),
    ...(options.cluster !== undefined ? { cluster: new ClusterConnection(options.cluster, new PostgresConfigMapHistory(db.pool), options.prometheus, clock) } : {}),
    close: () => db.close(),
  };
}

/** The cluster configuration with its runbook-actions file read and validated (a bad file stops the start, naming the field). */
async function withRunbookActions(cluster: ClusterConfig): Promise<ClusterConfig> {
  if (cluster.runbookActionsFile === undefined) return cluster;
  return { ...cluster, runbookActions: (await loadRunbookActionsFile(cluster.runbookActionsFile)).data };
}

/** The Prometheus configuration with its signal templates read and validated (a bad file stops the start, naming the line). */
async function withSignals(prometheus: PrometheusConfig): Promise<PrometheusConfig> {
  return { ...prometheus, signals: (await loadSignalsFile(prometheus.signalsFile)).data };
}

/** Opens the configured database and wires the graph's services. */
export async function openSuture(config: Config, options: OpenOptions = {}): Promise<Suture> {
  const db = await openDatabase({ ...(config.databaseUrl !== undefined ? { url: config.databaseUrl } : {}), dataDir: config.dataDir });
  try {
    if (options.migrate === true) await migrate(db);
    else await assertMigrated(db);
    const policy = options.policy ?? (config.policyFile !== undefined ? await PolicyFile.open(config.policyFile) : DEFAULT_POLICY);
    const silencer = AlertmanagerSettleSilencer.fromConfig(config);
    const suture = await wireSuture(db, {
      policy,
      embedder: createEmbedder({
        ...(config.openaiApiKey !== undefined ? { apiKey: config.openaiApiKey } : {}),
        ...(config.embeddingModel !== undefined ? { model: config.embeddingModel } : {}),
        ...(config.openaiBaseUrl !== undefined ? { baseURL: config.openaiBaseUrl } : {}),
      }),
      memoryScope: options.memoryScope ?? config.memoryScope,
      ...(config.openaiApiKey !== undefined
        ? { llm: { ...config.llm, apiKey: config.openaiApiKey, corrections: 1, ...(config.openaiBaseUrl !== undefined ? { baseURL: config.openaiBaseUrl } : {}) } }
        : {}),
      ...(config.rulesDir !== undefined ? { rulesDir: config.rulesDir } : {}),
      ...(config.cluster !== undefined ? { cluster: await withRunbookActions(config.cluster) } : {}),
      ...(config.cluster !== undefined && config.prometheus !== undefined ? { prometheus: await withSignals(config.prometheus) } : {}),
      ...(silencer !== undefined ? { silencer } : {}),
      notifier: config.notifyWebhook !== undefined ? new WebhookNotifier(config.notifyWebhook) : new FileNotifier(path.join(config.home, "notifications.jsonl")),
    });
    // Wall-clock deadlines are timed by the database's clock from the first incident on (workers re-measure in each self-health pass).
    if (suture.cluster !== undefined) await suture.clock.sync();
    return suture;
  } catch (error) {
    await db.close();
    throw error;
  }
}
