import { randomUUID } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { parseDeploy, workloadKey, type WorkloadRef } from "../domain/deploys.js";
import { describeIssues, loadYamlFile } from "../domain/yaml.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import { EnvironmentSpecSchema } from "../environments/simulator/spec.js";
import { PolicyEngine, withSections } from "../policy/policy.js";
import type { StoredDeploy } from "../store/deploys.js";
import { newIncidentId } from "../store/incidents.js";
import { advanceIncident, type RunOptions, type RunResult } from "./advance.js";
import { RegressionWatcher, type LookResult } from "./regression-watch.js";
import { alongPath, DEFAULT_PERCEPTION_PATH, type PerceptionPath } from "./sim-kubernetes.js";
import type { Suture } from "./suture.js";
import { InvalidScenarioError, ScenarioPolicySchema } from "./scenario.js";
import { saveOpenWorld } from "./worlds.js";

const MINUTE = 60_000;

/** What a deploy of a regression scenario should come to. */
export const DeployExpectationSchema = z
  .object({
    /** The watch's final verdict. */
    watch: z.enum(["clean", "recorded", "regression", "skipped"]),
    /** For a regression: how its incident ends. */
    outcome: z.enum(["resolved", "escalated", "awaiting_approval"]).optional(),
    /** For a resolved regression: the remediation's class. */
    resolvedBy: z.enum(["rollback"]).optional(),
  })
  .strict();

/** One deploy of a regression scenario: when, the deploy webhook body Suture receives (its `at` is set from `atMinutes`), and the expectation. */
export const ScenarioDeploySchema = z
  .object({
    atMinutes: z.number().min(0, "expected minutes at or after t0"),
    body: z.record(z.string(), z.unknown()),
    expect: DeployExpectationSchema,
  })
  .strict()
  .superRefine((d, ctx) => {
    try {
      parseDeploy({ ...d.body, at: "2026-01-01T00:00:00Z" }, new Date(), "");
    } catch (e) {
      ctx.addIssue({ code: "custom", path: ["body"], message: e instanceof Error ? e.message : String(e) });
    }
  });

/**
 * A regression scenario (data/scenarios-regression): a simulated world that runs long enough for
 * the watch to learn each workload's baseline, the deploys (their code changes are the world's
 * faults, e.g. `release`; their webhook bodies say what files changed) and what each should come to.
 */
export const RegressionScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a kebab-case name"),
    title: z.string().min(1),
    description: z.string().default(""),
    source: z.string().min(1).optional(),
    tags: z.array(z.string()).default([]),
    environment: EnvironmentSpecSchema,
    /** The watch's detection and baseline settings (issue 18 defaults when absent). */
    watch: z
      .object({
        detection: z.record(z.string(), z.unknown()).optional(),
        baseline: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .default({}),
    deploys: z.array(ScenarioDeploySchema).min(1, "expected at least one deploy"),
    policy: ScenarioPolicySchema.optional(),
  })
  .strict();
/** A validated regression scenario. */
export type RegressionScenario = z.infer<typeof RegressionScenarioSchema>;

/** Parses and validates a regression scenario already in memory. */
export function parseRegressionScenario(data: unknown, source: string): RegressionScenario {
  const parsed = RegressionScenarioSchema.safeParse(data);
  if (!parsed.success) throw new InvalidScenarioError(describeIssues(source, parsed.error.issues), source);
  return parsed.data;
}

/** Reads a regression scenario file within the scenario file limits. */
export async function loadRegressionScenario(file: string): Promise<RegressionScenario> {
  const loaded = await loadYamlFile(file, { kind: "scenario", schema: RegressionScenarioSchema, error: InvalidScenarioError, name: path.basename(file) });
  return loaded.data;
}

/** What happened to one deploy of a scenario. */
export interface DeployRun {
  deploy: StoredDeploy;
  /** The watch's final look (or its last, if the scenario ended first). */
  look: LookResult;
  /** The regression incident's run, when one was opened. */
  incident?: RunResult<SimEnvironment>;
  expected: z.infer<typeof DeployExpectationSchema>;
}

/** How to play a regression scenario. */
export interface RegressionRunOptions extends RunOptions {
  via?: PerceptionPath;
  /** Called after each final look (for a live timeline). */
  onLook?: (deploy: StoredDeploy, look: LookResult) => void;
}

/**
 * Plays a regression scenario: the world runs from t0, the watch counts every workload's error
 * signatures into its baseline each bucket, each deploy is received at its minute and looked at
 * every minute of its watch; a look that opens a regression incident runs it through the graph
 * at once (the world's clock moves with it), then the watch goes on.
 */
