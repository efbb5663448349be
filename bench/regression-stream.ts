/**
 * The regression watch on synthetic two-week streams built from the labelled Loghub-2.0 2k lines
 * (issue 18, "Done when"): per system, a week of warm-up then a week of deploys at random times,
 * half of them injecting a regression. The detector (regression/detect.ts on a rolling 7-day
 * regression/baseline.ts) looks every simulated minute for 60 minutes after each deploy, on
 * counts of signatures that `signaturesOf` (through regression/vocabulary.ts) gives the generated
 * lines; the labels only drive the generator and never reach the detector. A flat-rate baseline
 * (no time-of-day profile, same test) runs on the same streams for comparison.
 *
 * The stream, per system (all drawn from one seeded PRNG, so a run is reproducible):
 * - volume V ~ U[15, 45] lines/minute; each line's template drawn by its frequency in the 2k set,
 *   the line itself uniformly among that template's lines; 15 % of the templates (at least one)
 *   are held out of the background;
 * - rate at time t = V · (1 + A·cos(2π(h − peak)/24)) · (weekend ? W : 1) · D(day), with peak hour
 *   ~ U[10, 16], A ~ U[0.4, 0.8], W ~ U[0.3, 0.7] and a day-to-day factor D = exp(N(0, 0.1));
 *   counts per minute are Poisson;
 * - deploys at uniform random minutes of the second week; half inject, from an onset U[0, 10]
 *   minutes after the deploy until the watch ends, either a new template (a held-out one of the
 *   system, or one of another system, half each) at U[1, 5] lines/minute, or an existing
 *   background template (chosen uniformly) at m ~ U[3, 6] times its rate, the extra being at
 *   least 1 line/minute ("errors that were rare become common");
 * - injected regressions never enter a later deploy's baseline (as if rolled back and dropped).
 *
 * Scoring: a regression is detected when a candidate names a signature its injected lines carry,
 * within 15 simulated minutes of onset; a clean deploy with any candidate during its 60-minute
 * watch is a false regression. Exits 1 when a target is missed (≥ 95 % detected, ≤ 1 false per
 * 100 clean deploys).
 *
 *   npm run bench:regressions       (SEED=…, DEPLOYS=… per system, LOGHUB_DIR=…)
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { csvRecords } from "../evidence/grouping-accuracy.js";
import { Baseline } from "../regression/baseline.js";
import { detectRegression, type DetectionConfigInput } from "../regression/detect.js";
import { SignatureVocabulary } from "../regression/vocabulary.js";
import { LOGHUB_DIR, DRAIN_GA } from "./loghub-grouping.js";

const MINUTE = 60_000;
const DAY_MINUTES = 1440;
/** Two weeks from a Monday, 00:00 UTC: the first warms the baseline, deploys land in the second. */
const STREAM_START = Date.UTC(2026, 10, 2);
const STREAM_MINUTES = 14 * DAY_MINUTES;
const WATCH_MINUTES = 60;
const DETECT_WITHIN = 15;

/** Targets from issue 18. */
export const TARGET_DETECTION = 0.95;
export const TARGET_FALSE_PER_100 = 1;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson draw by inversion (λ up to a few hundred, as the stream needs). */
function poisson(random: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  let k = 0;
  let p = Math.exp(-lambda);
  let cumulative = p;
  const u = random();
  while (u > cumulative && k < 10_000) {
    k += 1;
    p *= lambda / k;
    cumulative += p;
  }
  return k;
}

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const uniform = (random: () => number, lo: number, hi: number): number => lo + (hi - lo) * random();

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

/** A Fisher–Yates shuffled copy. */
function shuffle<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A system's labelled lines, grouped by true template (generator only). */
interface SystemLines {
  system: string;
  templates: Array<{ template: string; lines: string[] }>;
}

function readSystem(system: string, dir: string): SystemLines {
  const file = path.join(dir, system, `${system}_2k.log_structured_corrected.csv`);
  const byTemplate = new Map<string, string[]>();
  for (const r of csvRecords(readFileSync(file, "utf8"), ["Content", "EventTemplate"])) {
    const template = r["EventTemplate"] ?? "";
    byTemplate.set(template, [...(byTemplate.get(template) ?? []), r["Content"] ?? ""]);
  }
  return { system, templates: [...byTemplate.entries()].map(([template, lines]) => ({ template, lines })).sort((a, b) => a.template.localeCompare(b.template)) };
}

