import { z } from "zod";
import { DATA_DIR } from "../../domain/data.js";
import { InvalidFileError, loadYamlFile, parseYaml, type LoadedYaml } from "../../domain/yaml.js";
import { METRIC_NAMES, type MetricName } from "../adapter.js";
import type { WorkloadRef } from "../kubernetes/workload-ref.js";
import path from "node:path";

/** The shipped signal templates (kube-prometheus and common application metric names). */
export const DEFAULT_SIGNALS_FILE = path.join(DATA_DIR, "prometheus", "signals.yaml");

/** Variables a signal template may name; every value is escaped for a PromQL string literal. */
export const SIGNAL_VARIABLES = ["namespace", "workload", "kind", "pod_regex", "pvc_regex", "window", "consumer_group"] as const;

/** Variables the PVC regex may name; every value is escaped as a regular expression. */
export const PVC_REGEX_VARIABLES = ["namespace", "workload", "kind"] as const;

/** `{{ name }}` in a template. */
const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** A PromQL range duration (`30s`, `2m`, `1h30m`). */
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

const KIND_KEYS = ["deployment", "statefulset", "daemonset"] as const;

function variablesIn(text: string): string[] {
  return [...text.matchAll(VARIABLE)].map((m) => m[1] ?? "");
}

const TemplateText = z.string().trim().min(1, "expected a PromQL expression");

/** One template per workload kind, for signals whose metric names differ by kind (kube-state-metrics). */
const PerKind = z
  .object({ deployment: TemplateText, statefulset: TemplateText, daemonset: TemplateText })
  .partial()
  .strict()
  .refine((t) => Object.keys(t).length > 0, "expected a template for at least one of deployment, statefulset, daemonset");

/** A signal's PromQL: one template, or one per kind. */
const SignalTemplate = z.union([TemplateText, PerKind], { error: "expected a PromQL template, or a mapping of deployment/statefulset/daemonset to templates" });
/** A signal template as written. */
export type SignalTemplate = z.infer<typeof SignalTemplate>;

const SignalMap = z.object(Object.fromEntries(METRIC_NAMES.map((m) => [m, SignalTemplate.optional()])) as Record<MetricName, z.ZodOptional<typeof SignalTemplate>>).strict();

type SignalMapValue = z.infer<typeof SignalMap>;

const PvcRegex = z.string().min(1);
const Window = z.string().regex(DURATION, "expected a PromQL duration such as 2m or 30s");

/** Per-namespace and/or per-workload settings; the most specific matching entry wins, field by field. */
const OverrideSchema = z
  .object({
    namespace: z.string().regex(NAME, "expected a namespace name").optional(),
    /** A workload name (any kind). */
    workload: z.string().regex(NAME, "expected a workload name").optional(),
    signals: SignalMap.optional(),
    /** The Kafka consumer group the workload reads (default: its name). */
    consumerGroup: z.string().min(1).optional(),
    window: Window.optional(),
    pvcRegex: PvcRegex.optional(),
    /** Services the workload calls (Prometheus has no standard metric for it). */
    dependencies: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((o) => o.namespace !== undefined || o.workload !== undefined, "expected namespace, workload or both: an override with neither would apply everywhere (edit the defaults instead)");

/** A signal-templates file (`SUTURE_PROMETHEUS_SIGNALS`). */
export const SignalsFileSchema = z
  .object({
    /** The rate window `{{window}}` stands for. */
    window: Window.default("2m"),
    /** PVCs of a workload (`{{pvc_regex}}`, disks()); by default a claim with the workload's name as a dash-separated part. */
    pvcRegex: PvcRegex.default("(.+-)?{{workload}}(-.+)?"),
    signals: SignalMap.superRefine((signals, ctx) => {
      for (const metric of METRIC_NAMES) {
        const t = signals[metric];
        if (t === undefined) ctx.addIssue({ code: "custom", path: [metric], message: `expected a template for ${metric} (the defaults must cover every signal)` });
        else if (typeof t !== "string") {
          for (const kind of KIND_KEYS) if (t[kind] === undefined) ctx.addIssue({ code: "custom", path: [metric], message: `expected a ${kind} template (the defaults must cover every kind)` });
        }
      }
    }),
    overrides: z.array(OverrideSchema).default([]),
  })
  .strict()
  .superRefine((file, ctx) => {
    // Checked here rather than on each string: inside a union zod would only say "invalid input".
    const check = (text: string | undefined, known: readonly string[], path: Array<string | number>): void => {
      for (const variable of variablesIn(text ?? "")) {
        if (!known.includes(variable)) ctx.addIssue({ code: "custom", path, message: `unknown template variable {{${variable}}}; known: ${known.join(", ")}` });
      }
    };
    const checkSignals = (signals: SignalMapValue | undefined, at: Array<string | number>): void => {
      for (const [metric, t] of Object.entries(signals ?? {})) {
        if (typeof t === "string") check(t, SIGNAL_VARIABLES, [...at, metric]);
        else for (const [kind, text] of Object.entries(t ?? {})) check(text, SIGNAL_VARIABLES, [...at, metric, kind]);
      }
    };
    check(file.pvcRegex, PVC_REGEX_VARIABLES, ["pvcRegex"]);
    checkSignals(file.signals, ["signals"]);
    file.overrides.forEach((o, i) => {
      check(o.pvcRegex, PVC_REGEX_VARIABLES, ["overrides", i, "pvcRegex"]);
      checkSignals(o.signals, ["overrides", i, "signals"]);
    });
    const seen = new Map<string, number>();
    file.overrides.forEach((o, i) => {
      const key = `${o.namespace ?? "*"}/${o.workload ?? "*"}`;
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["overrides", i], message: `the same namespace/workload as overrides[${first}]; merge them into one entry` });
      else seen.set(key, i);
    });
  });
