import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../app/config.js";
import { startService, type RunningService, type ServiceOptions } from "../../interfaces/service.js";
import type { ProcessDatabase, TestBackend } from "./backends.js";
import { writeFleet } from "./fleet.js";

/** A service started on a fresh database of one back end, with its own scratch directory. */
export interface TestService {
  service: RunningService;
  /** The server's base URL (when serving). */
  url: string;
  /** The database, for processes the test starts. */
  pd: ProcessDatabase;
  /** A scratch directory, removed by close(). */
  dir: string;
  /** Stops the service and removes the database and the directory. */
  close(): Promise<void>;
}

/** What to start: fleet worlds to serve, files to write into the scratch directory, extra environment, a worker. */
export interface TestServiceOptions {
  /** Fleet worlds (see fleet.ts); with none, the server has no fleet. */
  worlds?: Array<Record<string, unknown>>;
  /** Files to write into the scratch directory first, by name. */
  files?: Record<string, string>;
  /** Environment on top of the back end's; `{dir}` in a value is replaced by the scratch directory. */
  env?: Record<string, string>;
  worker?: ServiceOptions["worker"];
  /** Serve HTTP (default true). */
  serve?: boolean;
  /** The port to serve on (default: any free one). */
  port?: number;
}

/** Starts `suture serve` (and optionally a worker) in this process, as the server tests do. */
export async function startTestService(backend: TestBackend, options: TestServiceOptions = {}): Promise<TestService> {
  const pd = await backend.forProcesses();
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-service-"));
  const cleanup = async (): Promise<void> => {
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(path.join(dir, name), text);
    const env = Object.fromEntries(Object.entries(options.env ?? {}).map(([k, v]) => [k, v.replaceAll("{dir}", dir)]));
    const fleetFile = options.worlds !== undefined ? await writeFleet(dir, options.worlds) : undefined;
    const service = await startService(loadConfig({ ...process.env, ...pd.env, ...env }), {
      migrate: true,
      ...(options.serve !== false ? { serve: { host: "127.0.0.1", port: options.port ?? 0, ...(fleetFile !== undefined ? { fleetFile } : {}) } } : {}),
      ...(options.worker !== undefined ? { worker: options.worker } : {}),
    });
    return {
      service,
      url: service.url ?? "",
      pd,
      dir,
      async close() {
        await service.close();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
