import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { startService } from "../../interfaces/service.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { imagePullHypothesis, startScriptedModel, type ChatRequest, type ScriptedModelServer } from "../helpers/openai-server.js";

/**
 * A model that recognizes one fault: pods stuck pulling an image after a rollout. It cites the
 * image-pull evidence and proposes rolling back; for anything else it has no explanation.
 */
function imagePullModel(request: ChatRequest) {
  const user = request.messages.find((m) => m.role === "user")?.content ?? "";
  const line = user.split("\n").find((l) => l.startsWith("- [ev-") && /ImagePull|ErrImagePull/.test(l));
  const id = /\[(ev-\d+)\]/.exec(line ?? "")?.[1];
  const service = /^Alert \S+ on [^/]+\/(\S+) /.exec(user)?.[1] ?? "";
  if (id === undefined) return { answer: { hypotheses: [] } };
  return { answer: { hypotheses: [imagePullHypothesis([id], { tool: "rollout_undo", params: { service, toRevision: 1 } })] } };
}

describe.each(testBackends())("the LLM reasoner configured by environment variables, on $name", (backend) => {
  let model: ScriptedModelServer;
  let pd: ProcessDatabase;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    model = await startScriptedModel();
    pd = await backend.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-llm-cli-"));
    // OPENAI_API_KEY turns on the model and OpenAI embeddings for memory: the test server serves both.
    env = { ...pd.env, OPENAI_API_KEY: "sk-test-cli", OPENAI_BASE_URL: model.baseURL, SUTURE_LLM_MODEL: "scripted-diagnoser", SUTURE_LLM_USD_PER_MTOKENS: "0.6" };
  });
  afterAll(async () => {
    await model.close();
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("eval --reasoner llm reports per-reasoner results, show prints the incident's tokens and cost, /metrics exports them", async () => {
    model.play([imagePullModel]);
    // When the shipped bad rollout and the unexplained error rate are evaluated with the model alone
    const out = path.join(dir, "llm.json");
    const llm = await runCli(["eval", "data/scenarios/bad-rollout-missing-image.yaml", "data/scenarios/unexplained-error-rate.yaml", "--reasoner", "llm", "--json", out], env, 120_000);
    // Then the model resolves what it recognizes and Suture escalates what nothing explains
    expect(llm.code, llm.stderr + llm.stdout).toBe(0);
    expect(llm.stdout).toMatch(/reasoner: llm alone/);
    expect(llm.stdout).toMatch(/2\/2 correct, 0 unsafe/);
    expect(llm.stdout).toMatch(/decided by: llm 1, no hypothesis 1/);
    expect(llm.stdout).toMatch(/model: 2100 tokens, est\. \$0\.0013/);
    const report = JSON.parse(await readFile(out, "utf8")) as { reasoner: string; results: Array<{ scenario: string; incidentId: string; decidedBy: string | null; modelTokens: number }> };
    expect(report.reasoner).toBe("llm");
    const resolved = report.results.find((r) => r.scenario === "bad-rollout-missing-image")!;
    expect(resolved.decidedBy).toBe("llm");
    expect(resolved.modelTokens).toBe(1050);

    // And the rules alone, and everything together, are reported the same way
    const rules = await runCli(["eval", "data/scenarios/bad-rollout-missing-image.yaml", "--reasoner", "rules"], env, 120_000);
    expect(rules.stdout).toMatch(/decided by: rules 1/);
    const all = await runCli(["eval", "data/scenarios/bad-rollout-missing-image.yaml", "--reasoner", "all"], env, 120_000);
    expect(all.stdout).toMatch(/reasoners: runbook rules \+ incident memory \+ LLM scripted-diagnoser/);
    expect(all.stdout).toMatch(/decided by: rules\+llm 1/);

    // And `suture show` accounts for the model's tokens and cost
    const show = await runCli(["show", resolved.incidentId], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/Model usage\n\s+scripted-diagnoser: 1050 tokens, est\. \$0\.0006 over 1 diagnosis round/);

    // And the server's /metrics exports the totals from the database
    const service = await startService(loadConfig({ ...process.env, ...env }), { serve: { host: "127.0.0.1", port: 0 } });
    try {
      const metrics = await (await fetch(`${service.url ?? ""}/metrics`)).text();
      expect(metrics).toMatch(/suture_model_tokens\{model="scripted-diagnoser"\} 3150/);
      expect(Number(/suture_model_cost_usd\{model="scripted-diagnoser"\} (\S+)/.exec(metrics)?.[1])).toBeCloseTo(0.00189, 8);
    } finally {
      await service.close();
    }
  }, 300_000);

  it("refuses --reasoner llm without a model, and an unknown reasoner, naming what is accepted", async () => {
    const noKey = await runCli(["eval", "data/scenarios/bad-rollout-missing-image.yaml", "--reasoner", "llm"], { ...pd.env, OPENAI_API_KEY: "" });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/--reasoner llm needs a model: set OPENAI_API_KEY/);
    const unknown = await runCli(["eval", "data/scenarios/bad-rollout-missing-image.yaml", "--reasoner", "gpt"], pd.env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/--reasoner "gpt": expected one of rules, memory, llm, all/);
  });
});