/** A validated signal-templates file. */
export type SignalsFile = z.infer<typeof SignalsFileSchema>;
/** One override entry. */
export type SignalOverride = SignalsFile["overrides"][number];

/** Thrown when a signal-templates file is invalid; names the file, line and field. */
export class InvalidSignalsFileError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "prometheus-signals", file);
    this.name = "InvalidSignalsFileError";
  }
}

const SPEC = { kind: "prometheus-signals" as const, schema: SignalsFileSchema, error: InvalidSignalsFileError };

/** Reads and validates a signal-templates file (default: the shipped one). */
export async function loadSignalsFile(file: string = DEFAULT_SIGNALS_FILE): Promise<LoadedYaml<SignalsFile>> {
  return loadYamlFile(file, SPEC);
}

/** Parses signal-templates YAML text (tests, inline configuration). */
export function parseSignalsFile(text: string, name = "signals.yaml"): SignalsFile {
  return parseYaml(text, name, SPEC).data;
}

/** Escapes text for the inside of a double-quoted PromQL string literal (Go string syntax). */
export function escapePromqlString(text: string): string {
  return text.replace(/[\\"\n\r\t]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c] ?? c);
}

/** Escapes the regular-expression metacharacters of text (RE2), so it matches itself literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
}

/** Fills `{{variables}}` in one pass, so a value is never read as a template itself. */
function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(VARIABLE, (whole, name: string) => {
    const value = values[name];
    // The schema refused unknown variables at load time; this guards templates built in code.
    if (value === undefined) throw new InvalidFileError(`template variable {{${name}}} is not one of ${Object.keys(values).join(", ")}`, "prometheus-signals");
    return value;
  });
}

/** The pod-name regex of a workload's pods per kind (what their controllers name them). */
function podRegex(ref: WorkloadRef): string {
  const name = escapeRegex(ref.name);
  if (ref.kind === "StatefulSet") return `${name}-[0-9]+`;
  if (ref.kind === "DaemonSet") return `${name}-[a-z0-9]+`;
  return `${name}-[a-z0-9]+-[a-z0-9]+`;
}

/** Everything about one workload the templates need, resolved from defaults and overrides. */
export interface ResolvedSignals {
  /** The PromQL of each signal with every variable filled and escaped. */
  queries: Record<MetricName, string | undefined>;
  consumerGroup: string;
  /** The PVC-name regex (not string-escaped: for callers that build their own selectors). */
  pvcRegex: string;
  dependencies: string[];
}

/**
 * The signal templates of a file, resolved per workload: an override for the namespace and the
 * workload beats one for the workload alone, which beats one for the namespace alone, which beats
 * the defaults — field by field (and kind by kind for per-kind templates).
 */
export class SignalTemplates {
  constructor(readonly file: SignalsFile) {}

  /** The matching overrides, most specific first. */
  private levels(ref: WorkloadRef): SignalOverride[] {
    const rank = (o: SignalOverride): number => (o.workload !== undefined ? 2 : 0) + (o.namespace !== undefined ? 1 : 0);
    return this.file.overrides.filter((o) => (o.namespace === undefined || o.namespace === ref.namespace) && (o.workload === undefined || o.workload === ref.name)).sort((a, b) => rank(b) - rank(a));
  }

  /** The templates and settings for one workload, with every variable filled. */
  resolve(ref: WorkloadRef): ResolvedSignals {
    const levels = this.levels(ref);
    const pick = <K extends "consumerGroup" | "window" | "pvcRegex" | "dependencies">(key: K): SignalOverride[K] => levels.find((o) => o[key] !== undefined)?.[key];
    const kind = ref.kind.toLowerCase() as (typeof KIND_KEYS)[number];
    const consumerGroup = pick("consumerGroup") ?? ref.name;
    const window = pick("window") ?? this.file.window;
    const pvcRegex = fill(pick("pvcRegex") ?? this.file.pvcRegex, { namespace: escapeRegex(ref.namespace), workload: escapeRegex(ref.name), kind: escapeRegex(kind) });
    const values: Record<(typeof SIGNAL_VARIABLES)[number], string> = {
      namespace: escapePromqlString(ref.namespace),
      workload: escapePromqlString(ref.name),
      kind: escapePromqlString(kind),
      pod_regex: escapePromqlString(podRegex(ref)),
      pvc_regex: escapePromqlString(pvcRegex),
      // Validated as a duration when loaded: it sits in a range selector, not a string.
      window,
      consumer_group: escapePromqlString(consumerGroup),
    };
    const templateFor = (metric: MetricName): string | undefined => {
      for (const signals of [...levels.map((o) => o.signals), this.file.signals]) {
        const t = signals?.[metric];
        if (t === undefined) continue;
        if (typeof t === "string") return t;
        const forKind = t[kind];
        if (forKind !== undefined) return forKind;
      }
      return undefined;
    };
    const queries = Object.fromEntries(
      METRIC_NAMES.map((metric) => {
        const t = templateFor(metric);
        return [metric, t !== undefined ? fill(t, values) : undefined];
      }),
    ) as Record<MetricName, string | undefined>;
    return { queries, consumerGroup, pvcRegex, dependencies: pick("dependencies") ?? [] };
  }
}
