import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadFleet } from "../../app/fleet.js";
import { readRunbooks } from "../../memory/runbooks.js";
import { loadPolicy } from "../../policy/policy.js";
import { loadRules } from "../../reasoners/runbook/runbook-reasoner.js";
import { loadScenario } from "../../app/scenario.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

/** Nine levels of nine: expanded, 9⁹ (387 million) strings from a 400-byte file. */
const BILLION_LAUGHS = [
  'lol0: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  "lol1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "lol2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "lol3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "lol4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
  "lol5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
  "lol6: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
  "lol7: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]",
  "lol8: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]",
  "",
].join("\n");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "suture-yaml-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh folder of its own (rules are loaded per folder); returns the file. */
async function fixture(name: string, text: string): Promise<string> {
  const folder = await mkdtemp(path.join(dir, "case-"));
  const file = path.join(folder, name);
  await writeFile(file, text);
  return file;
}

/** The error a load rejects with (fails the test when it resolves). */
async function rejection(load: Promise<unknown>): Promise<Error> {
  try {
    await load;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the load to be refused, but it succeeded");
}

interface Kind {
  kind: "policy" | "scenario" | "fleet" | "rules";
  errorName: string;
  /** Loads the file as this kind. */
  load(file: string): Promise<unknown>;
  /** How this kind's messages name a file. */
  named(file: string): string;
  maxBytes: number;
  /** A syntax error, and the `line:col` it is reported at. */
  syntax: { text: string; at: string };
  /** A schema error, and the start of its message after `file:`. */
  schema: { text: string; problem: string };
}

const KINDS: Kind[] = [
  {
    kind: "policy",
    errorName: "InvalidPolicyError",
    load: (file) => loadPolicy(file),
    named: (file) => file,
    maxBytes: 256 * 1024,
    syntax: { text: "autonomy:\n  default: auto\n  overrides: [\n    x\nthresholds: {}\n", at: "5:1" },
    schema: { text: "version: 1\nthresholds:\n  medium: 1.5\n", problem: "3: thresholds.medium: expected a confidence between 0 and 1" },
  },
  {
    kind: "scenario",
    errorName: "InvalidScenarioError",
    load: (file) => loadScenario(file),
    named: (file) => path.basename(file),
    maxBytes: 1024 * 1024,
    syntax: { text: "name: x\ntitle: [x\nalerts: []\n", at: "3:1" },
    schema: {
      text: "name: x\ntitle: x\nenvironment:\n  services: [{ name: a }]\n  faults: [{ kind: scaled-to-zer0, service: a, atMinutes: -5 }]\nalerts: [{ atMinutes: 0, labels: { alertname: A, service: a } }]\nexpect: { outcome: escalated }\n",
      problem: "5: environment.faults[0].kind: Invalid option",
    },
  },
  {
    kind: "fleet",
    errorName: "InvalidFleetError",
    load: (file) => loadFleet(file),
    named: (file) => file,
    maxBytes: 1024 * 1024,
    syntax: { text: "worlds:\n  - name: a\n    environment: { services: [{ name: api }]\n  - name: b\n", at: "4:3" },
    schema: {
      text: "worlds:\n  - name: a\n    environment:\n      services: [{ name: api }]\n  - name: a\n    environment:\n      services: [{ name: web }]\n",
      problem: '5: worlds[1].name: "a" is used twice (first by worlds[0])',
    },
  },
  {
    kind: "rules",
    errorName: "InvalidRulesError",
    load: (file) => loadRules(path.dirname(file)),
    named: (file) => path.basename(file),
    maxBytes: 1024 * 1024,
    syntax: { text: "rules:\n  - id: [x\n    title: t\n", at: "3:5" },
    schema: {
      text: "rules:\n  - id: x\n    title: t\n    fault_class: f\n    category: c\n    disposition: act\n    confidence: 2\n    when: [{ fact: a }]\n    remediation: [{ tool: rollout_undo, rationale: r }]\n    explanation: e\n",
      problem: "7: rules[0].confidence: Too big",
    },
  },
];

describe.each(KINDS)("reading a $kind file", (k) => {
  const file = (text: string): Promise<string> => fixture(`${k.kind}.yaml`, text);

  it("refuses a billion-laughs alias bomb, naming the file and the line, before expanding it", async () => {
    // Given a 400-byte file whose aliases expand to 387 million strings
    const bomb = await file(BILLION_LAUGHS);
    // When it is loaded
    const started = Date.now();
    const error = await rejection(k.load(bomb));
    // Then it is refused at once with the file, the line of the alias that crosses the limit, and why
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.name).toBe(k.errorName);
    expect(error.message).toBe(`${k.named(bomb)}:5: too many aliases: expanding *d here makes the aliases add 15670 nodes, more than the 10000 allowed in a ${k.kind} file (an alias bomb?)`);
  });

  it("reports a syntax error as file:line:col and a schema error as file:line: path: expectation", async () => {
    // Given a file with broken YAML and one that is valid YAML but not a valid file of its kind
    const broken = await file(k.syntax.text);
    const invalid = await file(k.schema.text);
    // When each is loaded
    const syntax = await rejection(k.load(broken));
    const schema = await rejection(k.load(invalid));
    // Then each names the file and the line (the syntax error also the column)
    expect(syntax.name).toBe(k.errorName);
    expect(syntax.message.startsWith(`${k.named(broken)}:${k.syntax.at}: not valid YAML: `), syntax.message).toBe(true);
    expect(schema.name).toBe(k.errorName);
    expect(schema.message.startsWith(`${k.named(invalid)}:${k.schema.problem}`), schema.message).toBe(true);
  });

  it("refuses a file over its size limit without parsing it, naming the file, its size and the limit", async () => {
    // Given a file one byte over the limit (a comment, which the old loaders read as an empty document)
    const big = await file(`#${"x".repeat(k.maxBytes - 1)}\n`);
    // When it is loaded
    const error = await rejection(k.load(big));
    // Then it is refused for its size
    expect(error.name).toBe(k.errorName);
    expect(error.message).toBe(`${k.named(big)}: is ${k.maxBytes + 1} bytes, larger than the ${k.maxBytes}-byte limit for a ${k.kind} file`);
    // And a file of exactly the limit is read (and judged on its content, not its size)
    const exact = await file(`#${"x".repeat(k.maxBytes - 2)}\n`);
    const outcome = await k.load(exact).then(
      () => "loaded",
      (e: Error) => e.message,
    );
    expect(outcome).not.toMatch(/bytes, larger than/);
  });

  it("refuses nesting deeper than the limit with the line, instead of exhausting the parser's stack", async () => {
    // Given 5,000 nested flow sequences (10 KB): enough to overflow the YAML composer's recursion
    const deep = await file(`version: 1\nextra: ${"[".repeat(5000)}${"]".repeat(5000)}\n`);
    // When it is loaded
    const error = await rejection(k.load(deep));
    // Then it is refused before composing, at the line where the nesting passes the limit
    expect(error.name).toBe(k.errorName);
    expect(error.message).toBe(`${k.named(deep)}:2: nested more than 64 levels deep (the limit for a ${k.kind} file)`);
  });
});

