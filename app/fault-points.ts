/**
 * Test-only fault points, in one place and inert unless a test turns them on through the
 * environment of the process it starts: `SUTURE_CRASH_BEFORE_NODE=<node>` SIGKILLs the process when
 * that node starts (with durability "sync" every earlier step's checkpoint is written);
 * `SUTURE_CRASH_AFTER_NODE=<node>` SIGKILLs it as soon as that node's update is streamed, which can
 * be before its checkpoint is written (a crash between a side effect and its checkpoint);
 * `SUTURE_CRASH_IN_SELF_RECOVERY=1` SIGKILLs it inside a self-recovery's transaction, after its
 * row is written and before its audit entry and the commit; `SUTURE_CLOCK_SKEW_MS=<ms>` shifts the
 * process's own clock by that much (clock skew between workers).
 */
const BEFORE = nonEmpty(process.env["SUTURE_CRASH_BEFORE_NODE"]);
const AFTER = nonEmpty(process.env["SUTURE_CRASH_AFTER_NODE"]);
const IN_SELF_RECOVERY = nonEmpty(process.env["SUTURE_CRASH_IN_SELF_RECOVERY"]);
const CLOCK_SKEW_MS = Number(nonEmpty(process.env["SUTURE_CLOCK_SKEW_MS"]) ?? "0");

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value !== "" ? value : undefined;
}

/** LangGraph callbacks that kill the process as the chosen node starts (none unless turned on). */
export function faultCallbacks(): Array<{ handleChainStart: (...args: [unknown, unknown, string, string?, string[]?, Record<string, unknown>?]) => void }> {
  if (BEFORE === undefined) return [];
  return [
    {
      handleChainStart: (_chain, _inputs, _runId, _type, _tags, metadata) => {
        if (metadata?.["langgraph_node"] === BEFORE) process.kill(process.pid, "SIGKILL");
      },
    },
  ];
}

/** Kills the process after the chosen node's update (a no-op unless turned on). */
export async function faultAfterNode(node: string): Promise<void> {
  if (AFTER !== node) return;
  process.kill(process.pid, "SIGKILL");
  await new Promise(() => undefined);
}

/** Kills the process inside a self-recovery's transaction (a no-op unless turned on). */
export async function faultInSelfRecovery(): Promise<void> {
  if (IN_SELF_RECOVERY === undefined) return;
  process.kill(process.pid, "SIGKILL");
  await new Promise(() => undefined);
}

/** This process's own clock: the wall clock, shifted when a test injects clock skew. */
export function processClock(): () => number {
  if (!Number.isFinite(CLOCK_SKEW_MS) || CLOCK_SKEW_MS === 0) return Date.now;
  return () => Date.now() + CLOCK_SKEW_MS;
}