export async function runRegressionScenario(base: Suture, scenario: RegressionScenario, options: RegressionRunOptions = {}): Promise<DeployRun[]> {
  const suture = scenario.policy === undefined ? base : { ...base, policy: new PolicyEngine(withSections(base.policy.policy, scenario.policy), base.tools) };
  const env = SimEnvironment.create(scenario.environment);
  const t0 = env.startTime;
  // Its own scope: a replay of the scenario in the same database watches its deploys afresh.
  const scope = `scenario:${scenario.name}:${randomUUID()}`;
  const watcher = new RegressionWatcher(suture, env, {
    scope,
    ...(scenario.watch.detection !== undefined ? { detection: scenario.watch.detection } : {}),
    ...(scenario.watch.baseline !== undefined ? { baseline: scenario.watch.baseline } : {}),
  });
  const bucketMs = ((scenario.watch.baseline?.["bucketMinutes"] as number | undefined) ?? 5) * MINUTE;
  const pending = [...scenario.deploys].sort((a, b) => a.atMinutes - b.atMinutes);
  const workloads = new Map<string, WorkloadRef>();
  for (const d of pending) {
    const w = parseDeploy({ ...d.body, at: new Date(t0).toISOString() }).workload;
    workloads.set(workloadKey(w), w);
  }
  const open: Array<{ deploy: StoredDeploy; expected: DeployRun["expected"] }> = [];
  const done: DeployRun[] = [];
  const last = (pending[pending.length - 1]?.atMinutes ?? 0) * MINUTE + t0 + watcher.detection.watchMinutes * MINUTE;
  let t = Math.ceil(env.now() / MINUTE) * MINUTE;
  while ((pending.length > 0 || open.length > 0) && t <= last + MINUTE) {
    await env.advanceTo(t);
    if (t % bucketMs === 0) for (const w of workloads.values()) await watcher.collect(w, t);
    while (pending[0] !== undefined && t0 + pending[0].atMinutes * MINUTE <= t) {
      const d = pending.shift()!;
      const parsed = parseDeploy({ ...d.body, at: new Date(t0 + d.atMinutes * MINUTE).toISOString() });
      const recorded = await suture.store.recordDeployAndWatch(parsed, scope);
      const deploy = await suture.store.deployById(recorded.id);
      if (deploy === undefined) throw new Error(`deploy ${recorded.id} was stored but cannot be read back`);
      open.push({ deploy, expected: d.expect });
    }
    for (const o of [...open]) {
      const incidentId = newIncidentId();
      const look = await watcher.look(o.deploy, t, { environmentId: incidentId, scenario: scenario.name, incidentId });
      if (look.status === "watching") continue;
      open.splice(open.indexOf(o), 1);
      options.onLook?.(o.deploy, look);
      const run: DeployRun = { deploy: o.deploy, look, expected: o.expected };
      if (look.incidentId !== undefined) {
        await saveOpenWorld(suture, look.incidentId, scenario.environment, env);
        const incidentId = look.incidentId;
        // The graph starts from the incident's stored alert, as a worker would.
        const result = await alongPath(env, o.deploy.workload.namespace, options.via ?? DEFAULT_PERCEPTION_PATH, (world) => advanceIncident(suture, incidentId, { ...options, env: world }));
        run.incident = { ...result, env };
      }
      done.push(run);
    }
    t = Math.max(t + MINUTE, Math.ceil(env.now() / MINUTE) * MINUTE);
  }
  for (const o of open) done.push({ deploy: o.deploy, look: { deployId: o.deploy.id, status: "watching", reason: "the scenario ended before the watch did" }, expected: o.expected });
  return done;
}

/** Whether a deploy's run met its expectation, and what differed. */
export function judgeDeployRun(run: DeployRun): { ok: boolean; differences: string[] } {
  const differences: string[] = [];
  if (run.look.status !== run.expected.watch) differences.push(`watch: expected ${run.expected.watch}, got ${run.look.status} (${run.look.reason})`);
  const outcome = run.incident?.state.outcome?.status ?? (run.incident?.awaitingApproval !== undefined ? "awaiting_approval" : undefined);
  if (run.expected.outcome !== undefined && outcome !== run.expected.outcome) differences.push(`incident: expected ${run.expected.outcome}, got ${outcome ?? "no incident"}`);
  if (run.expected.outcome === undefined && run.incident !== undefined) differences.push(`incident: expected none, got ${run.incident.incidentId} (${outcome ?? "open"})`);
  if (run.expected.resolvedBy === "rollback") {
    const tools = (run.incident?.state.attempts ?? []).filter((a) => a.verdict === "recovered").map((a) => a.call.tool);
    if (!tools.includes("rollout_undo")) differences.push(`remediation: expected a rollback, got ${tools.join(", ") || "none"}`);
  }
  return { ok: differences.length === 0, differences };
}