/** Which detector: the watch's daily-profile baseline, or the flat comparison. */
type DetectorName = "suture" | "flat";
const DETECTORS: DetectorName[] = ["suture", "flat"];

/** The kind of regression a deploy injects. */
type Injection = "none" | "new-held-out" | "new-foreign" | "existing";

/** One deploy's outcome for one detector. */
export interface DeployOutcome {
  system: string;
  injection: Injection;
  detector: DetectorName;
  /** Minutes from onset to the first candidate naming an injected signature, if any in the watch. */
  minutesToDetect?: number;
  /** Whether a candidate named a signature no injected line carries. */
  falseFlag: boolean;
}

/** Options of a run. */
export interface StreamOptions {
  seed: number;
  deploysPerSystem: number;
  systems: string[];
  dir: string;
  config: DetectionConfigInput;
  /** Overrides for the flat comparison (by default no traffic correction: the naive detector). */
  flatConfig: DetectionConfigInput;
}

/** The default run: every system, 100 deploys each, seed 18. */
export const DEFAULT_OPTIONS: StreamOptions = { seed: 18, deploysPerSystem: 100, systems: Object.keys(DRAIN_GA), dir: LOGHUB_DIR, config: {}, flatConfig: { maxTrafficScale: 1 } };

interface Deploy {
  minute: number;
  injection: Injection;
  lines: string[];
  onset: number;
  /** Extra lines per minute at each minute of the watch, from the deploy. */
  rates: number[];
}

