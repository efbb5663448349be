import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Registry, collectDefaultMetrics } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ROOT } from "../helpers/cli.js";
import { onPath, runTool } from "../helpers/tools.js";

const run = runTool;

const DASHBOARD = path.join(ROOT, "deploy", "grafana", "suture-health.json");
const METRICS_SOURCE = path.join(ROOT, "interfaces", "metrics.ts");

/** Self-health metrics the dashboard must chart: recoveries in force, adapter and model call outcomes. */
const SELF_HEALTH_METRICS = ["suture_self_rate", "suture_self_anomalous", "suture_self_recoveries_in_force", "suture_adapter_calls_total", "suture_model_calls_total"];

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

interface Panel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string }> };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
/** Every panel, with those inside a collapsed row. */
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== "row");
const targets = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? `#${p.id}`, expr: t.expr ?? "" })));
const exprs = [...new Set(targets.map((t) => t.expr))];

/** Grafana's interval variables, as a duration Prometheus itself would accept in their place. */
const GRAFANA_INTERVALS: Record<string, string> = { $__rate_interval: "5m", $__interval: "1m", $__range: "1h" };
const withIntervals = (expr: string): string => expr.replace(/\$__rate_interval|\$__interval|\$__range/g, (v) => GRAFANA_INTERVALS[v]!);

/** The `suture_` identifiers in a PromQL expression (string literals, i.e. label values, left out). */
const metricNamesIn = (expr: string): string[] => [...expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/\bsuture_[A-Za-z0-9_:]*/g)].map((m) => m[0]);

/**
 * What `/metrics` exports, read from interfaces/metrics.ts without running it: every string
 * literal starting with `suture_`, the histograms among them (`new Histogram({ name: ... })`, whose
 * series end in _bucket, _sum and _count), and the prom-client default metrics under the prefix
 * `collectDefaultMetrics` is given (enumerated in a throwaway registry, not scraped).
 */
