import { readdir } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { parseYaml, readLimitedFile } from "../domain/yaml.js";
import type { WeightedText } from "./embeddings.js";

/** A runbook in the prometheus-operator format: Meaning / Impact / Diagnosis / Mitigation. */
export interface Runbook {
  /** The alert name: the file name, as in the runbook URLs alerts carry. */
  name: string;
  /** The page's `#` heading (usually the alert name again). */
  heading: string;
  title: string;
  meaning: string;
  impact: string;
  diagnosis: string;
  mitigation: string;
  file: string;
}

function section(body: string, heading: string): string {
  const match = new RegExp(`^##\\s+${heading}\\s*$([\\s\\S]*?)(?=^##\\s|(?![\\s\\S]))`, "mi").exec(body);
  return (match?.[1] ?? "").trim();
}

/** The front matter keys Suture reads; the rest (Hugo's weight, aliases, …) is ignored. */
const FrontMatterSchema = z.looseObject({
  title: z.union([z.string(), z.number()], "expected a title (text)").transform(String).nullish(),
});

/**
 * Parses one runbook file; returns undefined for index pages. The YAML front matter goes through
 * the same bounded loader as every other YAML file (an invalid one is an error naming its line).
 */
export function parseRunbook(markdown: string, file: string): Runbook | undefined {
  const front = /^---\r?\n([\s\S]*?)\r?\n---(?:\r?\n|$)/.exec(markdown);
  const body = front ? markdown.slice(front[0].length) : markdown;
  if (path.basename(file).startsWith("_")) return undefined;
  // The front matter starts on the file's second line.
  const meta = front?.[1] !== undefined ? parseYaml(front[1], file, { kind: "runbook", schema: FrontMatterSchema, empty: {}, lineOffset: 1 }).data : {};
  const name = path.basename(file, ".md");
  // Upstream pages are not always consistent (one heading names another alert), so the file
  // name is the alert name and the heading is only more text.
  const heading = /^#\s+(.+)$/m.exec(body)?.[1]?.trim() ?? name;
  const title = meta.title?.trim() || name;
  const meaning = section(body, "Meaning");
  return {
    name,
    heading,
    title,
    // Stub pages ("See [Other runbook]") have no sections; their body is the meaning.
    meaning: meaning !== "" ? meaning : body.replace(/^#.*$/m, "").trim(),
    impact: section(body, "Impact"),
    diagnosis: section(body, "Diagnosis"),
    mitigation: section(body, "Mitigation"),
    file,
  };
}

/** Reads every runbook under a folder (recursively, each within the runbook file limits), sorted by name. */
export async function readRunbooks(dir: string): Promise<Runbook[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read runbooks from ${dir}: ${error.code === "ENOENT" ? "no such folder" : error.message}`, { cause: error });
  });
  const runbooks: Runbook[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith(".md")) continue;
    const file = path.join(e.parentPath, e.name);
    const parsed = parseRunbook(await readLimitedFile(file, { kind: "runbook" }), file);
    if (parsed !== undefined) runbooks.push(parsed);
  }
  return runbooks.sort((a, b) => a.name.localeCompare(b.name));
}

/** The fields of a runbook that are embedded: what the alert is and means, not how to fix it. */
export function runbookDocument(r: Runbook): WeightedText[] {
  return [
    { text: r.name, weight: 3 },
    { text: `${r.title} ${r.heading === r.name ? "" : r.heading}`, weight: 2 },
    { text: r.meaning, weight: 1 },
    { text: r.impact, weight: 0.5 },
  ];
}
