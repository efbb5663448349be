import path from "node:path";
import { migrate } from "../../store/migrate.js";
import { MemoryNotifier } from "../../app/notify.js";
import type { Policy } from "../../policy/policy.js";
import { wireSuture, type Suture } from "../../app/suture.js";
import { loadScenario, type Scenario } from "../../app/scenario.js";
import type { TestBackend } from "./backends.js";
import { ROOT } from "./cli.js";

/** A migrated database with the graph wired around it, and the notifications it sent. */
export interface TestSuture {
  suture: Suture;
  notifier: MemoryNotifier;
}

/** Opens a fresh database on the back end, migrates it and wires Suture. */
export async function openTestSuture(backend: TestBackend, policy?: Policy): Promise<TestSuture> {
  const db = await backend.open();
  await migrate(db);
  const notifier = new MemoryNotifier();
  const suture = await wireSuture(db, { notifier, ...(policy !== undefined ? { policy } : {}) });
  return { suture, notifier };
}

/** A shipped scenario by name. */
export function shippedScenario(name: string): Promise<Scenario> {
  return loadScenario(path.join(ROOT, "data", "scenarios", `${name}.yaml`));
}
