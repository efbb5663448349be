#!/usr/bin/env node
// @ts-check
// The `suture` command. Suture ships as TypeScript; tsx compiles it on import, inside this
// process, so SIGTERM/SIGINT reach the CLI's own handlers with no loader process in between
// (the tsx CLI would add one, and a second process to orphan).
// Node's globals come from their modules: ESLint lints this file as plain JS, without Node's types.
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import { URL, fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

/**
 * Oldest Node that runs Suture (package.json `engines`): pg-boss requires it, and the undici that
 * @kubernetes/client-node loads fails at import on Node 20 (no zstd in node:zlib).
 */
const SUPPORTED = [22, 12];

/**
 * @param {number[]} version
 * @param {number[]} floor
 * @returns {boolean}
 */
function atLeast(version, floor) {
  const [major = 0, minor = 0] = version;
  const [floorMajor = 0, floorMinor = 0] = floor;
  return major > floorMajor || (major === floorMajor && minor >= floorMinor);
}

/**
 * `npm run` and `npx` forward SIGTERM/SIGINT only to their own child: the `sh -c` they start.
 * Debian's /bin/sh (dash) does not exec the command it runs, so the shell dies of the signal
 * and this process would be orphaned, still serving with its port bound. Under npm, losing the
 * parent means that signal was meant for us: deliver SIGTERM to ourselves (graceful shutdown
 * for serve/worker, the default exit for every other command).
 */
function stopWithNpmParent() {
  if (process.env["npm_lifecycle_event"] === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, "SIGTERM");
  }, 200);
  // Never what keeps the process alive.
  timer.unref();
}

const version = process.versions.node.split(".").map(Number);
if (!atLeast(version, SUPPORTED)) {
  process.stderr.write(
    `suture: Node ${process.versions.node} cannot run Suture; install Node ${SUPPORTED.join(".")} or newer (or run \`npx suture\` in a clone, which uses the Node 22 from its node_modules)\n`,
  );
  process.exit(1);
}

stopWithNpmParent();
// Our tsconfig, not whatever tsconfig.json sits in the caller's directory (a global install runs
// from anywhere, and compile settings such as class-field semantics must not depend on that).
register({ tsconfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)) });
await import(new URL("./main.ts", import.meta.url).href);
