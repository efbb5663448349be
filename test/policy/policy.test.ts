import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.js";
import { IncidentStore } from "../../store/incident-store.js";
import { migrate } from "../../store/migrate.js";
import { ActionsLedger } from "../../store/ledger.js";
import { DEFAULT_POLICY, loadPolicy, PolicyEngine, withSections, type IncidentFacts, type Policy } from "../../policy/policy.js";
import type { PolicyInputFile } from "../../policy/schema.js";
import { createDefaultRegistry } from "../../tools/registry.js";
import { SimEnvironment } from "../../environments/simulator/index.js";
import type { ToolCall } from "../../domain/model.js";
import { testBackends } from "../helpers/backends.js";
import { makeAlert } from "../helpers/factories.js";

const MINUTE = 60_000;

/** A shop on Friday 2026-11-27 10:00 UTC (11:00 in Berlin): four workloads share one config map. */
const env = SimEnvironment.create({
  startTime: "2026-11-27T10:00:00Z",
  services: [
    {
      name: "checkout",
      replicas: 4,
      dependencies: ["inventory", "cart", "search"],
      revisions: [{ image: "registry.internal/checkout:1.0.0", deployedAtMinutes: -9000 }],
      configMaps: [{ name: "shop-config", data: { FEATURE_X: "on" } }],
    },
    { name: "inventory", replicas: 2, configMaps: [{ name: "shop-config", data: { FEATURE_X: "on" } }] },
    { name: "cart", replicas: 2, configMaps: [{ name: "shop-config", data: { FEATURE_X: "on" } }] },
    { name: "search", replicas: 2, configMaps: [{ name: "shop-config", data: { FEATURE_X: "on" } }] },
  ],
  networkPolicies: [{ name: "inventory-deny", podSelector: "inventory", allowIngressFrom: [] }],
  faults: [
    { kind: "bad-feature-flag", service: "checkout", atMinutes: -13, params: { configMap: "shop-config", key: "FEATURE_X", value: "off", errorRate: 0.1, message: "FeatureError: FEATURE_X=off" } },
  ],
});
const NOW = env.now();

const restart: ToolCall = { tool: "restart_pods", params: { service: "checkout" } };
const rollback: ToolCall = { tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } };
const scaleTo = (replicas: number): ToolCall => ({ tool: "scale_deployment", params: { service: "checkout", replicas } });
const deletePolicy: ToolCall = { tool: "delete_network_policy", params: { service: "inventory", policy: "inventory-deny" } };

/** Earlier remediations on the shared ledger, as other incidents (or workers) recorded them. */
interface Prior {
  call: ToolCall;
  minutesAgo: number;
  verdict?: "recovered" | "not_recovered" | "worse";
  namespace?: string;
}

interface Case {
  rule: string;
  name: string;
  call: ToolCall;
  confidence?: number;
  category?: string;
  policy?: PolicyInputFile;
  facts?: Partial<IncidentFacts>;
  prior?: Prior[];
  track?: { attempts: number; worse: number };
  outcome: "allow" | "needs_approval" | "deny";
  reason: RegExp;
}

const inNamespace = (namespace: string): Partial<IncidentFacts> => ({ subject: { service: "checkout", namespace } });

