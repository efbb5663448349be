import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

/** PATH as `npm run`/`npx` set it: the project's bins (Node 22 among them) first. */
const PATH = `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env["PATH"] ?? ""}`;
const STOP_WITHIN_MS = 5_000;

/** A started command: its process, everything it printed, and its exit. */
interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * npm's cache as on a fresh machine: npx installs the project into its cache (`_npx/<hash of the
 * path>`) to link its bin, and an entry left there by an older checkout at the same path whose bin
 * has since moved is taken as installed ("sh: suture: not found"), an npm defect outside Suture.
 */
let npmCache = "";

function start(command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, PATH, NO_COLOR: "1", npm_config_cache: npmCache, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  // "close": the process exited and everything it printed has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Whether a new server can bind the port (the old one released it). */
async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Linux /proc: the process's state letter, or undefined once it is gone. */
function state(pid: number): string | undefined {
  try {
    // "pid (comm) S ppid …": comm may hold spaces and parentheses, so parse from the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const s = state(pid);
  return s !== undefined && s !== "Z";
}

/** The process and all its descendants (npm, its shell, node, tsx's esbuild service, …). */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const all = [root];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]!) ?? []));
  return all;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "(gone)";
  }
}

describe("the suture command", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-bin-"));
    npmCache = path.join(dir, "npm-cache");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("npx suture --help prints the usage", async () => {
    // Given a clone after npm install (package.json's bin), and PATH as npm sets it
    // When `npx suture --help` runs in it
    const run = start("npx", ["suture", "--help"], { SUTURE_HOME: path.join(dir, "help"), DATABASE_URL: "" });
    const { code } = await run.exited;
    // Then it exits 0 with the usage
    expect(run.output()).toContain("usage: suture <command> [options]");
    expect(code, run.output()).toBe(0);
  });

  it("npx suture sim serve --help prints that command's usage, its flags included", async () => {
    // When a subcommand is asked for help
    const run = start("npx", ["suture", "sim", "serve", "--help"], { SUTURE_HOME: path.join(dir, "help-sim"), DATABASE_URL: "" });
    const { code } = await run.exited;
    // Then it exits 0 with that command's line (not "Unknown option '--help'")
    expect(run.output()).toContain("sim serve --scenario <file>");
    expect(run.output()).toContain("--kubeconfig <out>");
    expect(run.output()).not.toContain("Unknown option");
    expect(code, run.output()).toBe(0);
  });

  const ways: Array<{ name: string; command: string; args: (port: number) => string[]; ready: string }> = [
    { name: "npm run suture -- serve", command: "npm", args: (p) => ["run", "suture", "--", "serve", "--port", String(p)], ready: "listening on" },
    { name: "npx suture serve", command: "npx", args: (p) => ["suture", "serve", "--port", String(p)], ready: "listening on" },
    { name: "node --import tsx interfaces/cli/main.ts serve", command: "node", args: (p) => ["--import", "tsx", "interfaces/cli/main.ts", "serve", "--port", String(p)], ready: "listening on" },
    { name: "npx suture worker --port", command: "npx", args: (p) => ["suture", "worker", "--port", String(p)], ready: "suture worker: running" },
  ];

  for (const way of ways) {
    it(`${way.name} stops within 5 s of SIGTERM, port released, process tree gone`, async () => {
      // Given the command started on the embedded back end and listening on its port
      const port = await freePort();
      const run = start(way.command, way.args(port), { SUTURE_HOME: path.join(dir, `home-${port}`), DATABASE_URL: "" });
      let pids: number[] = [];
      try {
        const ready = await until(() => run.output().includes(way.ready) || run.child.exitCode !== null, 45_000);
        expect(ready && run.output().includes(way.ready), `did not start:\n${run.output()}`).toBe(true);
        expect(await portIsFree(port)).toBe(false);
        pids = tree(run.child.pid!);
        const commands = pids.map((p) => `${p} ${commandOf(p)}`).join("\n");

        // When SIGTERM is sent to the process that was started (not to its process group)
        const sentAt = Date.now();
        run.child.kill("SIGTERM");

        // Then the port is free and every process of the tree has exited within 5 s
        const portFreed = await until(() => portIsFree(port), STOP_WITHIN_MS);
        const portMs = Date.now() - sentAt;
        const treeGone = await until(() => pids.every((p) => !alive(p)), STOP_WITHIN_MS - (Date.now() - sentAt));
        const treeMs = Date.now() - sentAt;
        console.log(`${way.name}: port free after ${portMs} ms, ${pids.length} processes gone after ${treeMs} ms`);
        expect(portFreed, `port ${port} still bound 5 s after SIGTERM; processes:\n${commands}\n${run.output()}`).toBe(true);
        expect(
          treeGone,
          `still running 5 s after SIGTERM:\n${pids
            .filter(alive)
            .map((p) => `${p} ${commandOf(p)}`)
            .join("\n")}`,
        ).toBe(true);
        // And the server shut down through its own handler, not by being killed (read once its
        // output is all in: a loaded machine can see the process gone before its last line is read)
        await Promise.race([run.exited, new Promise((r) => setTimeout(r, STOP_WITHIN_MS))]);
        expect(run.output()).toMatch(/SIGTERM received; finishing running incidents, then stopping/);
      } finally {
        for (const p of [run.child.pid!, ...pids]) if (alive(p)) process.kill(p, "SIGKILL");
      }
    });
  }
});
