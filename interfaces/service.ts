import Fastify, { type FastifyInstance } from "fastify";
import type { Config } from "../app/config.js";
import { installFleet, loadFleet, type FleetReport } from "../app/fleet.js";
import { loadTargetMapping } from "../app/alert-targets.js";
import { Intake } from "../app/intake.js";
import { SutureMetrics } from "./metrics.js";
import { IncidentQueue, type QueueTiming } from "../store/queue.js";
import { policyVersion } from "../policy/policy.js";
import type { ReloadResult } from "../policy/source.js";
import { openSuture, type Suture } from "../app/suture.js";
import { IncidentWorker, type WorkerOptions } from "./worker.js";
import { metricsRoute } from "./http/routes/operations.js";
import { buildServer } from "./http/server.js";

/** What to run in this process. */
export interface ServiceOptions {
  /** Run the HTTP server (`suture serve`). */
  serve?: { host: string; port: number; fleetFile?: string };
  /** Run a worker (`suture worker`, or `serve --with-worker`). */
  worker?: Omit<WorkerOptions, "metrics">;
  /** Queue timing overrides (tests shorten crash recovery). */
  queueTiming?: Partial<QueueTiming>;
  /** Apply migrations first (default: on the embedded database only). */
  migrate?: boolean;
  /** A worker without the API can still expose `/metrics` and `/healthz` here. */
  metricsListen?: { host: string; port: number };
}

/** A running service; `close()` stops it gracefully. */
export interface RunningService {
  suture: Suture;
  queue: IncidentQueue;
  metrics: SutureMetrics;
  /** The server's base URL, when serving. */
  url?: string;
  app?: FastifyInstance;
  worker?: IncidentWorker;
  fleet?: FleetReport;
  close(): Promise<void>;
}

/**
 * Reloads the policy file when it changes or on SIGHUP; a file that fails validation is reported
 * and the last good policy stays in force.
 */
function watchPolicy(suture: Suture, metrics: SutureMetrics): () => void {
  const file = suture.policyFile;
  if (file === undefined) return () => undefined;
  const report = (result: ReloadResult): void => {
    if (result.ok) {
      metrics.policyReloads.inc({ result: "ok" });
      if (result.changed) console.log(`suture: policy ${file.file} reloaded (version ${policyVersion(file.current())})`);
    } else {
      metrics.policyReloads.inc({ result: "failed" });
      console.error(`suture: policy reload failed, keeping the last good policy (version ${policyVersion(file.current())}): ${result.error}`);
    }
  };
  const stop = file.watch(report);
  const onHangup = (): void => {
    void file.reload().then(report);
  };
  process.on("SIGHUP", onHangup);
  return () => {
    stop();
    process.off("SIGHUP", onHangup);
  };
}

/**
 * Starts intake and/or a worker on the configured database. Both need the same pieces (the
 * database, the queue, metrics); one process may run both (`serve --with-worker`, the laptop
 * and demo setup on the embedded database).
 */
export async function startService(config: Config, options: ServiceOptions): Promise<RunningService> {
  const suture = await openSuture(config, { migrate: options.migrate ?? config.databaseUrl === undefined });
  let queue: IncidentQueue | undefined;
  try {
    queue = await IncidentQueue.open(suture.db, { supervise: options.worker !== undefined, ...(options.queueTiming !== undefined ? { timing: options.queueTiming } : {}) });
    const metrics = new SutureMetrics(suture.db, queue);
    const service: RunningService = { suture, queue, metrics, close: async () => undefined };
    if (options.serve?.fleetFile !== undefined) service.fleet = await installFleet(suture.db, await loadFleet(options.serve.fleetFile));
    if (options.worker !== undefined) {
      service.worker = new IncidentWorker(suture, queue, { ...options.worker, metrics });
      await service.worker.start();
    }
    if (options.serve !== undefined) {
      const app = buildServer({
        suture,
        intake: new Intake(suture.db, queue, suture.cluster, config.alertTargetsFile !== undefined ? await loadTargetMapping(config.alertTargetsFile) : undefined),
        queue,
        metrics,
        apiTokens: config.apiTokens,
        ...(config.intakeToken !== undefined ? { intakeToken: config.intakeToken } : {}),
      });
      service.url = await app.listen({ host: options.serve.host, port: options.serve.port });
      service.app = app;
    } else if (options.metricsListen !== undefined) {
      // Node durations and job counts are observed where the graph runs: in the worker.
      const app = Fastify({ logger: false });
      metricsRoute(app, metrics);
      app.get("/healthz", async () => ({ status: "ok", running: service.worker?.active ?? [] }));
      service.url = await app.listen(options.metricsListen);
      service.app = app;
    }
    const stopWatching = watchPolicy(suture, metrics);
    const openQueue = queue;
    let closing: Promise<void> | undefined;
    service.close = () =>
      (closing ??= (async () => {
        // Stop taking work first, let running jobs finish, then close the database.
        stopWatching();
        await service.app?.close();
        if (service.worker !== undefined) await service.worker.stop();
        else await openQueue.stop({ graceful: true });
        await suture.close();
      })());
    return service;
  } catch (error) {
    await queue?.stop({ graceful: false }).catch(() => undefined);
    await suture.close();
    throw error;
  }
}
