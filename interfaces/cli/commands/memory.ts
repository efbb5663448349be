import type { Config } from "../../../app/config.js";
import { openSuture } from "../../../app/suture.js";
import type { CommandArgs } from "../args.js";

const USAGE = `usage: suture memory <stats | search "<text>" | import-runbooks <dir> | re-embed>`;

/** `suture memory …`: the feedback-loop table, similarity search, runbook import, re-embedding. */
export async function memoryCommand(config: Config, args: CommandArgs): Promise<number> {
  const [sub, ...rest] = args.positionals;
  if (sub === undefined) {
    console.error(USAGE);
    return 2;
  }
  const suture = await openSuture(config, { migrate: true });
  try {
    const memory = suture.memory;
    switch (sub) {
      case "stats": {
        const stats = await memory.stats();
        const { demotion } = suture.policy.policy;
        const counts = await memory.count();
        console.log(`memory scope "${memory.scope}": ${counts.incidents} incident(s), ${counts.runbooks} runbook(s); embedder ${memory.embedder.id}\n`);
        console.log(
          `${"fault class".padEnd(24)} ${"remediation".padEnd(22)} ${"tries".padStart(5)} ${"fixed".padStart(5)} ${"failed".padStart(6)} ${"worse".padStart(5)} ${"success".padStart(8)} ${"rollback".padStart(8)}  status`,
        );
        for (const s of stats) {
          const demoted = s.attempts >= demotion.minSamples && s.rollbackRate >= demotion.rollbackRate;
          console.log(
            `${s.faultClass.padEnd(24)} ${s.tool.padEnd(22)} ${String(s.attempts).padStart(5)} ${String(s.recovered).padStart(5)} ${String(s.notRecovered).padStart(6)} ${String(s.worse).padStart(5)} ${s.successRate.toFixed(2).padStart(8)} ${s.rollbackRate.toFixed(2).padStart(8)}  ${demoted ? "DEMOTED (needs approval)" : "ok"}`,
          );
        }
        if (stats.length === 0) console.log("(no verified remediations yet)");
        return 0;
      }
      case "search": {
        const text = rest.join(" ");
        if (text === "") throw new Error(`${USAGE}\nsearch needs the text to look for`);
        for (const n of await memory.search(text, 5)) {
          const what = n.kind === "runbook" ? "runbook" : `${n.outcome ?? "?"}${n.remediation ? ` by ${n.remediation}` : ""}`;
          console.log(`${n.similarity.toFixed(3)}  ${n.kind.padEnd(8)} ${(n.incidentId ?? n.title).padEnd(30)} ${n.title} — ${what}`);
        }
        return 0;
      }
      case "import-runbooks": {
        const [dir] = rest;
        if (dir === undefined) throw new Error(`${USAGE}\nimport-runbooks needs a folder`);
        const runbooks = await memory.importRunbooks(dir);
        console.log(`imported ${runbooks.length} runbooks from ${dir} into scope "${memory.scope}"`);
        return 0;
      }
      case "re-embed": {
        const n = await memory.reembed();
        console.log(`re-embedded ${n} entries with ${memory.embedder.id}`);
        return 0;
      }
      default:
        console.error(`unknown memory command "${sub}"; ${USAGE}`);
        return 2;
    }
  } finally {
    await suture.close();
  }
}
