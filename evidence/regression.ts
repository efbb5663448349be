import type { DeploymentRevision } from "../environments/adapter.js";
import type { Evidence } from "../domain/model.js";
import { imageRunsVersion } from "../domain/deploys.js";
import type { RegressionFinding } from "../domain/regressions.js";

/** A fact before it gets its id. */
type FactDraft = Omit<Evidence, "id" | "attrs"> & { attrs?: Evidence["attrs"] };

/** Whether a revision runs the deployed version: the image is it, is tagged with it, or its change cause names it. */
function runsVersion(r: DeploymentRevision, version: string): boolean {
  return imageRunsVersion(r.image, version) || (r.changeCause ?? "").split(/[\s,;()]+/).includes(version);
}

/**
 * Facts of a regression finding (from the store, written by the regression watch): the candidate
 * with its triage, each flagged signature and each suspect file. `deploy_is_latest` says whether
 * the workload still runs the deployed version: a rollback is only proposed for what is running.
 */
export function regressionFacts(finding: RegressionFinding, service: string, deploys: readonly DeploymentRevision[]): FactDraft[] {
  const t = finding.triage;
  const latest = [...deploys].sort((a, b) => b.revision - a.revision)[0];
  const isLatest = latest !== undefined && runsVersion(latest, finding.version);
  const newOnes = finding.flagged.filter((f) => !f.seenBefore).length;
  const maxRatio = Math.max(0, ...finding.flagged.map((f) => (Number.isFinite(f.rateRatio) ? f.rateRatio : 999)));
  const facts: FactDraft[] = [
    {
      key: "regression.candidate",
      service,
      value: finding.flagged.length,
      summary:
        `deploy ${finding.version} of ${finding.workload.namespace}/${finding.workload.name} raised ${finding.flagged.length} error signature(s) (${newOnes} new); ` +
        `triage: ${t.isRuntimeChange ? "runtime change" : "no runtime change"}, causal link ${t.causalLink ? "yes" : "no"} (${t.confidence})` +
        `${t.migration ? ", carries a schema migration" : ""}${t.contractChange ? ", changes a contract" : ""}` +
        `${isLatest ? "" : latest === undefined ? "; the workload's revisions cannot be read" : `; the workload now runs ${latest.image}, not ${finding.version}`}`,
      attrs: {
        causal_link: t.confidence,
        linked: t.causalLink,
        runtime_change: t.isRuntimeChange,
        rollback_safe: t.rollbackSafe,
        migration: t.migration,
        contract_change: t.contractChange,
        deploy_version: finding.version,
        deploy_is_latest: isLatest,
        new_signatures: newOnes,
        max_rate_ratio: Math.round(maxRatio * 10) / 10,
      },
    },
  ];
  for (const f of finding.flagged) {
    facts.push({
      key: "regression.signature",
      service,
      value: f.signature,
      summary: `after the deploy: ${f.signature} seen ${f.observed} times, ${f.expected.toFixed(1)} expected${f.seenBefore ? "" : " (never seen before)"} (p ${f.p.toExponential(1)})`,
      attrs: { observed: f.observed, expected: Math.round(f.expected * 100) / 100, new: !f.seenBefore },
    });
  }
  for (const s of t.suspects) {
    facts.push({ key: "regression.suspect", service, value: s.path, summary: `suspect ${s.kind} file ${s.path}: ${s.reasons.join("; ")}`, attrs: { kind: s.kind } });
  }
  return facts;
}