/** Runs one system's stream and its deploys; returns each deploy's outcome per detector. */
export function runSystem(system: string, all: Map<string, SystemLines>, options: StreamOptions, random: () => number): DeployOutcome[] {
  const data = all.get(system);
  if (data === undefined) throw new Error(`no Loghub lines for ${system}`);
  const heldOutCount = Math.max(1, Math.round(0.15 * data.templates.length));
  const shuffled = shuffle(random, data.templates);
  const heldOut = shuffled.slice(0, heldOutCount);
  const background = shuffled.slice(heldOutCount).sort((a, b) => a.template.localeCompare(b.template));
  const totalLines = background.reduce((s, t) => s + t.lines.length, 0);
  const cumulative: number[] = [];
  background.reduce((s, t) => (cumulative.push(s + t.lines.length / totalLines), s + t.lines.length / totalLines), 0);

  // Signatures: the background's lines templated once; each line's signature index.
  const vocabulary = new SignatureVocabulary(background.flatMap((t) => t.lines));
  const signatureIds = new Map<string, number>();
  const idOf = (signature: string): number => {
    let id = signatureIds.get(signature);
    if (id === undefined) {
      id = signatureIds.size;
      signatureIds.set(signature, id);
    }
    return id;
  };
  const lineSignature = background.map((t) => vocabulary.signaturesOf(t.lines).map(idOf));

  // The profile.
  const volume = uniform(random, 15, 45);
  const peak = uniform(random, 10, 16);
  const amplitude = uniform(random, 0.4, 0.8);
  const weekend = uniform(random, 0.3, 0.7);
  const dayFactor = Array.from({ length: 14 }, () => Math.exp(0.1 * normal(random)));
  const rateAt = (minute: number): number => {
    const day = Math.floor(minute / DAY_MINUTES);
    const hour = (minute % DAY_MINUTES) / 60;
    const isWeekend = day % 7 >= 5; // the stream starts on a Monday
    return volume * (1 + amplitude * Math.cos((2 * Math.PI * (hour - peak)) / 24)) * (isWeekend ? weekend : 1) * (dayFactor[day] ?? 1);
  };

  // Background counts per minute per signature.
  const perMinute = new Map<number, Uint16Array>();
  const countsOf = (id: number): Uint16Array => {
    let series = perMinute.get(id);
    if (series === undefined) {
      series = new Uint16Array(STREAM_MINUTES);
      perMinute.set(id, series);
    }
    return series;
  };
  for (let m = 0; m < STREAM_MINUTES; m += 1) {
    const n = poisson(random, rateAt(m));
    for (let e = 0; e < n; e += 1) {
      const u = random();
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] ?? 1) < u) lo = mid + 1;
        else hi = mid;
      }
      const template = background[lo];
      const ids = lineSignature[lo];
      if (template === undefined || ids === undefined) continue;
      const id = ids[Math.floor(random() * ids.length)] ?? 0;
      const series = countsOf(id);
      series[m] = (series[m] ?? 0) + 1;
    }
  }

  // Deploys in the second week, half injecting.
  const others = [...all.values()].filter((s) => s.system !== system);
  const deploys: Deploy[] = [];
  for (let d = 0; d < options.deploysPerSystem; d += 1) {
    const minute = 7 * DAY_MINUTES + Math.floor(random() * (7 * DAY_MINUTES - WATCH_MINUTES));
    let injection: Injection = "none";
    let lines: string[] = [];
    const rates = new Array<number>(WATCH_MINUTES).fill(0);
    const onset = Math.floor(uniform(random, 0, 10));
    if (d % 2 === 0) {
      if (random() < 0.5) {
        const foreign = random() < 0.5;
        injection = foreign ? "new-foreign" : "new-held-out";
        lines = pick(random, foreign ? pick(random, others).templates : heldOut).lines;
        rates.fill(uniform(random, 1, 5), onset);
      } else {
        injection = "existing";
        const index = Math.floor(random() * background.length);
        const chosen = background[index];
        if (chosen === undefined) throw new Error("no background template");
        lines = chosen.lines;
        const share = chosen.lines.length / totalLines;
        const factor = uniform(random, 3, 6);
        for (let k = onset; k < WATCH_MINUTES; k += 1) rates[k] = Math.max((factor - 1) * rateAt(minute + k) * share, 1);
      }
    }
    deploys.push({ minute, injection, lines, onset, rates });
  }
  deploys.sort((a, b) => a.minute - b.minute);

  const baselines: Record<DetectorName, Baseline> = {
    suture: new Baseline(system, { profile: "daily" }),
    flat: new Baseline(system, { profile: "flat" }),
  };
  const names = [...signatureIds.keys()];
  let observedUpTo = 0;
  const observeUntil = (minute: number): void => {
    // Whole 5-minute buckets that end by `minute`.
    for (; observedUpTo + 5 <= minute; observedUpTo += 5) {
      const counts = new Map<string, number>();
      for (const [id, series] of perMinute) {
        let n = 0;
        for (let m = observedUpTo; m < observedUpTo + 5; m += 1) n += series[m] ?? 0;
        if (n > 0) counts.set(names[id] ?? "", n);
      }
      for (const baseline of Object.values(baselines)) baseline.observe(STREAM_START + observedUpTo * MINUTE, counts);
    }
  };

  const outcomes: DeployOutcome[] = [];
  for (const [i, deploy] of deploys.entries()) {
    observeUntil(deploy.minute);
    const marker = { workload: system, version: `v${i + 1}`, at: STREAM_START + deploy.minute * MINUTE };
    const cumulativeCounts = new Map<string, number>();
    const injected = new Set<string>();
    const first: Partial<Record<DetectorName, number>> = {};
    const falseFlag: Record<DetectorName, boolean> = { suture: false, flat: false };
    for (let k = 0; k < WATCH_MINUTES; k += 1) {
      for (const [id, series] of perMinute) {
        const n = series[deploy.minute + k] ?? 0;
        if (n > 0) {
          const name = names[id] ?? "";
          cumulativeCounts.set(name, (cumulativeCounts.get(name) ?? 0) + n);
        }
      }
      const extra = poisson(random, deploy.rates[k] ?? 0);
      if (extra > 0) {
        const emitted = Array.from({ length: extra }, () => pick(random, deploy.lines));
        for (const signature of vocabulary.signaturesOf(emitted)) {
          injected.add(signature);
          cumulativeCounts.set(signature, (cumulativeCounts.get(signature) ?? 0) + 1);
        }
      }
      const observed = { from: marker.at, to: marker.at + (k + 1) * MINUTE, counts: Object.fromEntries(cumulativeCounts) };
      for (const detector of DETECTORS) {
        const result = detectRegression(marker, baselines[detector], observed, detector === "suture" ? options.config : { ...options.config, ...options.flatConfig });
        for (const test of result.candidate?.signatures ?? []) {
          if (injected.has(test.signature)) first[detector] ??= k + 1 - deploy.onset;
          else falseFlag[detector] = true;
        }
      }
    }
    for (const detector of DETECTORS) {
      const minutes = first[detector];
      outcomes.push({ system, injection: deploy.injection, detector, ...(minutes !== undefined ? { minutesToDetect: minutes } : {}), falseFlag: falseFlag[detector] });
    }
  }
  return outcomes;
}

