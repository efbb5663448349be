import type { Hypothesis, MemoryContribution } from "../domain/model.js";
import type { MemoryNeighbor } from "../memory/incident-memory.js";

/** Neighbors less similar than this say nothing about this incident. */
export const MIN_SIMILARITY = 0.55;
/** The most memory can move a candidate's confidence, up or down. */
export const MAX_MEMORY_DELTA = 0.25;
/** A past incident's weight halves every this many days. */
const HALF_LIFE_DAYS = 30;

/** How much a past incident still counts at `now` (1 when new, halving every {@link HALF_LIFE_DAYS}). */
export function recency(occurredAt: Date, now: number): number {
  const ageDays = Math.max(0, (now - occurredAt.getTime()) / 86_400_000);
  return 0.5 ** (ageDays / HALF_LIFE_DAYS);
}
/** What each verified outcome says about doing the same again. */
const VERDICT_VALUE: Record<string, number> = { recovered: 1, not_recovered: -0.7, worse: -1.5 };

/**
 * Turns the nearest past incidents into evidence for each remediation candidate: a remediation
 * that fixed similar incidents (same fault class, same tool) raises the candidate's confidence,
 * one that failed or had to be rolled back lowers it, weighted by similarity and recency. The
 * adjustment is bounded (tanh, ±{@link MAX_MEMORY_DELTA}) so memory informs but never decides alone.
 */
export function applyMemory(hypotheses: Hypothesis[], neighbors: MemoryNeighbor[], now: number): Hypothesis[] {
  const relevant = neighbors.filter((n) => n.similarity >= MIN_SIMILARITY && n.incidentId !== null);
  return hypotheses.map((h) => {
    const candidates = h.candidates.map((c) => {
      const contributions: MemoryContribution[] = [];
      let score = 0;
      for (const n of relevant) {
        for (const a of n.attempts) {
          if (a.faultClass !== h.faultClass || a.tool !== c.call.tool) continue;
          const weight = n.similarity * recency(n.occurredAt, now) * (VERDICT_VALUE[a.verdict] ?? 0);
          score += weight;
          contributions.push({ incidentId: n.incidentId ?? "", similarity: n.similarity, verdict: a.verdict, weight });
        }
      }
      const delta = contributions.length === 0 ? 0 : MAX_MEMORY_DELTA * Math.tanh(score);
      return {
        ...c,
        confidence: Math.max(0, Math.min(0.99, h.confidence + delta)),
        ...(contributions.length > 0 ? { memoryDelta: delta, memory: contributions } : {}),
      };
    });
    candidates.sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
    return { ...h, candidates };
  });
}

/** One line for the timeline: which past incidents moved which candidate, and by how much. */
export function describeMemory(hypotheses: Hypothesis[], neighbors: MemoryNeighbor[]): string | undefined {
  const moved = hypotheses.flatMap((h) =>
    h.candidates
      .filter((c) => c.memoryDelta !== undefined)
      .map((c) => {
        const sources = [...new Set((c.memory ?? []).map((m) => `${m.incidentId} ${m.verdict} sim ${m.similarity.toFixed(2)}`))];
        return `${c.call.tool} ${(c.memoryDelta ?? 0) >= 0 ? "+" : ""}${(c.memoryDelta ?? 0).toFixed(2)} (${sources.join("; ")})`;
      }),
  );
  if (moved.length > 0) return `memory: ${moved.join(", ")}`;
  const close = neighbors.filter((n) => n.similarity >= MIN_SIMILARITY);
  return close.length > 0 ? `memory: ${close.length} similar past incident(s), none with these remediations` : undefined;
}
