import type { StateSnapshot } from "@langchain/langgraph";
import { openDatabase } from "../store/database.js";
import { migrate } from "../store/migrate.js";
import type { PolicyVerdict } from "../domain/model.js";
import { PolicyEngine, withSections, type Policy } from "../policy/policy.js";
import { proposalVerdicts } from "../policy/verdicts.js";
import { loadScenario } from "./scenario.js";
import { runScenario } from "./scenario-run.js";
import { replayIncident } from "./replay.js";
import { wireSuture, type Suture } from "./suture.js";

/** One policy decision of a recorded incident, and what the candidate policy decides instead. */
export interface DecisionDiff {
  scenario: string;
  incidentId: string;
  round: number;
  call: string;
  recorded: PolicyVerdict;
  candidate: PolicyVerdict | null;
  changed: boolean;
}

/** How the candidate policy changes every decision on a set of scenarios. */
export interface PolicyTestReport {
  decisions: DecisionDiff[];
  changed: number;
  /** Decisions the candidate makes more permissive (deny → approval → allow) and stricter. */
  looser: number;
  stricter: number;
}

const STRICTNESS: Record<PolicyVerdict["outcome"], number> = { allow: 0, needs_approval: 1, deny: 2 };

function callText(v: PolicyVerdict): string {
  return `${v.call.tool} ${JSON.stringify(v.call.params)}`;
}

/**
 * Records each scenario under the current policy (in a scratch in-memory database, so nothing
 * touches the operator's), then replays every policy-check step from the checkpoint just before
 * it with the candidate policy (dry run: nothing is executed) and compares the verdicts.
 */
export async function testPolicy(current: Policy, candidate: Policy, scenarioFiles: string[], rulesDir?: string): Promise<PolicyTestReport> {
  const db = await openDatabase({ dataDir: "memory://" });
  try {
    await migrate(db);
    const recordSuture = await wireSuture(db, { policy: current, memoryScope: "policy-test", ...(rulesDir !== undefined ? { rulesDir } : {}) });
    const decisions: DecisionDiff[] = [];
    for (const file of scenarioFiles) {
      const scenario = await loadScenario(file);
      const recorded = await runScenario(recordSuture, scenario);
      const before: StateSnapshot[] = [];
      for await (const s of recordSuture.graph.getStateHistory({ configurable: { thread_id: recorded.incidentId } })) {
        if (s.next.includes("policy-check")) before.push(s);
      }
      before.reverse();
      const original = await proposalVerdicts(recordSuture.store, recorded.incidentId);
      // The scenario's own policy sections (e.g. a freeze) describe its environment: keep them.
      const candidatePolicy = withSections(candidate, scenario.policy);
      const candidateSuture: Suture = { ...recordSuture, policy: new PolicyEngine(candidatePolicy, recordSuture.tools) };
      for (const [i, snapshot] of before.entries()) {
        const verdict = original[i];
        if (verdict === undefined) continue;
        const fork = await replayIncident(candidateSuture, recorded.incidentId, { from: String(snapshot.config.configurable?.["checkpoint_id"] ?? "") });
        const replayed = (await proposalVerdicts(candidateSuture.store, fork.incidentId))[0] ?? null;
        decisions.push({
          scenario: scenario.name,
          incidentId: recorded.incidentId,
          round: i + 1,
          call: callText(verdict),
          recorded: verdict,
          candidate: replayed,
          changed: replayed === null || replayed.outcome !== verdict.outcome,
        });
      }
    }
    const changed = decisions.filter((d) => d.changed);
    return {
      decisions,
      changed: changed.length,
      looser: changed.filter((d) => d.candidate !== null && STRICTNESS[d.candidate.outcome] < STRICTNESS[d.recorded.outcome]).length,
      stricter: changed.filter((d) => d.candidate === null || STRICTNESS[d.candidate.outcome] > STRICTNESS[d.recorded.outcome]).length,
    };
  } finally {
    await db.close();
  }
}
