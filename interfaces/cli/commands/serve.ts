import os from "node:os";
import { describeCluster, describeMetrics, describeReasoners, type Config } from "../../../app/config.js";
import { retryDeadLetter } from "../../../app/dead-letters.js";
import { IncidentQueue } from "../../../store/queue.js";
import { openSuture } from "../../../app/suture.js";
import { startService } from "../../service.js";
import type { CommandArgs } from "../args.js";

function positiveInt(value: string | boolean | string[] | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--${flag}: expected a whole number from 1 to 256, got ${JSON.stringify(value)}`);
  return n;
}

function port(value: string | boolean | string[] | undefined): number {
  if (value === undefined) return 8080;
  const n = typeof value === "string" ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port: expected a TCP port (0-65535), got ${JSON.stringify(value)}`);
  return n;
}

/** A whole number of seconds from 0 (off) to a day. */
function seconds(value: string | boolean | string[] | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 86_400) throw new Error(`--${flag}: expected a whole number of seconds from 0 (off) to 86400, got ${JSON.stringify(value)}`);
  return n;
}

/** How long a stopped process may linger on handles it does not own before it exits anyway. */
const EXIT_GRACE_MS = 2_000;
/**
 * One stop request can arrive twice within moments: Ctrl-C signals the terminal's whole process
 * group and `npm run` forwards it as well; the launcher's npm-parent watch adds a SIGTERM. Only a
 * signal after this window is an operator asking again.
 */
const REPEAT_WINDOW_MS = 1_000;

/**
 * Runs until SIGTERM/SIGINT, then shuts down gracefully (running jobs finish first, up to 30 s).
 * A second signal during shutdown exits at once: an operator who asks twice should not wait, and
 * an incident cut short is picked up again from its last checkpoint once its job's heartbeat lapses.
 */
export async function untilSignal(service: { close(): Promise<void> }, what: string): Promise<number> {
  const code = await new Promise<number>((resolve) => {
    let firstAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (firstAt !== undefined) {
        if (Date.now() - firstAt < REPEAT_WINDOW_MS) return;
        console.error(`${what}: ${signal} received again; exiting now without waiting for running incidents (their jobs are retried from the last checkpoint)`);
        process.exit(128 + (os.constants.signals[signal] ?? 0));
      }
      firstAt = Date.now();
      console.log(`${what}: ${signal} received; finishing running incidents, then stopping`);
      service.close().then(
        () => resolve(0),
        (error: unknown) => {
          console.error(`${what}: shutdown failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  // Everything we opened is closed; a handle some library left open must not keep a stopped
  // server's process alive (unref'd: an empty event loop exits before this fires).
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}

/** `suture serve [--host h] [--port p] [--fleet file] [--with-worker] [--concurrency n]`. */
export async function serveCommand(config: Config, args: CommandArgs): Promise<number> {
  const host = typeof args.values["host"] === "string" ? args.values["host"] : "127.0.0.1";
  const fleet = args.values["fleet"];
  const withWorker = args.values["with-worker"] === true;
  const service = await startService(config, {
    serve: { host, port: port(args.values["port"]), ...(typeof fleet === "string" ? { fleetFile: fleet } : {}) },
    ...(withWorker ? { worker: { concurrency: positiveInt(args.values["concurrency"], "concurrency", 1) } } : {}),
  });
  // Signals are handled before the ready line: a supervisor may stop us the moment it reads it.
  const stopped = untilSignal(service, "suture serve");
  if (service.fleet !== undefined) {
    console.log(
      `fleet: ${service.fleet.created.length} world(s) installed${service.fleet.created.length > 0 ? ` (${service.fleet.created.join(", ")})` : ""}, ${service.fleet.kept.length} kept as they were` +
        (service.fleet.recreated.length > 0 ? `, ${service.fleet.recreated.length} saved by an older version created again (${service.fleet.recreated.join(", ")})` : ""),
    );
  }
  console.log(`suture serve: listening on ${service.url ?? "?"} (${service.suture.db.kind} database at ${service.suture.db.location})${withWorker ? ", with one worker in this process" : ""}`);
  console.log(`  ${describeReasoners(config)}`);
  console.log(`  ${describeCluster(config)}`);
  console.log(`  ${describeMetrics(config)}`);
  console.log(`  POST /v1/alerts/alertmanager · /v1/alerts/pagerduty · /v1/alerts · /v1/deploys · /v1/builds   GET /v1/incidents · /metrics · /healthz · /readyz`);
  return stopped;
}

/** `suture worker [--concurrency n] [--port p] [--self-health-every s]`: runs incident jobs from the queue until SIGTERM. */
export async function workerCommand(config: Config, args: CommandArgs): Promise<number> {
  const concurrency = positiveInt(args.values["concurrency"], "concurrency", 2);
  const host = typeof args.values["host"] === "string" ? args.values["host"] : "127.0.0.1";
  const selfHealthEvery = seconds(args.values["self-health-every"], "self-health-every", 300);
  const service = await startService(config, {
    worker: { concurrency, selfRecoveryIntervalMs: selfHealthEvery * 1000 },
    ...(args.values["port"] !== undefined ? { metricsListen: { host, port: port(args.values["port"]) } } : {}),
  });
  const stopped = untilSignal(service, "suture worker");
  console.log(
    `suture worker: running up to ${concurrency} incident(s) at a time (${service.suture.db.kind} database at ${service.suture.db.location}, worker ${service.suture.locks.worker})` +
      `${service.url !== undefined ? `; metrics on ${service.url}/metrics` : ""}`,
  );
  console.log(`  ${describeReasoners(config)}`);
  console.log(`  ${describeCluster(config)}`);
  console.log(`  ${describeMetrics(config)}`);
  return stopped;
}

/** `suture retry <incident>`: queues a dead-lettered incident again (after fixing what failed). */
export async function retryCommand(config: Config, args: CommandArgs): Promise<number> {
  const [id] = args.positionals;
  if (id === undefined) throw new Error("usage: suture retry <incident>");
  const suture = await openSuture(config);
  try {
    const queue = await IncidentQueue.open(suture.db);
    try {
      const requeued = await retryDeadLetter(suture.db, queue, id);
      if (!requeued) {
        const incident = await suture.store.getIncident(id);
        console.error(`incident ${id} is ${incident.status}, not dead_letter; only dead-lettered incidents are retried`);
        return 1;
      }
      console.log(`incident ${id} queued again; a worker will continue it from its last checkpoint`);
      return 0;
    } finally {
      await queue.stop({ graceful: false });
    }
  } finally {
    await suture.close();
  }
}
