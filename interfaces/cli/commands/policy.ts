import type { Config } from "../../../app/config.js";
import { scenarioFiles } from "../../../app/evaluate.js";
import type { PolicyCheck } from "../../../domain/model.js";
import { ActionsLedger } from "../../../store/ledger.js";
import { DEFAULT_POLICY, loadPolicy, policyVersion, type Policy } from "../../../policy/policy.js";
import { recordedVerdicts } from "../../../policy/verdicts.js";
import { testPolicy } from "../../../app/policy-test.js";
import { openSuture } from "../../../app/suture.js";
import type { CommandArgs } from "../args.js";
import { color } from "../format.js";

const USAGE = `usage: suture policy check <file>
       suture policy explain <incident>
       suture policy test <file> --scenarios <dir> [--only a,b]
       suture policy breakers
       suture policy reset-breaker <namespace>/<service> --as <name> --reason "<why>"`;

function text(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** One line per section of a policy, for `policy check`. */
function summarize(policy: Policy): string[] {
  const t = policy.thresholds;
  return [
    `thresholds low ${t.low} · medium ${t.medium} · high ${t.high}; escalate below ${policy.escalateBelow}`,
    `approval required for ${policy.approval.requiredFor.join(", ")} (+${policy.approval.rules.length} scoped rule(s)); timeout ${policy.approval.timeoutMinutes} min`,
    `autonomy ${policy.autonomy.default} (+${policy.autonomy.rules.length} scoped rule(s))`,
    `never remediated: ${policy.neverRemediate.categories.join(", ")} → ${policy.neverRemediate.then}`,
    `${policy.tools.length} tool list(s), ${policy.rateLimits.length} rate limit(s), ${policy.freezeWindows.length} freeze window(s)`,
    `blast radius: ≤ ${Math.round(policy.blastRadius.maxReplicaShare * 100)}% replicas, ≤ ${policy.blastRadius.maxWorkloadsPerAction} workload(s) per action, ≤ ${policy.blastRadius.maxConcurrentWorkloads} at once`,
    `idempotency window ${policy.idempotency.windowMinutes} min; guardrails: ${policy.guardrails.maxAttempts} attempts, ${policy.guardrails.maxWallMinutes} min, ${policy.guardrails.maxModelTokens} tokens / $${policy.guardrails.maxModelCostUsd}; breaker after ${policy.guardrails.circuitBreaker.failures} failures`,
  ];
}

const MARK: Record<PolicyCheck["outcome"], string> = { pass: "✓", approval: "?", deny: "✗" };

async function check(args: CommandArgs): Promise<number> {
  const file = args.positionals[1];
  if (file === undefined) throw new Error(USAGE);
  try {
    const policy = await loadPolicy(file);
    console.log(`${color("green", "ok")}: ${file} is a valid policy (version ${policyVersion(policy)})`);
    for (const line of summarize(policy)) console.log(`  ${line}`);
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

async function explain(config: Config, args: CommandArgs): Promise<number> {
  const id = args.positionals[1];
  if (id === undefined) throw new Error(USAGE);
  const suture = await openSuture(config);
  try {
    const incident = await suture.store.getIncident(id);
    const recorded = await recordedVerdicts(suture.store, id);
    console.log(color("bold", `Policy verdicts for ${id} (${incident.alert_name} on ${incident.service}, ${incident.status})`));
    if (recorded.length === 0) console.log("  none: nothing was proposed for action");
    for (const { verdict: v, source } of recorded) {
      const heading = source === "proposed" ? "proposed" : `after approval by ${source.approvedBy}`;
      console.log(
        `\n${color("bold", `${v.call.tool} ${JSON.stringify(v.call.params)}`)} [${v.risk} risk] ${heading} → ${color(v.outcome === "allow" ? "green" : v.outcome === "deny" ? "red" : "yellow", v.outcome.replace("_", " "))}${v.policyVersion ? color("dim", `  policy ${v.policyVersion}`) : ""}`,
      );
      for (const c of v.checks) console.log(`  ${MARK[c.outcome]} ${c.rule.padEnd(26)} ${c.detail}`);
      if (v.checks.length === 0) for (const r of v.reasons) console.log(`  - ${r}`);
    }
    return 0;
  } finally {
    await suture.close();
  }
}

async function test(config: Config, args: CommandArgs): Promise<number> {
  const file = args.positionals[1];
  const dir = text(args, "scenarios");
  if (file === undefined || dir === undefined) throw new Error(USAGE);
  const candidate = await loadPolicy(file);
  const current = config.policyFile !== undefined ? await loadPolicy(config.policyFile) : DEFAULT_POLICY;
  const only = text(args, "only")?.split(",");
  const files = (await scenarioFiles([dir])).filter((f) => only === undefined || only.some((o) => f.includes(o)));
  console.log(`Replaying ${files.length} scenario(s): current policy ${policyVersion(current)} (${config.policyFile ?? "built-in default"}) vs ${file} (${policyVersion(candidate)})\n`);
  const report = await testPolicy(current, candidate, files, config.rulesDir);
  console.log(`${"scenario".padEnd(36)} ${"round".padEnd(5)} ${"call".padEnd(44)} ${"current".padEnd(15)} candidate`);
  for (const d of report.decisions) {
    const now = d.candidate?.outcome.replace("_", " ") ?? "(no verdict)";
    const line = `${d.scenario.padEnd(36)} ${String(d.round).padEnd(5)} ${d.call.slice(0, 44).padEnd(44)} ${d.recorded.outcome.replace("_", " ").padEnd(15)} ${d.changed ? color("yellow", now) : now}`;
    console.log(line);
    if (d.changed && d.candidate !== null) for (const r of d.candidate.reasons) console.log(color("dim", `      ${r}`));
  }
  console.log(`\n${report.decisions.length} decision(s); ${report.changed} changed (${report.looser} looser, ${report.stricter} stricter)`);
  return 0;
}

async function breakers(config: Config): Promise<number> {
  const suture = await openSuture(config);
  try {
    const threshold = suture.policy.policy.guardrails.circuitBreaker.failures;
    const open = await new ActionsLedger(suture.store).openBreakers(threshold);
    if (open.length === 0) console.log(`no open circuit breakers (opens after ${threshold} failed remediations on a workload)`);
    for (const b of open)
      console.log(
        `${b.namespace}/${b.service}: ${b.failures} failed remediation(s), last ${b.lastFailureAt?.toISOString() ?? "?"} → reset with \`suture policy reset-breaker ${b.namespace}/${b.service} --as <you> --reason "…"\``,
      );
    return 0;
  } finally {
    await suture.close();
  }
}

async function resetBreaker(config: Config, args: CommandArgs): Promise<number> {
  const workload = args.positionals[1];
  const who = text(args, "as");
  const reason = text(args, "reason");
  const [namespace, service, extra] = (workload ?? "").split("/");
  if (namespace === undefined || service === undefined || namespace === "" || service === "" || extra !== undefined || who === undefined || reason === undefined) throw new Error(USAGE);
  const suture = await openSuture(config);
  try {
    const { forgotten } = await new ActionsLedger(suture.store).resetBreaker(namespace, service, who, reason);
    await suture.store.audit({
      incidentId: null,
      actor: who,
      kind: "breaker_reset",
      summary: `circuit breaker of ${namespace}/${service} reset by ${who}: ${reason}`,
      detail: { namespace, service, forgotten },
    });
    console.log(`circuit breaker of ${namespace}/${service} reset; ${forgotten} earlier failure(s) no longer count`);
    return 0;
  } finally {
    await suture.close();
  }
}

/** `suture policy check|explain|test|breakers|reset-breaker`. */
export async function policyCommand(config: Config, args: CommandArgs): Promise<number> {
  switch (args.positionals[0]) {
    case "check":
      return check(args);
    case "explain":
      return explain(config, args);
    case "test":
      return test(config, args);
    case "breakers":
      return breakers(config);
    case "reset-breaker":
      return resetBreaker(config, args);
    default:
      console.error(USAGE);
      return 2;
  }
}