describe("the one YAML loader", () => {
  it("refuses an alias that names its own collection (a cycle), a missing anchor and a key defined twice, with lines", async () => {
    // Given three policies, each with one structural problem
    const cycle = await fixture("cycle.yaml", "version: 1\nloop: &a [1, *a]\n");
    const dangling = await fixture("dangling.yaml", "version: 1\nthresholds: *nowhere\n");
    const twice = await fixture("twice.yaml", "autonomy:\n  default: auto\n  default: observe\n");
    // When each is loaded, then each problem is named with its line
    expect((await rejection(loadPolicy(cycle))).message).toBe(`${cycle}:2: alias *a is inside the node it names (a cycle)`);
    expect((await rejection(loadPolicy(dangling))).message).toBe(`${dangling}:2: alias *nowhere has no anchor &nowhere before it`);
    expect((await rejection(loadPolicy(twice))).message).toBe(`${twice}:3: autonomy.default: defined twice in one mapping (first on line 2)`);
  });

  it("lets a caller tighten the limits", async () => {
    // Given a valid 26-byte policy
    const file = await fixture("small.yaml", "autonomy:\n  default: auto\n");
    // When it is loaded with a 16-byte limit, then it is refused for its size
    expect((await rejection(loadPolicy(file, { maxBytes: 16 }))).message).toBe(`${file}: is 26 bytes, larger than the 16-byte limit for a policy file`);
    // And with a depth limit of 1, for its nesting
    expect((await rejection(loadPolicy(file, { maxDepth: 1 }))).message).toBe(`${file}:2: nested more than 1 levels deep (the limit for a policy file)`);
  });

  it("still expands ordinary aliases, as copies", async () => {
    // Given a policy that reuses one freeze window's weekdays by alias
    const file = await fixture(
      "aliases.yaml",
      "freezeWindows:\n  - name: weekend\n    timezone: UTC\n    weekdays: &weekend [sat, sun]\n  - name: weekend-eu\n    timezone: Europe/Berlin\n    weekdays: *weekend\n",
    );
    // When it is loaded
    const policy = await loadPolicy(file);
    // Then the alias reads as the anchored list, and editing one does not edit the other
    expect(policy.freezeWindows.map((w) => w.weekdays)).toEqual([
      ["sat", "sun"],
      ["sat", "sun"],
    ]);
    expect(policy.freezeWindows[0]!.weekdays).not.toBe(policy.freezeWindows[1]!.weekdays);
  });

  it("reads JSON scenarios through the same loader, with lines in their errors", async () => {
    // Given a JSON scenario with a schema error on line 4 and one with a syntax error
    const invalid = await fixture("scenario.json", '{\n\t"name": "x",\n\t"title": "x",\n\t"expect": {"outcome": "resolved"}\n}\n');
    const broken = await fixture("broken.json", '{\n  "name": "x",\n  "title": "x"\n  "alerts": []\n}\n');
    // When each is loaded, then both name the file and a line
    expect((await rejection(loadScenario(invalid))).message).toMatch(/^scenario\.json:4: expect\.resolvedBy: expected resolvedBy/m);
    expect((await rejection(loadScenario(broken))).message).toMatch(/^broken\.json:4:\d+: not valid JSON: /);
  });

  it("lists at most 20 problems and counts the rest", async () => {
    // Given a policy with 30 freeze windows in an unknown time zone
    const lines = ["freezeWindows:"];
    for (let i = 0; i < 30; i++) lines.push(`  - { name: w${i}, timezone: Mars/Olympus, weekdays: [sat] }`);
    const file = await fixture("many.yaml", `${lines.join("\n")}\n`);
    // When it is loaded
    const message = (await rejection(loadPolicy(file))).message.split("\n");
    // Then the first 20 are listed with their lines and the other 10 counted
    expect(message).toHaveLength(21);
    expect(message[0]!.startsWith(`${file}:2: freezeWindows[0].timezone: expected an IANA time zone`), message[0]).toBe(true);
    expect(message[19]!.startsWith(`${file}:21: freezeWindows[19].timezone: `), message[19]).toBe(true);
    expect(message[20]).toBe(`${file}: … and 10 more problems`);
  });

  it("loads every shipped policy, rules file, scenario and fleet", async () => {
    // Given the files Suture ships, when each is loaded, then none is refused
    await loadPolicy(path.join(ROOT, "data", "policies", "default-policy.yaml"));
    await loadPolicy(path.join(ROOT, "data", "policies", "strict-policy.yaml"));
    expect((await loadRules()).length).toBeGreaterThan(10);
    const scenarios = (await readdir(path.join(ROOT, "data", "scenarios"))).filter((f) => f.endsWith(".yaml"));
    for (const s of scenarios) await loadScenario(path.join(ROOT, "data", "scenarios", s));
    expect(await loadFleet(path.join(ROOT, "data", "fleets", "demo.yaml"))).toHaveLength(5);
  });
});

