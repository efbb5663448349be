import { writeFile } from "node:fs/promises";
import { convertScenarioFile } from "../../../app/scenario-convert.js";
import { InvalidInputError } from "../../../domain/errors.js";
import type { CommandArgs } from "../args.js";

const USAGE = "usage: suture scenario convert <v1 scenario file> [--out <file>]";

/**
 * `suture scenario convert <file> [--out f]`: prints (or writes to a new file) the manifest form
 * of a scenario written with `environment.services`.
 */
export async function scenarioCommand(args: CommandArgs): Promise<number> {
  const [sub, file] = args.positionals;
  if (sub !== "convert") throw new InvalidInputError(`unknown scenario command ${JSON.stringify(sub ?? "")}; known: convert\n${USAGE}`);
  if (file === undefined) throw new InvalidInputError(USAGE);
  const text = await convertScenarioFile(file);
  const out = args.values["out"];
  if (typeof out === "string") {
    try {
      await writeFile(out, text, { flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new InvalidInputError(`--out ${out}: the file exists; choose a new path`);
      throw e;
    }
    console.error(`suture scenario convert: wrote ${out}`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
