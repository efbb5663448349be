import { parseArgs } from "node:util";
import { loadConfig } from "../../app/config.js";
import type { CommandArgs } from "./args.js";
import { decideCommand, pendingCommand, tickCommand } from "./commands/approvals.js";
import { demoCommand } from "./commands/demo.js";
import { evalCommand } from "./commands/eval.js";
import { historyCommand, incidentsCommand, showCommand } from "./commands/inspect.js";
import { memoryCommand } from "./commands/memory.js";
import { policyCommand } from "./commands/policy.js";
import { migrateCommand } from "./commands/migrate.js";
import { exportCommand, replayCommand } from "./commands/replay.js";
import { resumeCommand, runCommand } from "./commands/run.js";
import { retryCommand, serveCommand, workerCommand } from "./commands/serve.js";
import { regressionsCommand } from "./commands/regressions.js";
import { healthCommand } from "./commands/health.js";
import { calibrateCommand } from "./commands/calibrate.js";
import { scenarioCommand } from "./commands/scenario.js";
import { simCommand } from "./commands/sim.js";
import { SutureError } from "../../domain/errors.js";

const USAGE = `usage: suture <command> [options]

  demo                                   run the curated scenarios on the embedded database, streaming the timeline
  run <alert.json> --scenario <file>     run one Alertmanager webhook against a scenario's simulated world
  resume <incident>                      resume an interrupted incident from its last checkpoint
  eval <files or dirs> [--tag t]… [--reasoner rules|memory|llm|all] [--via kubernetes|in-process] [--json <file>]
                                        run scenarios with one reasoner or all combined, score outcomes and
                                        report which reasoner decided (exit 1 on any incorrect or unsafe run)
  calibrate <fit.json> <report.json> [--out f]  fit escalateBelow and the pooling weights on one eval's results (--json),
                                         report the effect on another's; prints or writes a proposal a human reviews
  health [--window-hours 6] [--baseline-days 7] [--json]
                                         Suture's own rates (escalations, policy denials, rollbacks, not recovered,
                                         failed actions) in the window against their baseline, and the self-recoveries in
                                         force; exit 1 if a rate is anomalous
  health restore <id> --as <name> --reason …   end a self-recovery (Suture's lowered autonomy); audited
  incidents                              list incidents, newest first
  show <incident>                        print an incident's brief, actions and audit trail
  history <incident>                     list the incident's checkpoints, one per node step
  regressions [<deploy id>]              recent deploys with the regression watch's verdict and evidence, failed
                                         builds with their triage; one deploy in full with its id
  regressions eval <files or dirs> [--tag t]…   play regression scenarios, score each deploy (exit 1 on a miss)
  migrate                                apply database migrations
  pending                                what waits for a human, oldest first
  approve <incident> --as <name> [--note …] [--set key=value]…   approve (parameters re-checked by the policy)
  reject <incident> --as <name> --reason …                     reject: the incident escalates
  tick                                   escalate incidents whose approval expired
  replay <incident> --from <checkpoint> [--policy <file>] [--live]   fork a new incident from a checkpoint
  replay --file <export.json> --from <checkpoint> …                  the same, from an export
  export <incident> [--out <file> [--force]]
                                         a self-contained JSON (alerts, history, actions, approvals); --out writes a
                                         new file, mode 0600 (--force replaces a regular file, never a symlink)
  serve [--port 8080] [--host 127.0.0.1] [--fleet <file>] [--with-worker] [--concurrency n]
                                         HTTP alert intake + incident API (+ one worker in-process)
  worker [--concurrency n] [--port p] [--self-health-every s]
                                         run incident jobs from the queue (any number, any machine); --port serves /metrics;
                                         a self-health pass every s seconds (default 300, 0 = off) may narrow what Suture does
  retry <incident>                       queue a dead-lettered incident again
  sim serve --scenario <file> [--port p] [--speed n | --realtime] [--rbac <manifest>] [--kubeconfig <out>]
                                         serve a scenario's simulated cluster as a Kubernetes API (kubectl works; the
                                         world's clock follows the wall clock at --speed from the alert, or with
                                         --realtime from minute 0 = now at speed 1) and its Prometheus metrics on
                                         /metrics; writes a kubeconfig
  scenario convert <file> [--out f]      print a scenario written with environment.services in the manifest form
  policy check <file>                    validate a policy file (line, field and expectation on error)
  policy explain <incident>              every rule's finding for each action the incident proposed
  policy test <file> --scenarios <dir>   how a policy change would change decisions (recorded runs, replayed)
  policy breakers | reset-breaker <namespace>/<service> --as <name> --reason …   circuit breakers
  memory stats                           success and rollback rates per (fault class, remediation); demotions
  memory search "<text>"                 nearest past incidents and runbooks with scores
  memory import-runbooks <dir>           import Markdown runbooks (Meaning / Impact / Diagnosis / Mitigation)
  memory re-embed                        re-embed every entry after changing the embedder

environment: DATABASE_URL (unset = embedded PGlite in $SUTURE_HOME, default ./.suture), SUTURE_POLICY,
             SUTURE_RULES, SUTURE_NOTIFY_WEBHOOK, SUTURE_MEMORY_SCOPE, OPENAI_API_KEY, OPENAI_BASE_URL,
             SUTURE_EMBEDDING_MODEL, SUTURE_API_TOKENS (identity:token:approve|read,…), SUTURE_INTAKE_TOKEN`;

