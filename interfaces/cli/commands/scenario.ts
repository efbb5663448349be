import { convertScenarioFile } from "../../../app/scenario-convert.js";
import { InvalidInputError } from "../../../domain/errors.js";
import type { CommandArgs } from "../args.js";
import { writeNewFile } from "../new-file.js";

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
    await writeNewFile(out, text);
    console.error(`suture scenario convert: wrote ${out}`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