async function exportedMetrics(): Promise<{ names: Set<string>; histograms: Set<string>; prefixes: string[] }> {
  const source = readFileSync(METRICS_SOURCE, "utf8");
  const literals = [...source.matchAll(/["'`](suture_[a-z0-9_]*)["'`]/g)].map((m) => m[1]!);
  const prefixes = [...source.matchAll(/collectDefaultMetrics\(\s*\{[^}]*\bprefix:\s*["'`](suture_[a-z0-9_]*)["'`]/g)].map((m) => m[1]!);
  const names = new Set(literals.filter((n) => !prefixes.includes(n)));
  const histograms = new Set([...source.matchAll(/new Histogram\(\s*\{\s*name:\s*["'`](suture_[a-z0-9_]+)["'`]/g)].map((m) => m[1]!));
  for (const prefix of prefixes) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix });
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (metric.type.toString() === "histogram") histograms.add(metric.name);
    }
  }
  return { names, histograms, prefixes };
}

/** Read once for the whole file. */
const exported = exportedMetrics();

/** A series name as its metric is declared: `x_bucket`, `x_sum` and `x_count` of a histogram `x` are `x`. */
const declaredName = (series: string, histograms: Set<string>): string => {
  const base = series.replace(/_(bucket|sum|count)$/, "");
  return base !== series && histograms.has(base) ? base : series;
};

describe("deploy/grafana/suture-health.json: the dashboard model", () => {
  it("Given the dashboard Then it is uid suture-health, titled 'Suture — own health', schemaVersion 39, with a Prometheus datasource variable", () => {
    expect(dashboard.uid).toBe("suture-health");
    expect(dashboard.title).toBe("Suture — own health");
    expect(dashboard.schemaVersion).toBe(39);
    const variable = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(variable).toMatchObject({ type: "datasource", query: "prometheus" });
  });

  it("Given every panel Then its id is unique and it has a gridPos inside Grafana's 24 columns", () => {
    const ids = panels.map((p) => p.id);
    for (const id of ids) expect(typeof id).toBe("number");
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos, p.title).toBeDefined();
      const { h, w, x, y } = p.gridPos!;
      expect(h > 0 && w > 0 && x >= 0 && y >= 0 && x + w <= 24, `${p.title}: ${JSON.stringify(p.gridPos)}`).toBe(true);
    }
  });

  it("Given the expanded panels Then no two overlap (Grafana would move one)", () => {
    const placed = dashboard.panels.filter((p) => p.gridPos !== undefined);
    for (const [i, a] of placed.entries()) {
      for (const b of placed.slice(i + 1)) {
        const [g, k] = [a.gridPos!, b.gridPos!];
        const overlap = g.x < k.x + k.w && k.x < g.x + g.w && g.y < k.y + k.h && k.y < g.y + g.h;
        expect(overlap, `${a.title} and ${b.title}`).toBe(false);
      }
    }
  });

  it.each(queryPanels.map((p) => [p.title ?? `#${p.id}`, p] as const))("Given panel %s Then it queries ${datasource} with at least one PromQL target, each with its own refId", (_title, panel) => {
    expect(panel.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
    expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
    for (const target of panel.targets ?? []) {
      expect(target.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(target.expr?.trim().length ?? 0).toBeGreaterThan(0);
    }
    const refIds = (panel.targets ?? []).map((t) => t.refId);
    expect(new Set(refIds).size).toBe(refIds.length);
  });

  it("Given every expr Then the only variables in it are Grafana's interval variables (anything else is not PromQL once Grafana is gone)", () => {
    for (const { panel, expr } of targets) expect(withIntervals(expr), panel).not.toContain("$");
  });
});

describe("deploy/grafana/suture-health.json: every metric it charts is exported", () => {
  it("Given interfaces/metrics.ts When its metric names are read from the source Then the metrics the dashboard is built on are found (the extraction still matches how names are declared)", async () => {
    const { names, histograms, prefixes } = await exported;
    for (const name of [
      "suture_self_rate",
      "suture_self_anomalous",
      "suture_incidents",
      "suture_actions",
      "suture_queue_jobs",
      "suture_node_duration_seconds",
      "suture_model_tokens",
      "suture_model_cost_usd",
      "suture_jobs_total",
      "suture_approvals_pending",
    ]) {
      expect(names, name).toContain(name);
    }
    expect(histograms).toContain("suture_node_duration_seconds");
    expect(prefixes).toEqual(["suture_process_"]);
    expect(names).toContain("suture_process_process_resident_memory_bytes");
  });

  it.each(exprs.map((e) => [e] as const))("Given expr %s Then each suture_ metric in it is exported by /metrics", async (expr) => {
    const { names, histograms } = await exported;
    const used = metricNamesIn(expr);
    expect(used.length, "an expr that reads no suture_ metric").toBeGreaterThan(0);
    for (const series of used) {
      const name = declaredName(series, histograms);
      expect(names.has(name), `${series} (as ${name}) is not exported by interfaces/metrics.ts`).toBe(true);
    }
  });

  it("Given the whole dashboard Then it charts every self-health metric", () => {
    const used = new Set(exprs.flatMap(metricNamesIn));
    for (const name of SELF_HEALTH_METRICS) expect(used, name).toContain(name);
  });
});

const promtool = onPath("promtool");

describe.skipIf(promtool === undefined)(`promtool on the dashboard's PromQL${promtool === undefined ? " (skipped: promtool is not on PATH)" : ""}`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-grafana-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("Given every distinct expr as a recording rule When `promtool check rules` runs Then Prometheus parses each one", async () => {
    const rules = exprs.map((expr, i) => ({ record: `suture_grafana:expr_${i}`, expr: withIntervals(expr) }));
    const file = path.join(dir, "dashboard-exprs.yaml");
    await writeFile(file, stringify({ groups: [{ name: "suture-health-dashboard", rules }] }));
    const { code, output } = await run(promtool!, ["check", "rules", file]);
    expect(code, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