/** Runs every system of `options`; each system gets its own PRNG stream derived from the seed. */
export function runStreamBenchmark(options: StreamOptions = DEFAULT_OPTIONS): DeployOutcome[] {
  const all = new Map(Object.keys(DRAIN_GA).map((s) => [s, readSystem(s, options.dir)]));
  return options.systems.flatMap((system, i) => runSystem(system, all, options, prng(options.seed * 1000 + i + 1)));
}

/** The figures of a set of outcomes for one detector. */
export interface Score {
  regressions: number;
  clean: number;
  /** Share of regressions detected within 15 minutes of onset. */
  detection: number;
  /** Median minutes from onset to detection, over the regressions detected in the watch. */
  medianMinutes: number;
  /** Clean deploys with a candidate, per 100 clean deploys. */
  falsePer100: number;
  /** Regression deploys where a candidate also named an unrelated signature, per 100. */
  strayPer100: number;
}

/** Scores outcomes (already filtered to one detector). */
export function score(outcomes: DeployOutcome[]): Score {
  const regressions = outcomes.filter((o) => o.injection !== "none");
  const clean = outcomes.filter((o) => o.injection === "none");
  const times = regressions
    .map((o) => o.minutesToDetect)
    .filter((m): m is number => m !== undefined)
    .sort((a, b) => a - b);
  const within = times.filter((m) => m <= DETECT_WITHIN).length;
  const median = times.length === 0 ? NaN : times.length % 2 === 1 ? (times[(times.length - 1) / 2] ?? NaN) : ((times[times.length / 2 - 1] ?? 0) + (times[times.length / 2] ?? 0)) / 2;
  return {
    regressions: regressions.length,
    clean: clean.length,
    detection: regressions.length === 0 ? NaN : within / regressions.length,
    medianMinutes: median,
    falsePer100: clean.length === 0 ? NaN : (100 * clean.filter((o) => o.falseFlag).length) / clean.length,
    strayPer100: regressions.length === 0 ? NaN : (100 * regressions.filter((o) => o.falseFlag).length) / regressions.length,
  };
}

const pct = (x: number): string => (Number.isNaN(x) ? "–" : `${(100 * x).toFixed(1)} %`);
const num = (x: number, digits = 1): string => (Number.isNaN(x) ? "–" : x.toFixed(digits));
const ratio = (a: number, b: number): string => (b === 0 ? (a === 0 ? "=" : "∞") : `${(a / b).toFixed(2)}×`);

