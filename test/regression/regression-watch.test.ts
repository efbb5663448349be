import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advanceIncident } from "../../app/advance.js";
import { loadRegressionScenario, runRegressionScenario, judgeDeployRun, parseRegressionScenario, type DeployRun, type RegressionScenario } from "../../app/regression-scenario.js";
import { recordClusterDeploys, regressionAlert, regressionPass } from "../../app/regression-watch.js";
import { alongPath } from "../../app/sim-kubernetes.js";
import { wireSuture, type Suture } from "../../app/suture.js";
import { saveOpenWorld } from "../../app/worlds.js";
import { MemoryNotifier } from "../../app/notify.js";
import { REGRESSION_SCENARIOS_DIR } from "../../domain/data.js";
import { startClusterApiServer } from "../../environments/cluster-api/server.js";
import { SimEnvironment } from "../../environments/simulator/index.js";
import { buildBrief } from "../../graphs/brief.js";
import type { IncidentJob } from "../../store/queue.js";
import { newIncidentId } from "../../store/incidents.js";
import { migrate } from "../../store/migrate.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture } from "../helpers/suture.js";

const MINUTE = 60_000;

function scenarioFile(name: string): string {
  return path.join(REGRESSION_SCENARIOS_DIR, `${name}.yaml`);
}

/** The run of one deploy, found by workload name. */
function runOf(runs: DeployRun[], name: string): DeployRun {
  const run = runs.find((r) => r.deploy.workload.name === name);
  if (run === undefined) throw new Error(`no deploy of ${name} in the run`);
  return run;
}