const cases: Case[] = [
  // thresholds
  { rule: "thresholds", name: "medium risk at 0.80 ≥ 0.75", call: rollback, confidence: 0.8, outcome: "allow", reason: /0\.80 ≥ 0\.75/ },
  { rule: "thresholds", name: "medium risk at 0.72 < 0.75", call: rollback, confidence: 0.72, outcome: "needs_approval", reason: /0\.72 is below 0\.75 required to act alone at medium risk/ },
  { rule: "thresholds", name: "proposed below escalateBelow", call: restart, confidence: 0.5, outcome: "deny", reason: /0\.50 is below 0\.70, the least to propose anything/ },
  // approval requirements
  { rule: "approval", name: "low risk needs nobody", call: restart, outcome: "allow", reason: /restart_pods is low risk/ },
  { rule: "approval", name: "high risk always needs a human", call: deletePolicy, confidence: 0.99, outcome: "needs_approval", reason: /high-risk actions always need a human/ },
  {
    rule: "approval",
    name: "medium needs a human in payments namespaces",
    call: rollback,
    policy: { approval: { rules: [{ match: { namespaces: ["payments-*"] }, requiredFor: ["medium"] }] } },
    facts: inNamespace("payments-eu"),
    outcome: "needs_approval",
    reason: /medium-risk actions need a human for payments-eu\/checkout \(policy\.approval\.rules\[0\]/,
  },
  {
    rule: "approval",
    name: "high risk forbidden in prod",
    call: deletePolicy,
    policy: { approval: { rules: [{ match: { namespaces: ["prod"] }, forbidden: ["high"] }] } },
    outcome: "deny",
    reason: /high-risk actions are forbidden for prod\/checkout/,
  },
  // autonomy
  { rule: "autonomy", name: "auto by default", call: restart, outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "autonomy",
    name: "recommend: every action approved",
    call: restart,
    policy: { autonomy: { rules: [{ match: { services: ["check*"] }, mode: "recommend" }] } },
    outcome: "needs_approval",
    reason: /autonomy is recommend for prod\/checkout/,
  },
  { rule: "autonomy", name: "observe: brief only", call: restart, policy: { autonomy: { default: "observe" } }, outcome: "deny", reason: /autonomy is observe .*diagnose and brief only/ },
  // fault classes never remediated
  { rule: "neverRemediate", name: "a deployment fault may be fixed", call: restart, category: "deployment", outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "neverRemediate",
    name: "compliance goes to a human (approval)",
    call: restart,
    category: "compliance",
    policy: { neverRemediate: { categories: ["compliance"], then: "approval" } },
    outcome: "needs_approval",
    reason: /"compliance" is never remediated automatically/,
  },
  { rule: "neverRemediate", name: "security is denied", call: restart, category: "security", outcome: "deny", reason: /"security" is never remediated automatically/ },
  // tool allow / approval / deny lists
  { rule: "tools", name: "on the allow list", call: restart, policy: { tools: [{ match: { services: ["checkout"] }, allow: ["restart_pods"] }] }, outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "tools",
    name: "on the approval list",
    call: restart,
    policy: { tools: [{ match: { services: ["checkout"] }, approval: ["restart_pods"] }] },
    outcome: "needs_approval",
    reason: /restart_pods needs approval for checkout/,
  },
  { rule: "tools", name: "on the deny list", call: rollback, policy: { tools: [{ match: {}, deny: ["rollout_undo"] }] }, outcome: "deny", reason: /rollout_undo is on the deny list/ },
  {
    rule: "tools",
    name: "not on the allow list",
    call: rollback,
    policy: { tools: [{ match: { services: ["checkout"] }, allow: ["restart_pods"] }] },
    outcome: "deny",
    reason: /rollout_undo is not on the allow list for checkout \[restart_pods\]/,
  },
  // rate limits, counted from the actions table
  {
    rule: "rateLimits",
    name: "2 earlier restarts of 3 allowed",
    call: restart,
    prior: [
      { call: restart, minutesAgo: 50 },
      { call: restart, minutesAgo: 40 },
    ],
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "rateLimits",
    name: "restarts outside the window do not count",
    call: restart,
    prior: [
      { call: restart, minutesAgo: 70 },
      { call: restart, minutesAgo: 65 },
      { call: restart, minutesAgo: 61 },
    ],
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "rateLimits",
    name: "4th restart in an hour (then: approval)",
    call: restart,
    policy: { rateLimits: [{ action: "restart_pods", max: 3, perMinutes: 60, then: "approval" }] },
    prior: [
      { call: restart, minutesAgo: 55 },
      { call: restart, minutesAgo: 45 },
      { call: restart, minutesAgo: 35 },
    ],
    outcome: "needs_approval",
    reason: /rate limit reached: 3 restart_pods on prod\/checkout in the last 60 min; at most 3/,
  },
  {
    rule: "rateLimits",
    name: "4th restart in an hour",
    call: restart,
    prior: [
      { call: restart, minutesAgo: 55 },
      { call: restart, minutesAgo: 45 },
      { call: restart, minutesAgo: 35 },
    ],
    outcome: "deny",
    reason: /rate limit reached: 3 restart on prod\/checkout/,
  },
  {
    rule: "rateLimits",
    name: "per namespace counts other workloads",
    call: rollback,
    policy: { rateLimits: [{ action: "rollback", max: 1, perMinutes: 60, per: "namespace" }] },
    prior: [{ call: { tool: "rollout_undo", params: { service: "cart", toRevision: 1 } }, minutesAgo: 10 }],
    outcome: "deny",
    reason: /1 rollback on namespace prod in the last 60 min; at most 1/,
  },
  // blast radius
  { rule: "blastRadius", name: "scale 4 → 3 takes out 25%", call: scaleTo(3), outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "blastRadius",
    name: "scale 4 → 1 (then: approval)",
    call: scaleTo(1),
    policy: { blastRadius: { then: "approval" } },
    outcome: "needs_approval",
    reason: /takes 3 of 4 replicas \(75%\) out at once, above 50%/,
  },
  { rule: "blastRadius", name: "scale 4 → 1 takes out 75%", call: scaleTo(1), outcome: "deny", reason: /takes 3 of 4 replicas \(75%\) out at once/ },
  {
    rule: "blastRadius",
    name: "a config map shared by 4 workloads",
    call: { tool: "revert_config_map", params: { service: "checkout", configMap: "shop-config", toVersion: 1 } },
    outcome: "deny",
    reason: /changes 4 workloads \(checkout, cart, inventory, search\), above 3/,
  },
  {
    rule: "blastRadius",
    name: "too many workloads under remediation at once",
    call: restart,
    policy: { blastRadius: { maxConcurrentWorkloads: 2 } },
    prior: [
      { call: { tool: "restart_pods", params: { service: "cart" } }, minutesAgo: 1 },
      { call: { tool: "restart_pods", params: { service: "search" } }, minutesAgo: 1 },
    ],
    outcome: "deny",
    reason: /2 workload\(s\) already under remediation \(cart, search\); with this one 3, above 2 at once/,
  },
  // change-freeze windows (Friday 11:00 in Berlin)
  {
    rule: "freezeWindows",
    name: "outside the weekend freeze",
    call: restart,
    policy: { freezeWindows: [{ name: "weekend", timezone: "Europe/Berlin", weekdays: ["sat", "sun"] }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "freezeWindows",
    name: "overnight window Thu 22:00 – Fri 12:00 (then: approval)",
    call: restart,
    policy: { freezeWindows: [{ name: "release night", timezone: "Europe/Berlin", weekdays: ["thu"], start: "22:00", end: "12:00", then: "approval" }] },
    outcome: "needs_approval",
    reason: /change freeze "release night" \(thu 22:00–12:00 Europe\/Berlin\) is in effect at Fri 11:00 Europe\/Berlin/,
  },
  {
    rule: "freezeWindows",
    name: "year-end freeze by dates",
    call: restart,
    policy: { freezeWindows: [{ name: "black friday", timezone: "America/New_York", from: "2026-11-26T00:00:00-05:00", to: "2026-11-30T00:00:00-05:00" }] },
    outcome: "deny",
    reason: /change freeze "black friday" .* is in effect at Fri 05:00 America\/New_York; only read tools run/,
  },
  // idempotency window
  { rule: "idempotency", name: "the same rollback 45 min ago", call: rollback, prior: [{ call: rollback, minutesAgo: 45 }], outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "idempotency",
    name: "the same rollback 10 min ago (then: approval)",
    call: rollback,
    policy: { idempotency: { windowMinutes: 30, then: "approval" } },
    prior: [{ call: rollback, minutesAgo: 10 }],
    outcome: "needs_approval",
    reason: /ran 10 min ago in incident inc-prior-0-env-\d+; not repeated within 30 min/,
  },
  { rule: "idempotency", name: "the same rollback 10 min ago", call: rollback, prior: [{ call: rollback, minutesAgo: 10 }], outcome: "deny", reason: /the same rollout_undo .* ran 10 min ago/ },
  // parameters: schema, live metadata, bounds
  { rule: "parameters", name: "scale 4 → 6 within 3×", call: scaleTo(6), outcome: "allow", reason: /policy checks passed/ },
  { rule: "parameters", name: "scale 4 → 20 is 5×", call: scaleTo(20), outcome: "needs_approval", reason: /4 to 20 replicas is 5\.0×, above 3×/ },
  { rule: "parameters", name: "hallucinated revision", call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 42 } }, outcome: "deny", reason: /no revision 42/ },
  { rule: "parameters", name: "outside the schema", call: scaleTo(5000), outcome: "deny", reason: /replicas: expected at most 50/ },
  {
    rule: "parameters",
    name: "a workload that does not exist",
    call: { tool: "restart_pods", params: { service: "chekout" } },
    facts: { services: ["checkout", "chekout"] },
    outcome: "deny",
    reason: /unknown service "chekout"/,
  },
  { rule: "parameters", name: "scale to zero", call: scaleTo(0), outcome: "deny", reason: /take it offline/ },
  {
    rule: "parameters",
    name: "unknown tool",
    call: { tool: "scale_deploymnt", params: { service: "checkout", replicas: 3 } },
    outcome: "deny",
    reason: /unknown tool "scale_deploymnt"; known tools: .*scale_deployment/,
  },
  { rule: "parameters", name: "read tool proposed as a fix", call: { tool: "tail_logs", params: { service: "checkout", lines: 10 } }, outcome: "deny", reason: /read tool/ },
  // scope: only workloads of this incident
  { rule: "scope", name: "a dependency of the alerting service", call: { tool: "restart_pods", params: { service: "cart" } }, outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "scope",
    name: "a healthy dependency (nothing abnormal read on it)",
    call: { tool: "restart_pods", params: { service: "cart" } },
    facts: { affected: ["checkout"] },
    outcome: "needs_approval",
    reason: /targets cart, which shows nothing abnormal \(abnormal: checkout\); a human must confirm/,
  },
  {
    rule: "scope",
    name: "a dependency with an anomalous signal",
    call: { tool: "restart_pods", params: { service: "cart" } },
    facts: { affected: ["checkout", "cart"] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "scope",
    name: "a workload outside the incident",
    call: { tool: "restart_pods", params: { service: "cart" } },
    facts: { services: ["checkout"] },
    outcome: "deny",
    reason: /targets cart, which is outside this incident/,
  },
  // incident guardrails
  {
    rule: "guardrails",
    name: "second attempt, new strategy",
    call: restart,
    facts: { attempts: [{ strategy: "rollout_undo:checkout", call: rollback }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "guardrails",
    name: "attempts exhausted (then: approval)",
    call: restart,
    policy: { guardrails: { maxAttempts: 1, then: "approval" } },
    facts: { attempts: [{ strategy: "rollout_undo:checkout", call: rollback }] },
    outcome: "needs_approval",
    reason: /1 remediation attempt\(s\) already made; at most 1 per incident/,
  },
  {
    rule: "guardrails",
    name: "the same strategy twice",
    call: restart,
    facts: { attempts: [{ strategy: "restart_pods:checkout", call: restart }] },
    outcome: "deny",
    reason: /strategy restart_pods:checkout was already tried/,
  },
  { rule: "guardrails", name: "wall time spent", call: restart, facts: { openedAt: NOW - 180 * MINUTE }, outcome: "deny", reason: /run 180 min, beyond 120 min/ },
  { rule: "guardrails", name: "model budget spent", call: restart, facts: { usage: { modelTokens: 250_000, modelCostUsd: 0.8 } }, outcome: "deny", reason: /model budget spent: 250000 tokens/ },
  // circuit breaker
  {
    rule: "circuitBreaker",
    name: "2 failures, breaker closed",
    call: restart,
    prior: [
      { call: rollback, minutesAgo: 90, verdict: "worse" },
      { call: scaleTo(6), minutesAgo: 80, verdict: "not_recovered" },
    ],
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "circuitBreaker",
    name: "3 failures open the breaker: humans decide",
    call: restart,
    prior: [
      { call: rollback, minutesAgo: 90, verdict: "worse" },
      { call: scaleTo(6), minutesAgo: 80, verdict: "not_recovered" },
      { call: scaleTo(7), minutesAgo: 70, verdict: "not_recovered" },
    ],
    outcome: "needs_approval",
    reason: /circuit breaker open: 3 failed remediation\(s\) on prod\/checkout/,
  },
  {
    rule: "circuitBreaker",
    name: "3 failures (then: deny)",
    call: restart,
    policy: { guardrails: { circuitBreaker: { failures: 3, windowMinutes: 1440, then: "deny" } } },
    prior: [
      { call: rollback, minutesAgo: 90, verdict: "worse" },
      { call: scaleTo(6), minutesAgo: 80, verdict: "not_recovered" },
      { call: scaleTo(7), minutesAgo: 70, verdict: "not_recovered" },
    ],
    outcome: "deny",
    reason: /suture policy reset-breaker prod\/checkout/,
  },
  // demotion from incident memory
  { rule: "demotion", name: "a remediation that usually works", call: restart, track: { attempts: 5, worse: 1 }, outcome: "allow", reason: /policy checks passed/ },
  {
    rule: "demotion",
    name: "a remediation that usually makes it worse",
    call: restart,
    track: { attempts: 4, worse: 3 },
    outcome: "needs_approval",
    reason: /made things worse in 3 of 4 past attempts/,
  },
  // security veto (code, not configurable): no capacity while abuse is suspected
  {
    rule: "securityVeto",
    name: "scaling a workload whose logs show credential stuffing",
    call: scaleTo(6),
    facts: { security: ["checkout: security.signal credential-stuffing"] },
    outcome: "deny",
    reason: /suspected abuse vetoes adding capacity \(scale\): checkout: security\.signal credential-stuffing/,
  },
  {
    rule: "securityVeto",
    name: "a rollback under suspected abuse adds no capacity",
    call: rollback,
    confidence: 0.8,
    facts: { security: ["checkout: log.secret_exposure aws-access-key"] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  // a rollback never undoes a security fix (code, not configurable)
  {
    rule: "securityFixRollback",
    name: "rolling back a revision whose change cause fixes a CVE",
    call: rollback,
    confidence: 0.95,
    facts: { securityFixes: [{ service: "checkout", note: "revision 7: bump libwebp for CVE-2023-4863" }] },
    outcome: "deny",
    reason: /rolling back checkout would undo a security fix \(revision 7: bump libwebp for CVE-2023-4863\)/,
  },
  {
    rule: "securityFixRollback",
    name: "a security fix on another workload does not stop this rollback",
    call: rollback,
    confidence: 0.8,
    facts: { securityFixes: [{ service: "banner-cropper", note: "revision 3: CVE-2023-4863" }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  {
    rule: "securityFixRollback",
    name: "a restart of a security-fixed revision undoes nothing",
    call: restart,
    confidence: 0.8,
    facts: { securityFixes: [{ service: "checkout", note: "revision 7: CVE-2023-4863" }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  // a rollback never undoes a revision that only restarted pods to reload a Secret or ConfigMap (code, not configurable)
  {
    rule: "restartOnlyRollback",
    name: "rolling back a revision that only changed Reloader's Secret hash",
    call: rollback,
    confidence: 0.95,
    facts: { restartOnly: [{ service: "checkout", note: "revision 8 changed only STAKATER_CHECKOUT_KEYS_SECRET" }] },
    outcome: "deny",
    reason: /the revision of checkout it would undo only restarted the pods \(revision 8 changed only STAKATER_CHECKOUT_KEYS_SECRET\): rolling back cannot undo the Secret or ConfigMap change/,
  },
  {
    rule: "restartOnlyRollback",
    name: "a restart-only revision on another workload does not stop this rollback",
    call: rollback,
    confidence: 0.8,
    facts: { restartOnly: [{ service: "banner-cropper", note: "revision 3 changed only STAKATER_BANNER_CONFIGMAP" }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  // a workload scaled on purpose, with the reason on record, is not scaled back (code, not configurable)
  {
    rule: "deliberateHold",
    name: "scaling up a workload held at 0 for a migration's write freeze",
    call: scaleTo(6),
    confidence: 0.95,
    facts: { heldOnPurpose: [{ service: "checkout", note: "kubectl scale --replicas=0 (CHG-5512: writes frozen for the migration until 11:30Z)" }] },
    outcome: "deny",
    reason: /checkout was scaled on purpose and its change cause says to keep it so \(kubectl scale --replicas=0 \(CHG-5512/,
  },
  {
    rule: "deliberateHold",
    name: "a rollback of a held workload changes no replica count",
    call: rollback,
    confidence: 0.8,
    facts: { heldOnPurpose: [{ service: "checkout", note: "kubectl scale --replicas=0 (maintenance)" }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  // a ConfigMap change its own records mark as planned is never reverted automatically (code, not configurable)
  {
    rule: "plannedConfigRevert",
    name: "reverting a maintenance-mode flag set for an approved window",
    call: { tool: "revert_config_map", params: { service: "checkout", configMap: "shop-config", toVersion: 1 } },
    confidence: 0.95,
    facts: { plannedConfigs: [{ service: "checkout", configMap: "shop-config", note: "changed by: maintenance-scheduler (CHG-20931)" }] },
    outcome: "deny",
    reason: /the change to ConfigMap shop-config is marked as planned \(changed by: maintenance-scheduler \(CHG-20931\)\); reverting it would undo an approved change/,
  },
  {
    rule: "plannedConfigRevert",
    name: "a planned ConfigMap change does not stop a rollback of the release",
    call: rollback,
    confidence: 0.8,
    facts: { plannedConfigs: [{ service: "checkout", configMap: "shop-config", note: "annotation window: maintenance 02:00Z" }] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
  // Suture's own lowered autonomy (a self-recovery in force) only narrows: approval, or nothing at observe
  {
    rule: "selfRecovery",
    name: "a confident rollback while Suture's rollback rate is anomalous",
    call: rollback,
    confidence: 0.95,
    facts: { selfRecoveries: [{ id: 3, autonomy: "recommend", reason: "rollback_rate is anomalous: 15/60 against 10/100" }] },
    outcome: "needs_approval",
    reason:
      /Suture lowered its own autonomy to recommend \(self-recovery #3: rollback_rate is anomalous: 15\/60 against 10\/100\); until a human restores it \(suture health restore 3\) every action needs approval/,
  },
  {
    rule: "selfRecovery",
    name: "the strictest recovery in force wins",
    call: restart,
    confidence: 0.95,
    facts: {
      selfRecoveries: [
        { id: 3, autonomy: "recommend", reason: "rollback_rate" },
        { id: 4, autonomy: "observe", reason: "action_failure_rate" },
      ],
    },
    outcome: "deny",
    reason: /self-recovery #4: action_failure_rate\); until a human restores it \(suture health restore 4\) nothing runs/,
  },
  {
    rule: "selfRecovery",
    name: "no recovery in force changes nothing",
    call: restart,
    confidence: 0.8,
    facts: { selfRecoveries: [] },
    outcome: "allow",
    reason: /policy checks passed/,
  },
];

/** Every rule type the policy file has, each needing an allow, a needs-approval and a deny case. */
const RULE_TYPES = ["thresholds", "approval", "autonomy", "neverRemediate", "tools", "rateLimits", "blastRadius", "freezeWindows", "idempotency", "parameters", "guardrails", "circuitBreaker"];

function policyWith(sections: PolicyInputFile | undefined): Policy {
  return withSections(DEFAULT_POLICY, sections);
}

describe("policy rule table", () => {
  it("has an allow, a needs-approval and a deny case for every rule type", () => {
    for (const rule of RULE_TYPES) {
      const outcomes = new Set(cases.filter((c) => c.rule === rule).map((c) => c.outcome));
      expect([rule, [...outcomes].sort()]).toEqual([rule, ["allow", "deny", "needs_approval"]]);
    }
  });
});

for (const backend of testBackends()) {
  describe(`policy rules on ${backend.name}`, () => {
    let db: Database;
    let store: IncidentStore;
    const tools = createDefaultRegistry();

    beforeAll(async () => {
      db = await backend.open();
      await migrate(db);
      store = new IncidentStore(db);
    });
    afterAll(async () => {
      await db.close();
    });

    /** Records earlier remediations in their own incidents of one environment. */
    async function seed(environmentId: string, prior: Prior[]): Promise<void> {
      for (const [i, p] of prior.entries()) {
        const id = `inc-prior-${i}-${environmentId}`;
        await store.createIncident({ id, alert: makeAlert(), environmentId });
        const action = await store.registerAction({
          incidentId: id,
          attempt: 1,
          kind: "remediation",
          tool: p.call.tool,
          params: p.call.params,
          risk: tools.get(p.call.tool).risk,
          actionClass: tools.get(p.call.tool).actionClass,
          targetService: String(p.call.params["service"]),
          idempotencyKey: `${id}:attempt-1`,
          namespace: p.namespace ?? "prod",
          envTime: NOW - p.minutesAgo * MINUTE,
        });
        await store.markExecuting(action.id);
        await store.markFinished(action.id, "succeeded");
        if (p.verdict !== undefined) await store.setAfterSignals(action.id, { at: NOW, signals: [] }, p.verdict);
      }
    }

    it.each(cases.map((c, i) => ({ ...c, i })))("$rule: $name → $outcome", async (c) => {
      // Given a policy, the incident's facts and what other incidents already did in its environment
      const environmentId = `env-${c.i}`;
      await seed(environmentId, c.prior ?? []);
      const engine = new PolicyEngine(policyWith(c.policy), tools);
      const facts: IncidentFacts = {
        id: `inc-under-test-${c.i}`,
        subject: { service: "checkout", namespace: "prod" },
        environmentId,
        openedAt: NOW - 10 * MINUTE,
        now: NOW,
        attempts: [],
        usage: { modelTokens: 0, modelCostUsd: 0 },
        services: ["checkout", "inventory", "cart", "search"],
        ...c.facts,
      };
      const track =
        c.track !== undefined
          ? {
              faultClass: "bad-rollout",
              tool: c.call.tool,
              attempts: c.track.attempts,
              recovered: c.track.attempts - c.track.worse,
              notRecovered: 0,
              worse: c.track.worse,
              successRate: 0,
              rollbackRate: c.track.worse / c.track.attempts,
            }
          : undefined;
      const service = c.call.params["service"];
      const strategy = `${c.call.tool}:${typeof service === "string" ? service : ""}`;
      // When the policy evaluates the proposed call
      const verdict = await engine.evaluate(
        { call: c.call, confidence: c.confidence ?? 0.95, category: c.category ?? "deployment", strategy, ...(track !== undefined ? { track } : {}), incident: facts },
        env,
        new ActionsLedger(store),
      );
      // Then the outcome and its decisive reason match, and every rule's finding is recorded
      expect(verdict.outcome, verdict.reasons.join(" | ")).toBe(c.outcome);
      expect(verdict.reasons.join(" | ")).toMatch(c.reason);
      expect(verdict.policyVersion).toMatch(/^[0-9a-f]{12}$/);
      if (verdict.risk !== "unknown" && verdict.risk !== "read" && !/invalid parameters/.test(verdict.reasons.join())) {
        expect(verdict.checks.map((k) => k.rule)).toEqual(expect.arrayContaining(["scope", "parameters", "autonomy", "thresholds", "idempotency", "guardrails.circuitBreaker"]));
      }
    });

    it("forgets a breaker's failures after a reset", async () => {
      // Given three failed remediations on prod/checkout (the breaker is open)
      const environmentId = "env-reset";
      await seed(environmentId, [
        { call: rollback, minutesAgo: 90, verdict: "worse" },
        { call: scaleTo(6), minutesAgo: 80, verdict: "not_recovered" },
        { call: scaleTo(7), minutesAgo: 70, verdict: "not_recovered" },
      ]);
      const ledger = new ActionsLedger(store);
      expect((await ledger.openBreakers(3)).map((b) => `${b.namespace}/${b.service}`)).toContain("prod/checkout");
      // When an operator resets it
      const { forgotten } = await ledger.resetBreaker("prod", "checkout", "alice", "bad deploy fixed by hand");
      // Then earlier failures no longer count and automatic action is allowed again
      expect(forgotten).toBeGreaterThanOrEqual(3);
      expect(await ledger.failures({ environmentId, namespace: "prod", service: "checkout", since: 0 })).toBe(0);
      const verdict = await new PolicyEngine(DEFAULT_POLICY, tools).evaluate(
        {
          call: restart,
          confidence: 0.95,
          category: "deployment",
          strategy: "restart_pods:checkout",
          incident: {
            id: "inc-after-reset",
            subject: { service: "checkout", namespace: "prod" },
            environmentId,
            openedAt: NOW,
            now: NOW,
            attempts: [],
            usage: { modelTokens: 0, modelCostUsd: 0 },
            services: ["checkout"],
          },
        },
        env,
        ledger,
      );
      expect(verdict.outcome).toBe("allow");
    });
  });
}

describe("policy files", () => {
  it("rejects a broken file with the line, the path and the expectation", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "policy-"));
    const file = path.join(dir, "policy.yaml");
    await writeFile(file, "version: 1\nthresholds:\n  medium: 1.5\n");
    await expect(loadPolicy(file)).rejects.toThrow(/policy\.yaml:3: thresholds\.medium: expected a confidence between 0 and 1/);
    await writeFile(file, "freezeWindows:\n  - name: weekend\n    timezone: Mars/Olympus\n    weekdays: [sat]\n");
    await expect(loadPolicy(file)).rejects.toThrow(/policy\.yaml:3: freezeWindows\[0\]\.timezone: expected an IANA time zone/);
    await writeFile(file, "approval:\n  requiredFor: [medium]\n");
    await expect(loadPolicy(file)).rejects.toThrow(/approval\.requiredFor: expected high in the list: high-risk actions always need a human/);
    await writeFile(file, "thresholds:\n  critical: 0.9\n");
    await expect(loadPolicy(file)).rejects.toThrow(/policy\.yaml:2: thresholds: Unrecognized key: "critical"/);
  });

  it("ships a default file that documents exactly the built-in default, and a valid strict example", async () => {
    const root = path.join(import.meta.dirname, "..", "..", "data", "policies");
    expect(await loadPolicy(path.join(root, "default-policy.yaml"))).toEqual(DEFAULT_POLICY);
    const strict = await loadPolicy(path.join(root, "strict-policy.yaml"));
    expect(strict.autonomy.default).toBe("recommend");
    expect(strict.freezeWindows.length).toBeGreaterThan(0);
  });
});
