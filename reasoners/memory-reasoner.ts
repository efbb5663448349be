import type { Hypothesis } from "../domain/model.js";
import type { MemoryNeighbor } from "../memory/incident-memory.js";
import type { ToolRegistry } from "../tools/registry.js";
import { MIN_SIMILARITY, recency } from "./memory-evidence.js";
import type { Reasoner, ReasonerInput } from "./reasoner.js";

/**
 * Memory alone has only resemblance to go on, not a checked pattern: its confidence is the
 * similarity (decayed by age) times this, so a near-identical recent incident can act and a
 * loose resemblance escalates.
 */
export const MEMORY_ALONE_SCALE = 0.8;

/** The past incident's fix aimed at this incident's service, or why it cannot be. */
function retarget(neighbor: MemoryNeighbor, service: string, tools: ToolRegistry): { tool: string; params: Record<string, unknown> } | string {
  const call = neighbor.details["remediationCall"] as { tool?: unknown; params?: unknown } | null | undefined;
  if (call == null || typeof call.tool !== "string" || typeof call.params !== "object" || call.params === null) return "no remediation call was remembered";
  if (!tools.has(call.tool) || tools.get(call.tool).risk === "read") return `remembered tool "${call.tool}" is not a registered remediation`;
  const params = { ...(call.params as Record<string, unknown>) };
  // Only the service the past incident alerted on is swapped; any other target stays as remembered and the policy checks it live.
  if (params["service"] === neighbor.service) params["service"] = service;
  const parsed = tools.parseCall({ tool: call.tool, params });
  return parsed.ok ? { tool: call.tool, params: parsed.params } : `remembered call no longer validates: ${parsed.error}`;
}

/**
 * Incident memory as a reasoner on its own: proposes what fixed the most similar resolved past
 * incidents, aimed at this incident's service. Used when memory is evaluated alone; beside other
 * reasoners, memory instead adjusts their candidates (applyMemory), so it is never counted twice.
 */
export class MemoryReasoner implements Reasoner {
  readonly name = "memory";

  constructor(private readonly tools: ToolRegistry) {}

  diagnose(input: ReasonerInput): Promise<Hypothesis[]> {
    const tried = new Set(input.attempts.map((a) => a.strategy));
    const byStrategy = new Map<string, Hypothesis>();
    const skipped: string[] = [];
    for (const n of input.recalled ?? []) {
      if (n.similarity < MIN_SIMILARITY || n.outcome !== "resolved" || n.faultClass === null || n.incidentId === null) continue;
      const call = retarget(n, input.alert.service, this.tools);
      if (typeof call === "string") {
        skipped.push(`${n.incidentId}: ${call}`);
        continue;
      }
      const target = this.tools.get(call.tool).target?.(call.params).service ?? "";
      const strategy = `${call.tool}:${target}`;
      if (tried.has(strategy)) continue;
      const confidence = n.similarity * recency(n.occurredAt, input.context.gatheredAt) * MEMORY_ALONE_SCALE;
      if ((byStrategy.get(strategy)?.confidence ?? -1) >= confidence) continue;
      const evidenceIds = input.context.evidence.filter((e) => e.key === "metric.anomalous" && e.service === input.alert.service).map((e) => e.id);
      byStrategy.set(strategy, {
        id: `memory:${n.incidentId}:${n.faultClass}`,
        faultClass: n.faultClass,
        category: "memory",
        title: `Like ${n.incidentId} (similarity ${n.similarity.toFixed(2)}), which ${call.tool} fixed`,
        confidence,
        evidenceIds,
        reasoner: "memory",
        disposition: "act",
        candidates: [{ call, rationale: `fixed ${n.title} (${n.incidentId}), similarity ${n.similarity.toFixed(2)}`, strategy }],
        explanation: `Resolved past incident ${n.incidentId} "${n.title}" looks like this one; its fix, aimed at ${input.alert.service}, is proposed. Memory cannot check that the cause is the same.`,
      });
    }
    if (skipped.length > 0) input.report?.({ notes: [`memory could not reuse: ${skipped.join("; ")}`] });
    return Promise.resolve([...byStrategy.values()]);
  }
}