/** The table: per system and overall, the watch beside the flat baseline, with ratios; then per injection kind. */
export function formatReport(outcomes: DeployOutcome[]): string {
  const groups: Array<[string, (o: DeployOutcome) => boolean]> = [
    ...[...new Set(outcomes.map((o) => o.system))].map((s): [string, (o: DeployOutcome) => boolean] => [s, (o) => o.system === s]),
    ["overall", () => true],
  ];
  const header = `${"system".padEnd(10)} ${"reg/clean".padStart(9)} │ ${"detected≤15m".padStart(12)} ${"median".padStart(6)} ${"false/100".padStart(9)} ${"stray/100".padStart(9)} │ ${"flat: det".padStart(9)} ${"median".padStart(6)} ${"false/100".padStart(9)} │ ${"det ratio".padStart(9)} ${"false ratio".padStart(11)}`;
  const rows = groups.map(([name, keep]) => {
    const s = score(outcomes.filter((o) => keep(o) && o.detector === "suture"));
    const f = score(outcomes.filter((o) => keep(o) && o.detector === "flat"));
    return `${name.padEnd(10)} ${`${s.regressions}/${s.clean}`.padStart(9)} │ ${pct(s.detection).padStart(12)} ${`${num(s.medianMinutes)}m`.padStart(6)} ${num(s.falsePer100).padStart(9)} ${num(s.strayPer100).padStart(9)} │ ${pct(f.detection).padStart(9)} ${`${num(f.medianMinutes)}m`.padStart(6)} ${num(f.falsePer100).padStart(9)} │ ${ratio(s.detection, f.detection).padStart(9)} ${ratio(s.falsePer100, f.falsePer100).padStart(11)}`;
  });
  const kinds: Injection[] = ["new-held-out", "new-foreign", "existing"];
  const kindRows = kinds.map((kind) => {
    const s = score(outcomes.filter((o) => o.injection === kind && o.detector === "suture"));
    const f = score(outcomes.filter((o) => o.injection === kind && o.detector === "flat"));
    return `${kind.padEnd(13)} ${String(s.regressions).padStart(4)} │ ${pct(s.detection).padStart(12)} ${`${num(s.medianMinutes)}m`.padStart(6)} │ ${pct(f.detection).padStart(9)} ${`${num(f.medianMinutes)}m`.padStart(6)}`;
  });
  return [
    header,
    ...rows,
    "",
    `${"injection".padEnd(13)} ${"n".padStart(4)} │ ${"detected≤15m".padStart(12)} ${"median".padStart(6)} │ ${"flat: det".padStart(9)} ${"median".padStart(6)}`,
    ...kindRows,
  ].join("\n");
}

function main(): void {
  const seed = Number(process.env["SEED"] ?? DEFAULT_OPTIONS.seed);
  const deploysPerSystem = Number(process.env["DEPLOYS"] ?? DEFAULT_OPTIONS.deploysPerSystem);
  // FLAT_TRAFFIC_SCALE=1.5 gives the flat comparison the traffic correction too (an ablation).
  const flatConfig = { maxTrafficScale: Number(process.env["FLAT_TRAFFIC_SCALE"] ?? 1) };
  const started = performance.now();
  const outcomes = runStreamBenchmark({ ...DEFAULT_OPTIONS, seed, deploysPerSystem, flatConfig });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `Regression watch on synthetic two-week Loghub streams (seed ${seed}, ${deploysPerSystem} deploys per system, half injecting; 60-minute watch, looked at every minute; q ≤ 0.01, ≥ 5 occurrences, ≥ 2× the expected rate)\n` +
      `suture = hour-of-day × weekday/weekend baseline with today's traffic correction; flat = the same test on a flat-rate baseline${flatConfig.maxTrafficScale > 1 ? ` with the traffic correction (≤ ${flatConfig.maxTrafficScale}×)` : ", no traffic correction"}.\n` +
      `stray = regression deploys where an unrelated signature was flagged too (per 100). Ratios: suture ÷ flat.\n`,
  );
  console.log(formatReport(outcomes));
  const overall = score(outcomes.filter((o) => o.detector === "suture"));
  console.log(`\n${seconds.toFixed(1)} s. Targets: ≥ ${100 * TARGET_DETECTION} % detected within ${DETECT_WITHIN} min, ≤ ${TARGET_FALSE_PER_100} false per 100 clean deploys.`);
  const missed: string[] = [];
  if (!(overall.detection >= TARGET_DETECTION)) missed.push(`detection ${pct(overall.detection)} is below ${100 * TARGET_DETECTION} %`);
  if (!(overall.falsePer100 <= TARGET_FALSE_PER_100)) missed.push(`${num(overall.falsePer100)} false regressions per 100 clean deploys is above ${TARGET_FALSE_PER_100}`);
  if (missed.length > 0) {
    console.error(`target missed: ${missed.join("; ")}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
