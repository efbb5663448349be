import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

const run = promisify(execFile);
const BIN = path.join(ROOT, "node_modules", ".bin");
const PRODUCT = ["domain", "store", "environments", "tools", "evidence", "memory", "reasoners", "policy", "regression", "graphs", "nodes", "app", "interfaces"];

interface Cruise {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; coreModule: boolean; couldNotResolve: boolean }> }>;
  summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
}

/** Runs dependency-cruiser with the project's rules on folders under `cwd`. */
async function cruise(cwd: string, folders: string[]): Promise<Cruise> {
  const out = await run(path.join(BIN, "depcruise"), [...folders, "--config", path.join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json"], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
  );
  return JSON.parse(out.stdout) as Cruise;
}

/** Cycles in the graph of top-level folders (each as the folders on it), by depth-first search. */
function folderCycles(result: Cruise): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const m of result.modules) {
    const from = m.source.split("/")[0] ?? "";
    for (const d of m.dependencies) {
      if (d.coreModule || d.couldNotResolve || d.resolved.startsWith("node_modules/") || !d.resolved.includes("/")) continue;
      const to = d.resolved.split("/")[0] ?? "";
      if (to !== from) edges.set(from, new Set([...(edges.get(from) ?? []), to]));
    }
  }
  const cycles: string[][] = [];
  const visit = (node: string, trail: string[]): void => {
    if (trail.includes(node)) {
      cycles.push([...trail.slice(trail.indexOf(node)), node]);
      return;
    }
    for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
  };
  for (const start of edges.keys()) visit(start, []);
  return cycles;
}

describe("architecture", () => {
  it("keeps the layers, and no module or folder is part of an import cycle", async () => {
    // When the product code is cruised with the project's rules
    const result = await cruise(ROOT, PRODUCT);
    // Then nothing imports a higher layer or forms a cycle between files
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    // And the top-level folders import each other without a cycle
    expect(folderCycles(result)).toEqual([]);
  }, 120_000);

  it("fails when a rule is broken: a lower layer importing a higher one, and a cycle", async () => {
    // Given a tree with the domain importing the store, and two nodes importing each other
    const dir = await mkdtemp(path.join(os.tmpdir(), "suture-layers-"));
    try {
      await mkdir(path.join(dir, "domain"));
      await mkdir(path.join(dir, "store"));
      await mkdir(path.join(dir, "nodes"));
      await writeFile(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }));
      await writeFile(path.join(dir, "store", "incidents.ts"), "export const table = 'incidents';\n");
      await writeFile(path.join(dir, "domain", "model.ts"), 'import { table } from "../store/incidents.js";\nexport const name = table;\n');
      await writeFile(path.join(dir, "nodes", "a.ts"), 'import { b } from "./b.js";\nexport const a = () => b;\n');
      await writeFile(path.join(dir, "nodes", "b.ts"), 'import { a } from "./a.js";\nexport const b = () => a;\n');
      // When it is cruised with the same rules
      const result = await cruise(dir, ["domain", "store", "nodes"]);
      // Then both are reported
      const broken = result.summary.violations.map((v) => v.rule.name);
      expect(broken).toContain("layer-domain");
      expect(broken).toContain("no-circular");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("fails lint when SQL is written outside store/", async () => {
    // Given the project's lint rules, with type information off so a file that does not exist can be linted
    const dir = await mkdtemp(path.join(os.tmpdir(), "suture-lint-"));
    try {
      const config = path.join(dir, "eslint.config.mjs");
      await writeFile(
        config,
        `import base from ${JSON.stringify(pathToFileURL(path.join(ROOT, "eslint.config.js")).href)};\nimport tseslint from ${JSON.stringify(pathToFileURL(createRequire(path.join(ROOT, "package.json")).resolve("typescript-eslint")).href)};\nexport default [...base, { files: ["**/*.ts"], ...tseslint.configs.disableTypeChecked, languageOptions: { parserOptions: { projectService: false, project: null } } }];\n`,
      );
      const lint = (file: string, code: string): Promise<{ stdout: string; code: number }> =>
        new Promise((resolve) => {
          const child = execFile(path.join(BIN, "eslint"), ["--config", config, "--stdin", "--stdin-filename", path.join(ROOT, file)], { cwd: ROOT }, (error, stdout) =>
            resolve({ stdout, code: error === null ? 0 : Number((error as { code?: number }).code ?? 1) }),
          );
          child.stdin?.end(code);
        });
      const statement = 'export const q = "SELECT id FROM incidents WHERE id = $1";\n';
      // When a node and a store module both hold the same statement
      const inNode = await lint("nodes/probe.ts", statement);
      const inStore = await lint("store/probe.ts", statement);
      // Then only the node fails, with the rule's message
      expect(inNode.code).toBe(1);
      expect(inNode.stdout).toContain("SQL belongs in store/");
      expect(inStore.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("has no top-level folder holding a single file, and no two differing only by a plural", async () => {
    const entries = await readdir(ROOT, { withFileTypes: true });
    const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules" && e.name !== "coverage").map((e) => e.name);
    const files = async (dir: string): Promise<number> => {
      let n = 0;
      for (const e of await readdir(dir, { withFileTypes: true })) n += e.isDirectory() ? await files(path.join(dir, e.name)) : 1;
      return n;
    };
    const single = [];
    for (const f of folders) if ((await stat(path.join(ROOT, f))).isDirectory() && (await files(path.join(ROOT, f))) <= 1) single.push(f);
    expect(single).toEqual([]);
    expect(folders.filter((f) => folders.includes(`${f}s`) || folders.includes(`${f}es`))).toEqual([]);
    // And the design card's folders are at the top
    expect(folders).toEqual(expect.arrayContaining(["graphs", "nodes", "tools", "memory", "migrations", "test"]));
  });
});
