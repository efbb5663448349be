import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../domain/errors.js";
import type { KubeObject } from "../../environments/cluster-api/backend.js";
import { KubernetesForbiddenError } from "../../environments/kubernetes/api-errors.js";
import { parseRunbookActions } from "../../environments/runbook-actions/declarations.js";
import { declaredRunbookActions } from "../../environments/runbook-actions/declared-runbook-actions.js";
import { jobName, RunbookActionFailedError } from "../../environments/runbook-actions/job-runner.js";
import { runHttp } from "../../environments/runbook-actions/http-runner.js";
import { shippedRules, startCluster, type TestCluster } from "./cluster.js";

const JOB_FILE = `
skipMessageToDlq:
  job:
    image: registry.example.com/kafka-tools:3.7
    command: [/opt/kafka/bin/skip-offset]
    args: ["--topic={{topic}}", "--group={{group}}", "--partition={{partition}}", "--offset={{offset}}"]
    timeoutSeconds: 30
cleanLogs:
  job:
    namespace: ops
    image: registry.example.com/log-janitor:1.2
    args: ["{{namespace}}", "{{kind}}/{{name}}", "{{mount}}"]
`;

const JOBS = { group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true } as const;

describe("runbook-actions files", () => {
  it("refuse a template variable the action does not have, naming the field and the known ones", () => {
    // Given a Job template that uses {{partiton}} (a typo)
    const text = `skipMessageToDlq:\n  job:\n    image: tools:1\n    args: ["--partition={{partiton}}"]\n`;
    // When the file is read, Then it is refused with the file, line, field and the variables there are
    expect(() => parseRunbookActions(text)).toThrow(
      /runbook-actions\.yaml:4: skipMessageToDlq\.job\.args\[0\]: unknown template variable \{\{partiton\}\}; known for skipMessageToDlq: topic, group, partition, offset, idempotencyKey/,
    );
  });

  it("refuse an action declared as both a Job and an HTTP call, and an action Suture does not know", () => {
    expect(() => parseRunbookActions(`cleanLogs:\n  job: { image: a }\n  http: { url: "https://ops.example.com/x" }\n`)).toThrow(/expected exactly one of `job`/);
    expect(() => parseRunbookActions(`restartDatabase:\n  job: { image: a }\n`)).toThrow(/restartDatabase/);
  });
});

