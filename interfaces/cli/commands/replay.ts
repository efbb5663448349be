import { randomUUID } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { lstat, open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../../../app/config.js";
import { loadPolicy } from "../../../policy/policy.js";
import { exportIncident, exportText, importIncident } from "../../../app/export.js";
import { replayIncident } from "../../../app/replay.js";
import { openSuture } from "../../../app/suture.js";
import type { CommandArgs } from "../args.js";
import { color, formatTimelineEntry } from "../format.js";
import { printResult } from "./run.js";

function text(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * `suture replay <incident> --from <checkpoint> [--policy <file>] [--live]` and
 * `suture replay --file <export.json> --from <checkpoint> …`: forks a new incident from a checkpoint.
 */
export async function replayCommand(config: Config, args: CommandArgs): Promise<number> {
  const from = text(args, "from");
  const file = text(args, "file");
  const [incident] = args.positionals;
  if (from === undefined || (incident === undefined && file === undefined)) {
    throw new Error("usage: suture replay <incident> --from <checkpoint> [--policy <file>] [--live]  |  suture replay --file <export.json> --from <checkpoint>");
  }
  const policyFile = text(args, "policy");
  const policy = policyFile !== undefined ? await loadPolicy(policyFile) : undefined;
  let data: unknown;
  if (file !== undefined) {
    try {
      data = JSON.parse(await readFile(file, "utf8")) as unknown;
    } catch (error) {
      throw new Error(`${file}: cannot read an export (${(error as Error).message.split("\n")[0] ?? ""})`, { cause: error });
    }
  }
  const suture = await openSuture(config, { migrate: true, ...(policy !== undefined ? { policy } : {}) });
  try {
    const sourceId = file !== undefined ? await importIncident(suture, data, file) : (incident ?? "");
    const live = args.values["live"] === true && args.values["dry-run"] !== true;
    const result = await replayIncident(suture, sourceId, { from, live, onTimeline: (entries) => entries.forEach((e) => console.log(formatTimelineEntry(e))) });
    console.log(color("dim", `replay ${result.incidentId} of ${result.forkedFrom} from checkpoint ${result.checkpoint} (${live ? "live, on a private copy of the world" : "dry run"})`));
    printResult(result);
    return 0;
  } finally {
    await suture.close();
  }
}

/** `suture export <incident> [--out <file> [--force]]`: a self-contained JSON of the incident. */
export async function exportCommand(config: Config, args: CommandArgs): Promise<number> {
  const [incident] = args.positionals;
  if (incident === undefined) throw new Error("usage: suture export <incident> [--out <file> [--force]]");
  const suture = await openSuture(config);
  try {
    // Built before the file is touched, so a failed export leaves no empty or partial file behind.
    const json = exportText(await exportIncident(suture, incident));
    const out = text(args, "out");
    if (out === undefined) process.stdout.write(json);
    else {
      await writeExportFile(out, json, args.values["force"] === true);
      console.log(`wrote ${out} (mode 0600)`);
    }
    return 0;
  } finally {
    await suture.close();
  }
}

const PRIVATE_FILE = 0o600;

/**
 * Writes an export readable by its owner only. An export holds the incident's alerts, evidence and
 * audit trail, so it must never land somewhere the operator did not name: an existing path is
 * refused unless `force`, and a symbolic link is never written through or replaced, even with
 * `force` (a link planted at the path would otherwise redirect the write).
 */
async function writeExportFile(out: string, json: string, force: boolean): Promise<void> {
  const existing = await lstatOrUndefined(out);
  if (existing?.isSymbolicLink() === true) {
    throw symlinkRefusal(out);
  }
  if (existing !== undefined && !existing.isFile()) throw new Error(`${out} exists and is not a regular file; choose another path`);
  if (existing === undefined || !force) {
    await createExclusive(out, json, force);
    return;
  }
  // Replace a regular file without ever opening the old path: write a fresh private file beside
  // it, then rename it over the old one (rename replaces the directory entry, never a link's target).
  const temp = path.join(path.dirname(out), `.${path.basename(out)}.${randomUUID().slice(0, 8)}.tmp`);
  await createExclusive(temp, json, false);
  try {
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    throw new Error(`${out}: cannot replace (${(error as Error).message})`, { cause: error });
  }
}

/** Creates `file` with mode 0600; O_EXCL fails on any existing entry, a dangling symlink included. */
async function createExclusive(file: string, json: string, force: boolean): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ELOOP") {
      // Created between our lstat and open: say what is there now.
      const now = await lstatOrUndefined(file);
      if (now?.isSymbolicLink() === true) throw symlinkRefusal(file);
      throw new Error(`${file} already exists; pass --force to replace it${force ? " (it appeared while writing; try again)" : ""}`, { cause: error });
    }
    throw new Error(`${file}: cannot create (${(error as Error).message})`, { cause: error });
  }
  try {
    // The umask may have taken bits away from the mode; set exactly owner read/write.
    await handle.chmod(PRIVATE_FILE);
    await handle.writeFile(json);
  } catch (error) {
    await handle.close();
    await rm(file, { force: true });
    throw new Error(`${file}: cannot write (${(error as Error).message})`, { cause: error });
  }
  await handle.close();
}

function symlinkRefusal(file: string): Error {
  return new Error(`${file} is a symbolic link; export never writes through or replaces a symlink, even with --force: remove it or choose another path`);
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`${file}: cannot inspect (${(error as Error).message})`, { cause: error });
  }
}