describe("runbook files", () => {
  const page = (front: string): string => `---\n${front}---\n# KubePodCrashLooping\n\n## Meaning\n\nA pod keeps restarting.\n`;

  it("reads the front matter as YAML: quoted titles, other keys ignored", async () => {
    // Given a runbook whose front matter has a quoted title and Hugo's keys
    const folder = await mkdtemp(path.join(dir, "runbooks-"));
    await writeFile(path.join(folder, "KubePodCrashLooping.md"), page('title: "Pod: crash looping"\nweight: 20\naliases: [/crash]\n'));
    // When the folder is read
    const [runbook] = await readRunbooks(folder);
    // Then the title is the YAML value
    expect(runbook?.title).toBe("Pod: crash looping");
    expect(runbook?.meaning).toBe("A pod keeps restarting.");
  });

  it("refuses an alias bomb in the front matter with the file and its line in the Markdown file", async () => {
    // Given a runbook whose front matter (from line 2) is a billion-laughs bomb
    const folder = await mkdtemp(path.join(dir, "runbooks-"));
    const file = path.join(folder, "KubePodCrashLooping.md");
    await writeFile(file, page(BILLION_LAUGHS));
    // When the folder is read
    const error = await rejection(readRunbooks(folder));
    // Then the line is the file's (the bomb's fifth line is the file's sixth)
    expect(error.message).toBe(`${file}:6: too many aliases: expanding *d here makes the aliases add 15670 nodes, more than the 10000 allowed in a runbook file (an alias bomb?)`);
  });

  it("refuses a Markdown file over the runbook size limit", async () => {
    // Given a 2 MiB runbook
    const folder = await mkdtemp(path.join(dir, "runbooks-"));
    await mkdir(path.join(folder, "node"));
    const file = path.join(folder, "node", "NodeFilesystemFull.md");
    await writeFile(file, page("title: Full\n") + "x".repeat(2 * 1024 * 1024));
    // When the folder is read, then it is refused for its size
    const error = await rejection(readRunbooks(folder));
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: is \\d+ bytes, larger than the 1048576-byte limit for a runbook file$`));
  });
});