describe("declared runbook actions carried out as Kubernetes Jobs, over HTTP against the simulated cluster", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  /** Plays the Job controller: marks every Job Suture created as finished (or failed). */
  function finishJobs(c: TestCluster, outcome: "succeeded" | "failed"): void {
    for (const job of c.backend.list(JOBS, undefined)) {
      if ((job as { status?: unknown }).status !== undefined) continue;
      const status =
        outcome === "succeeded"
          ? { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] }
          : { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }] };
      c.backend.apply({ verb: "update", object: { ...job, status } }, { dryRun: false });
    }
  }

  it("creates one Job with the call's parameters as argv, waits for it, and never creates it twice for one key", async () => {
    // Given the shipped RBAC role and a runbook-actions file declaring skipMessageToDlq as a Job
    cluster = await startCluster({ rules: shippedRules() });
    const c = cluster;
    const actions = declaredRunbookActions(parseRunbookActions(JOB_FILE), c.kubeConfig(), {
      defaultNamespace: "prod",
      pollMs: 5,
      sleep: async (ms) => {
        finishJobs(c, "succeeded");
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    const adapter = c.adapter({ runbookActions: actions });
    // When the poison message is skipped, and the act is retried under the same key (after a crash)
    await adapter.skipMessageToDlq("orders.v1", "billing-consumer", 3, 182734, "inc-1:attempt-1:skip");
    await adapter.skipMessageToDlq("orders.v1", "billing-consumer", 3, 182734, "inc-1:attempt-1:skip");
    // Then exactly one Job ran, in the workload's namespace, with the parameters as separate arguments
    const jobs = c.backend.list(JOBS, "prod") as Array<KubeObject & { spec: { template: { spec: { containers: Array<{ image: string; command: string[]; args: string[] }> } } } }>;
    expect(jobs.map((j) => j.metadata.name)).toEqual([jobName("skipMessageToDlq", "inc-1:attempt-1:skip")]);
    expect(jobs[0]!.spec.template.spec.containers[0]).toMatchObject({
      image: "registry.example.com/kafka-tools:3.7",
      command: ["/opt/kafka/bin/skip-offset"],
      args: ["--topic=orders.v1", "--group=billing-consumer", "--partition=3", "--offset=182734"],
    });
    expect(jobs[0]!.metadata.annotations?.["suture.dev/action-key"]).toBe("inc-1:attempt-1:skip");
    // And the create was sent as a dry run first
    const creates = c.seen.filter((r) => r.method === "POST" && r.path.endsWith("/jobs"));
    expect(creates.map((r) => r.dryRun)).toEqual([true, false]);
  });

  it("fails the action with the Job to look at when the Job fails", async () => {
    cluster = await startCluster({ rules: shippedRules() });
    const c = cluster;
    const actions = declaredRunbookActions(parseRunbookActions(JOB_FILE), c.kubeConfig(), { defaultNamespace: "prod", pollMs: 5, sleep: async () => finishJobs(c, "failed") });
    const run = c.adapter({ runbookActions: actions }).skipMessageToDlq("orders.v1", "billing-consumer", 3, 1, "inc-2:attempt-1:skip");
    await expect(run).rejects.toThrow(RunbookActionFailedError);
    await expect(run).rejects.toThrow(/job prod\/suture-skip-message-to-dlq-[0-9a-f]{10} failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\); see kubectl -n prod logs job\//);
  });

  it("refuses a parameter that would become an option, creating nothing", async () => {
    cluster = await startCluster({ rules: shippedRules() });
    const c = cluster;
    const actions = declaredRunbookActions(parseRunbookActions(JOB_FILE), c.kubeConfig(), { defaultNamespace: "prod", pollMs: 5 });
    // Given a topic name taken from a log line that reads like a flag
    const run = c.adapter({ runbookActions: actions }).skipMessageToDlq("--all-topics", "billing-consumer", 3, 1, "inc-3:attempt-1:skip");
    await expect(run).rejects.toThrow(InvalidInputError);
    await expect(run).rejects.toThrow(/\{\{topic\}\}: "--all-topics" is not a plain name, number or path; nothing was run/);
    expect(c.backend.list(JOBS, undefined)).toEqual([]);
  });

  it("names the missing permission when the Job's namespace is not one Suture may change (403), nothing created", async () => {
    // Given the shipped role, bound in prod only, and a cleanLogs Job declared in namespace ops
    cluster = await startCluster({ rules: shippedRules() });
    const c = cluster;
    const actions = declaredRunbookActions(parseRunbookActions(JOB_FILE), c.kubeConfig(), { defaultNamespace: "prod", pollMs: 5 });
    const run = c.adapter({ runbookActions: actions }).cleanLogs("checkout", "/var/log/app", "inc-4:attempt-1:clean");
    await expect(run).rejects.toThrow(KubernetesForbiddenError);
    await expect(run).rejects.toThrow(/jobs/);
    expect(c.backend.list(JOBS, undefined)).toEqual([]);
  });

  it("leaves an action the file does not declare refused by the adapter", async () => {
    cluster = await startCluster({ rules: shippedRules() });
    const actions = declaredRunbookActions(parseRunbookActions(JOB_FILE), cluster.kubeConfig(), { defaultNamespace: "prod" });
    await expect(cluster.adapter({ runbookActions: actions }).resetCircuitBreaker("checkout", "payments", "k")).rejects.toThrow(
      /resetCircuitBreaker is not a Kubernetes API operation and no runbook action declares it/,
    );
  });
});

describe("declared runbook actions carried out as HTTP calls", () => {
  async function endpoint(status: number): Promise<{ url: string; seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }>; close: () => Promise<void> }> {
    const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(status < 300 ? "{}" : '{"error":"breaker service unavailable"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it("calls the endpoint once with the filled URL and body, the idempotency key and the bearer token from the environment", async () => {
    const ep = await endpoint(202);
    try {
      const file = parseRunbookActions(
        `resetCircuitBreaker:\n  http:\n    url: "${ep.url}/v1/breakers/{{namespace}}/{{name}}/{{to}}/reset"\n    body: { requestedBy: suture, key: "{{idempotencyKey}}" }\n    bearerTokenEnv: OPS_TOKEN\n`,
      );
      const declaration = file.resetCircuitBreaker;
      if (declaration === undefined || !("http" in declaration)) throw new Error("expected an http declaration");
      await runHttp("resetCircuitBreaker", declaration.http, { namespace: "prod", kind: "Deployment", name: "checkout", to: "payments" }, "inc-5:attempt-1:reset", {
        env: { OPS_TOKEN: "t0ken-from-env" },
      });
      expect(ep.seen).toHaveLength(1);
      expect(ep.seen[0]).toMatchObject({ method: "POST", url: "/v1/breakers/prod/checkout/payments/reset" });
      expect(ep.seen[0]!.headers["idempotency-key"]).toBe("inc-5:attempt-1:reset");
      expect(ep.seen[0]!.headers["authorization"]).toBe("Bearer t0ken-from-env");
      expect(JSON.parse(ep.seen[0]!.body)).toEqual({ requestedBy: "suture", key: "inc-5:attempt-1:reset" });
    } finally {
      await ep.close();
    }
  });

  it("fails with the status and the answer on an error, and calls nothing without its token", async () => {
    const ep = await endpoint(503);
    try {
      const file = parseRunbookActions(`cleanLogs:\n  http:\n    url: "${ep.url}/clean"\n    bearerTokenEnv: OPS_TOKEN\n`);
      const declaration = file.cleanLogs;
      if (declaration === undefined || !("http" in declaration)) throw new Error("expected an http declaration");
      const values = { namespace: "prod", kind: "Deployment", name: "checkout", mount: "/var/log/app" };
      await expect(runHttp("cleanLogs", declaration.http, values, "k1", { env: { OPS_TOKEN: "x" } })).rejects.toThrow(
        /cleanLogs: POST http:\/\/127\.0\.0\.1:\d+\/clean answered 503: \{"error":"breaker service unavailable"\}/,
      );
      await expect(runHttp("cleanLogs", declaration.http, values, "k2", { env: {} })).rejects.toThrow(/OPS_TOKEN is not set .*nothing was called/);
      expect(ep.seen).toHaveLength(1);
    } finally {
      await ep.close();
    }
  });
});
