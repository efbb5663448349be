import path from "node:path";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type { Config } from "../config/config.js";
import { openDatabase, type Database } from "../db/database.js";
import { IncidentStore } from "../db/incident-store.js";
import { migrate } from "../db/migrate.js";
import { compileIncidentGraph, type IncidentGraph } from "../graphs/incident-graph.js";
import { FileNotifier, WebhookNotifier, type Notifier } from "../notify/notifier.js";
import { DEFAULT_POLICY, loadPolicy, PolicyEngine, type Policy } from "../policy/policy.js";
import type { Reasoner } from "../reasoners/reasoner.js";
import { RunbookReasoner } from "../reasoners/runbook/runbook-reasoner.js";
import { createDefaultRegistry, type ToolRegistry } from "../tools/registry.js";

/** Everything a command needs: the database, the compiled graph and the shared services. */
export interface Suture {
  db: Database;
  store: IncidentStore;
  checkpointer: PostgresSaver;
  graph: IncidentGraph;
  tools: ToolRegistry;
  reasoners: Reasoner[];
  policy: PolicyEngine;
  notifier: Notifier;
  close(): Promise<void>;
}

/** Options for {@link openSuture}. */
export interface OpenOptions {
  /** Apply migrations first (the demo and `migrate` do; other commands expect them applied). */
  migrate?: boolean;
  /** Use this policy instead of the configured file. */
  policy?: Policy;
}

/** Opens the configured database and wires the graph's services. */
export async function openSuture(config: Config, options: OpenOptions = {}): Promise<Suture> {
  const db = await openDatabase({ ...(config.databaseUrl !== undefined ? { url: config.databaseUrl } : {}), dataDir: config.dataDir });
  try {
    if (options.migrate === true) await migrate(db);
    const policyValues = options.policy ?? (config.policyFile !== undefined ? await loadPolicy(config.policyFile) : DEFAULT_POLICY);
    const tools = createDefaultRegistry();
    const reasoners: Reasoner[] = [await RunbookReasoner.fromDirectory(config.rulesDir)];
    const checkpointer = new PostgresSaver(db.pool);
    return {
      db,
      store: new IncidentStore(db),
      checkpointer,
      graph: compileIncidentGraph(checkpointer),
      tools,
      reasoners,
      policy: new PolicyEngine(policyValues, tools),
      notifier:
        config.notifyWebhook !== undefined
          ? new WebhookNotifier(config.notifyWebhook)
          : new FileNotifier(path.join(config.home, "notifications.jsonl")),
      close: () => db.close(),
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
