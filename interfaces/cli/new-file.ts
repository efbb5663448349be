import { writeFile } from "node:fs/promises";
import { InvalidInputError } from "../../domain/errors.js";

/** Writes `text` to `out`, which must not exist yet (`--out` never replaces a file). */
export async function writeNewFile(out: string, text: string): Promise<void> {
  try {
    await writeFile(out, text, { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new InvalidInputError(`--out ${out}: the file exists; choose a new path`);
    throw e;
  }
}
