/**
 * Grouping accuracy (GA) of a log-template grouping against labelled templates, the measure the
 * log-parsing literature reports (Zhu et al., "Tools and Benchmarks for Automated Log Parsing";
 * Loghub-2.0): a line counts as correct when the set of lines grouped with it is exactly the set
 * of lines that share its true template. Pure: the caller reads the files.
 */

/**
 * Parses RFC 4180 CSV text into rows of fields: fields may be quoted, a quoted field may hold
 * commas, newlines and doubled quotes (`""`); CRLF and LF both end a record.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i += 1;
      continue;
    }
    if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      if (c === "\r" && text[i + 1] === "\n") i += 1;
    } else field += c;
    i += 1;
  }
  if (quoted) throw new Error(`CSV: a quoted field opened in record ${rows.length + 1} is never closed (expected a closing '"')`);
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as records keyed by the header row's column names; fails naming a missing column. */
export function csvRecords(text: string, required: string[] = []): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new Error("CSV: empty input (expected a header row)");
  for (const name of required) {
    if (!header.includes(name)) throw new Error(`CSV: column '${name}' is missing (header has ${header.join(", ")})`);
  }
  return rows.map((fields, n) => {
    if (fields.length !== header.length) throw new Error(`CSV: record ${n + 2} has ${fields.length} fields (expected ${header.length}, as in the header)`);
    return Object.fromEntries(header.map((name, k) => [name, fields[k] ?? ""]));
  });
}

/**
 * Fraction of lines whose predicted group equals their true group: a predicted group is right
 * (all its lines count) when it holds one true template and every line of that template.
 */
export function groupingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  if (predicted.length !== truth.length) throw new Error(`groupingAccuracy: ${predicted.length} predicted labels for ${truth.length} true ones (expected one per line)`);
  if (predicted.length === 0) return 1;
  const truthSize = new Map<string, number>();
  for (const t of truth) truthSize.set(t, (truthSize.get(t) ?? 0) + 1);
  const groups = new Map<string, { size: number; truths: Set<string> }>();
  predicted.forEach((p, i) => {
    const g = groups.get(p) ?? { size: 0, truths: new Set<string>() };
    g.size += 1;
    g.truths.add(truth[i] ?? "");
    groups.set(p, g);
  });
  let correct = 0;
  for (const g of groups.values()) {
    if (g.truths.size !== 1) continue;
    const [only] = g.truths;
    if (only !== undefined && truthSize.get(only) === g.size) correct += g.size;
  }
  return correct / predicted.length;
}