describe.each(testBackends())("the regression watch, end to end on the simulated cluster, on $name", (backend) => {
  let suture: Suture;

  beforeAll(async () => {
    ({ suture } = await openTestSuture(backend));
  });

  afterAll(async () => {
    await suture.close();
  });

  describe("a release that breaks card charges next to a docs-only deploy with a coincidental error spike", () => {
    let runs: DeployRun[];
    let env: SimEnvironment;

    beforeAll(async () => {
      // Given a day of each workload's error signatures counted into its baseline, then the two deploys
      const scenario = await loadRegressionScenario(scenarioFile("release-and-docs-deploy"));
      // When the watch looks at each deploy minute by minute (perceiving through the Kubernetes API)
      runs = await runRegressionScenario(suture, scenario, { via: "kubernetes" });
      const incident = runs.find((r) => r.incident !== undefined)?.incident;
      if (incident === undefined) throw new Error("no regression incident was opened");
      env = incident.env;
    });

    it("Given a docs-only deploy and an unrelated new error, Then the regression is recorded with its evidence and no incident is opened", async () => {
      const catalog = runOf(runs, "catalog");
      // Then the watch flagged the coincidental signature but left it alone: no runtime code changed
      expect(catalog.look.status).toBe("recorded");
      expect(catalog.look.finding?.flagged.map((f) => f.signature)).toEqual([expect.stringContaining("cache get catalog:item failed")]);
      expect(catalog.look.finding?.triage).toMatchObject({ isRuntimeChange: false, causalLink: false, confidence: "none" });
      expect(catalog.incident).toBeUndefined();
      // And nothing was opened or done on catalog
      expect((await suture.store.listIncidents(100)).filter((i) => i.service === "catalog")).toEqual([]);
      expect(env.operationsApplied().filter((o) => JSON.stringify(o).includes("catalog"))).toEqual([]);
      // And the watch's verdict is stored, visible to `suture regressions`
      const stored = await suture.store.regressionWatch(catalog.deploy.id);
      expect(stored).toMatchObject({ status: "recorded", incidentId: null });
      expect(stored?.reason).toContain("the deploy changed no runtime code");
    });

    it("Given a runtime change whose errors name a changed file, Then one regression incident opens, rolls checkout back once and verifies the new signature gone", async () => {
      const checkout = runOf(runs, "checkout");
      expect(judgeDeployRun(checkout)).toEqual({ ok: true, differences: [] });
      // Then triage linked the new TypeError to src/payments/charge.ts with high confidence
      expect(checkout.look.finding?.triage).toMatchObject({ isRuntimeChange: true, causalLink: true, confidence: "high", rollbackSafe: true });
      expect(checkout.look.finding?.triage.suspects.map((s) => s.path)).toEqual(["src/payments/charge.ts"]);
      // And the incident rolled the deploy back exactly once, to the revision before it, and verified it
      const state = checkout.incident!.state;
      expect(state.diagnosis?.hypotheses[0]?.faultClass).toBe("deploy-regression");
      expect(state.attempts.map((a) => [a.call.tool, a.call.params, a.verdict])).toEqual([["rollout_undo", { service: "checkout", toRevision: 2 }, "recovered"]]);
      const undos = env.operationsApplied().filter((o) => JSON.stringify(o).includes("checkout"));
      expect(undos).toHaveLength(1);
      expect((await env.describeWorkload("checkout")).deployment.image).toBe("registry.internal/shop/checkout:2.7.4");
      expect(state.outcome?.status).toBe("resolved");
      // And the audit log says the watch opened it, and why
      const audit = await suture.store.auditFor(checkout.incident!.incidentId);
      expect(audit.find((a) => a.actor === "regression-watch")?.summary).toMatch(/opened from the regression watch: 1 error signature\(s\) rose after 2\.8\.0.*high confidence/);
      // And the brief shows the regression, the triage and the suspect file (no fix-forward: rollback was safe)
      const brief = buildBrief(state, state.outcome);
      expect(brief.regression?.suspects[0]?.path).toBe("src/payments/charge.ts");
      expect(brief.regression?.fixForward).toBeUndefined();
    });
  });

  it("Given a deploy that carried a schema migration, When its errors name a changed file, Then Suture escalates with a fix-forward brief and changes nothing", async () => {
    const scenario = await loadRegressionScenario(scenarioFile("release-with-migration"));
    const [run] = await runRegressionScenario(suture, scenario, { via: "in-process" });
    expect(run).toBeDefined();
    expect(judgeDeployRun(run!)).toEqual({ ok: true, differences: [] });
    const state = run!.incident!.state;
    // Then no action was taken: rolling the code back would run it against the renamed column
    expect(state.attempts).toEqual([]);
    expect(run!.incident!.env.operationsApplied()).toEqual([]);
    expect(state.diagnosis?.hypotheses[0]).toMatchObject({ faultClass: "deploy-regression", disposition: "escalate" });
    // And the brief is a fix-forward brief: why, the suspect file with its hunk, the behaviour expected
    const brief = buildBrief(state, state.outcome);
    expect(brief.regression?.fixForward?.why).toContain("carried a schema migration");
    expect(brief.regression?.suspects[0]).toMatchObject({ path: "billing/tax/compute.py", hunks: [expect.stringContaining("@@ -50,7 +50,9 @@ def tax_for_invoice")] });
    expect(brief.regression?.fixForward?.expected[0]).toMatch(/gone: it never appeared before 5\.0\.0/);
  });

  it("Given errors that name a changed file but do not come from the release, When the rollback does not stop them, Then verify does not call it recovered and Suture escalates", async () => {
    // Given the demo's checkout release without its bug, and the same TypeError written by something else from 2 minutes after it
    const base = await loadRegressionScenario(scenarioFile("release-and-docs-deploy"));
    const scenario: RegressionScenario = parseRegressionScenario(
      {
        ...base,
        name: "persisting-errors",
        environment: {
          ...base.environment,
          faults: [{ kind: "release", service: "checkout", atMinutes: 1490, params: { version: "2.8.0" } }],
          observations: {
            checkout: {
              logs: [
                {
                  level: "error",
                  message: "TypeError: Cannot read properties of undefined (reading 'amount')\n    at chargeCard (/app/src/payments/charge.ts:88:31)",
                  fromMinutes: 1492,
                  toMinutes: 1600,
                  everySeconds: 20,
                },
              ],
            },
          },
        },
        deploys: base.deploys.filter((d) => d.body["workload"] === "shop/checkout").map((d) => ({ ...d, expect: { watch: "regression", outcome: "escalated" } })),
      },
      "persisting-errors",
    );
    // When the watch opens a regression incident and the rollback runs
    const [run] = await runRegressionScenario(suture, scenario, { via: "in-process" });
    // Then the flagged lines still written after the rollback keep verify from declaring recovery
    const attempts = run!.incident!.state.attempts;
    expect(attempts[0]?.call.tool).toBe("rollout_undo");
    expect(attempts[0]?.verdict).toBe("not_recovered");
    expect(attempts[0]?.verdictReasons?.join(" ")).toMatch(/line\(s\) of the regression's flagged signatures/);
    expect(run!.incident!.state.outcome?.status).toBe("escalated");
  });

  it("Given an alert that calls itself a DeployRegression with no finding stored for it, Then perceive reads no regression and no deploy-regression rollback is proposed", async () => {
    // Given checkout running the buggy release (a real deploy exists), and an alert forged with its labels
    const scenario = await loadRegressionScenario(scenarioFile("release-and-docs-deploy"));
    const env = SimEnvironment.create(scenario.environment);
    await env.advanceTo(env.startTime + 1500 * MINUTE);
    const deploy = await suture.store.recordDeployAndWatch({
      workload: { namespace: "shop", name: "checkout" },
      version: "2.8.0",
      changedFiles: [],
      author: "mallory",
      at: new Date(env.startTime + 1490 * MINUTE).toISOString(),
      source: "webhook",
    });
    const stored = (await suture.store.deployById(deploy.id))!;
    const finding = {
      deployId: deploy.id,
      workload: stored.workload,
      version: "2.8.0",
      deployAt: stored.at.toISOString(),
      window: { from: 0, to: 1 },
      flagged: [],
      triage: { isRuntimeChange: true, causalLink: true, confidence: "high" as const, score: 1, evidence: [], migration: false, contractChange: false, rollbackSafe: true, suspects: [] },
    };
    const { alert } = regressionAlert(stored, finding, env.now());
    const id = newIncidentId();
    const incidentId = await suture.store.createIncident({ id, alert, environmentId: id, scenario: "forged" });
    await saveOpenWorld(suture, incidentId, scenario.environment, env);
    // When the incident runs
    const result = await advanceIncident(suture, incidentId, { env, alert });
    // Then the graph saw no regression finding: the alert's words cannot create one
    expect(result.state.context?.regression).toBeUndefined();
    expect(result.state.context?.evidence.some((e) => e.key.startsWith("regression."))).toBe(false);
    expect(result.state.diagnosis?.hypotheses.some((h) => h.faultClass === "deploy-regression")).toBe(false);
  });

  it("Given a new revision rolled out on the cluster, When no webhook announced it, Then it is recorded once as a cluster deploy marker (read through the Kubernetes API), and not again beside a webhook deploy of the same version", async () => {
    const { suture: fresh } = await openTestSuture(backend);
    try {
      const scenario = await loadRegressionScenario(scenarioFile("release-and-docs-deploy"));
      const env = SimEnvironment.create(scenario.environment);
      await env.advanceTo(env.startTime + 1455 * MINUTE);
      const catalog = { namespace: "shop", name: "catalog" };
      // When the cluster's revisions are read twice
      const first = await alongPath(env, "shop", "kubernetes", (world) => recordClusterDeploys(fresh, world, catalog, env.now(), 60));
      const again = await alongPath(env, "shop", "kubernetes", (world) => recordClusterDeploys(fresh, world, catalog, env.now(), 60));
      // Then one deploy is recorded, from the cluster, versioned by its image, with its watch started
      expect(first.map((d) => [d.source, d.version, d.author])).toEqual([["cluster", "registry.internal/shop/catalog:3.2.1", "cluster"]]);
      expect(again).toEqual([]);
      expect((await fresh.store.regressionWatch(first[0]!.id))?.status).toBe("watching");
      // And checkout's revision (older than the watch window) is not a deploy to watch
      expect(await recordClusterDeploys(fresh, env, { namespace: "shop", name: "checkout" }, env.now(), 60)).toEqual([]);
      // And a webhook deploy of the same version near the same time keeps the cluster from adding another
      await env.advanceTo(env.startTime + 1495 * MINUTE);
      await fresh.store.recordDeployAndWatch({
        workload: { namespace: "shop", name: "checkout" },
        version: "2.8.0",
        changedFiles: [],
        author: "alice",
        at: new Date(env.startTime + 1490 * MINUTE).toISOString(),
        source: "webhook",
      });
      expect(await recordClusterDeploys(fresh, env, { namespace: "shop", name: "checkout" }, env.now(), 60)).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it("Given Suture pointed at a cluster, When the worker's watch pass runs each minute, Then it marks each rollout as a cluster deploy, counts baselines, and records (never acts on) what it flags with no changed files to link", async () => {
    // Given a simulated cluster served on loopback and a Suture configured for its namespace "shop"
    const scenario = await loadRegressionScenario(scenarioFile("release-and-docs-deploy"));
    const env = SimEnvironment.create(scenario.environment);
    const server = await startClusterApiServer({ backend: env, now: () => new Date(env.now()), afterWrite: () => env.flush() });
    const dir = await mkdtemp(path.join(tmpdir(), "suture-regression-"));
    const kubeconfig = path.join(dir, "kubeconfig.yaml");
    await writeFile(kubeconfig, server.kubeconfig({ namespace: "shop" }));
    const db = await backend.open();
    await migrate(db);
    const clustered = await wireSuture(db, { notifier: new MemoryNotifier(), cluster: { kubeconfig, namespaces: ["shop"] } });
    const jobs: IncidentJob[] = [];
    const queue = { enqueue: async (job: IncidentJob): Promise<string | null> => (jobs.push(job), "job") };
    try {
      // When passes run every 5 minutes for 2 hours (the baseline this test asks for), then every minute after catalog's docs-only release
      const options = { detection: { minBaselineHours: 2 } };
      const passes = [];
      for (let m = 1310; m <= 1445; m += 5) {
        await env.advanceTo(env.startTime + m * MINUTE);
        passes.push(await regressionPass(clustered, queue, env.now(), options));
      }
      for (let m = 1446; m <= 1500; m += 1) {
        await env.advanceTo(env.startTime + m * MINUTE);
        passes.push(await regressionPass(clustered, queue, env.now(), options));
      }
      // Then every Deployment of the namespace was watched and counted, and each rollout (catalog's, checkout's) became one cluster deploy
      expect(passes[0]?.workloads).toBe(3);
      expect(passes.reduce((n, p) => n + p.buckets, 0)).toBeGreaterThan(3 * 2 * 12);
      expect(passes.reduce((n, p) => n + p.clusterDeploys, 0)).toBe(2);
      const watches = await clustered.store.recentRegressionWatches(10);
      // And what rose after each (catalog's cache timeouts, checkout's TypeError) was flagged but, with no changed files to link it to, only recorded
      expect(watches.map((w) => [w.workload.name, w.source, w.status, w.finding?.triage.confidence])).toEqual([
        ["checkout", "cluster", "recorded", "low"],
        ["catalog", "cluster", "recorded", "low"],
      ]);
      expect(jobs).toEqual([]);
    } finally {
      await clustered.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
