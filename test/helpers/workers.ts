import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "./cli.js";

/** A `suture worker` process and a promise of its exit. */
export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Starts `suture worker` (with any further flags) in its own process and resolves once it takes jobs. */
export function spawnWorker(env: Record<string, string>, concurrency = 3, flags: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "interfaces", "cli", "main.ts"), "worker", "--concurrency", String(concurrency), "--port", "0", ...flags], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes("suture worker: running")) {
        clearTimeout(timer);
        resolve({ child, exited, output: () => out });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
  });
}
