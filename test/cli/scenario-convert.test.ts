import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseScenario } from "../../app/scenario.js";
import { ROOT, runCli } from "../helpers/cli.js";

const SCENARIO = path.join(ROOT, "data", "scenarios", "bad-feature-flag.yaml");

describe("suture scenario convert (the command)", () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-convert-cli-"));
    env = { SUTURE_HOME: path.join(dir, "home"), DATABASE_URL: "" };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("Given a v1 scenario, When it is converted, Then stdout is a scenario in the manifest form; --out writes a new file and refuses an existing one", async () => {
    const printed = await runCli(["scenario", "convert", SCENARIO], env);
    expect(printed.code, printed.stderr).toBe(0);
    const scenario = parseScenario(parse(printed.stdout), "stdout");
    expect(scenario.environment.services).toEqual([]);
    expect(scenario.environment.manifests).toMatch(/kind: Deployment\n {2}metadata:|kind: Deployment\nmetadata:/);
    expect(scenario.environment.manifests).toMatch(/name: pricing-flags/);

    const out = path.join(dir, "converted.yaml");
    const written = await runCli(["scenario", "convert", SCENARIO, "--out", out], env);
    expect(written.code, written.stderr).toBe(0);
    expect(await readFile(out, "utf8")).toBe(printed.stdout);
    await writeFile(out, "keep me");
    const refused = await runCli(["scenario", "convert", SCENARIO, "--out", out], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--out .*converted\.yaml: the file exists; choose a new path/);
    expect(await readFile(out, "utf8")).toBe("keep me");
  });

  it("Given no file, When convert runs, Then it prints the usage", async () => {
    const result = await runCli(["scenario", "convert"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/usage: suture scenario convert <v1 scenario file> \[--out <file>\]/);
  });
});