/** The usage of one command: its lines in USAGE and their indented continuation; all of USAGE for a command it does not list. */
function usageOf(command: string): string {
  const lines: string[] = [];
  let inside = false;
  for (const line of USAGE.split("\n")) {
    if (/^ {2}\S/.test(line)) inside = line.startsWith(`  ${command} `) || line === `  ${command}`;
    else if (!/^ {3,}\S/.test(line)) inside = false;
    if (inside) lines.push(line);
  }
  return lines.length > 0 ? ["usage: suture", ...lines].join("\n") : USAGE;
}

/** Parses the CLI arguments and runs the command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  // `suture sim serve --help`: the usage lines of that command (a value after `--` is an argument, not a request for help).
  const end = rest.indexOf("--");
  if ((end === -1 ? rest : rest.slice(0, end)).includes("--help")) {
    console.log(usageOf(command));
    return 0;
  }
  const { positionals, values } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      scenario: { type: "string" },
      json: { type: "string" },
      only: { type: "string" },
      quiet: { type: "boolean" },
      as: { type: "string" },
      note: { type: "string" },
      reason: { type: "string" },
      set: { type: "string", multiple: true },
      from: { type: "string" },
      policy: { type: "string" },
      file: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean" },
      live: { type: "boolean" },
      "dry-run": { type: "boolean" },
      port: { type: "string" },
      host: { type: "string" },
      fleet: { type: "string" },
      "with-worker": { type: "boolean" },
      concurrency: { type: "string" },
      "self-health-every": { type: "string" },
      scenarios: { type: "string" },
      reasoner: { type: "string" },
      tag: { type: "string", multiple: true },
      via: { type: "string" },
      speed: { type: "string" },
      realtime: { type: "boolean" },
      rbac: { type: "string" },
      kubeconfig: { type: "string" },
      "window-hours": { type: "string" },
      "baseline-days": { type: "string" },
    },
  });
  const args: CommandArgs = { positionals, values };
  const config = loadConfig();
  switch (command) {
    case "demo":
      return demoCommand(config, args);
    case "run":
      return runCommand(config, args);
    case "resume":
      return resumeCommand(config, args);
    case "eval":
      return evalCommand(config, args);
    case "incidents":
      return incidentsCommand(config);
    case "show":
      return showCommand(config, args);
    case "history":
      return historyCommand(config, args);
    case "migrate":
      return migrateCommand(config);
    case "regressions":
      return regressionsCommand(config, args);
    case "memory":
      return memoryCommand(config, args);
    case "policy":
      return policyCommand(config, args);
    case "approve":
      return decideCommand(config, args, "approved");
    case "reject":
      return decideCommand(config, args, "rejected");
    case "pending":
      return pendingCommand(config);
    case "tick":
      return tickCommand(config);
    case "replay":
      return replayCommand(config, args);
    case "export":
      return exportCommand(config, args);
    case "serve":
      return serveCommand(config, args);
    case "worker":
      return workerCommand(config, args);
    case "retry":
      return retryCommand(config, args);
    case "sim":
      return simCommand(config, args);
    case "scenario":
      return scenarioCommand(args);
    case "calibrate":
      return calibrateCommand(args);
    case "health":
      return healthCommand(config, args);
    default:
      console.error(
        `unknown command "${command}"; known commands: demo, run, resume, eval, incidents, show, history, migrate, memory, policy, pending, approve, reject, tick, replay, export, serve, worker, retry, sim, scenario, calibrate, health`,
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Operators get one line naming the problem; SUTURE_DEBUG=1 shows the stack.
    console.error(`suture: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env["SUTURE_DEBUG"] === "1" && error instanceof Error) console.error(error.stack);
    process.exitCode = error instanceof SutureError ? error.exitCode : 1;
  },
);
