import path from "node:path";
import { z } from "zod";
import { InvalidFileError, loadYamlFile, type FileLimits } from "../domain/yaml.js";
import { withTransaction, type Database } from "../store/database.js";
import { environmentExists, installWorld, routeFor, saveWorldState, worldState, type WorldClockKind } from "../store/environments.js";
import { loadScenario } from "./scenario.js";
import { EnvironmentSpecSchema, workloadsOf, type EnvironmentSpecInput } from "../environments/simulator/spec.js";
import { SimEnvironment } from "../environments/simulator/index.js";

const MINUTE = 60_000;

/** One world of the fleet: a simulated environment built from a scenario's or an inline spec. */
export const FleetWorldSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "expected a lower-case name (letters, digits, dashes)"),
    /** A scenario file (relative to the fleet file) whose environment this world runs. */
    scenario: z.string().min(1).optional(),
    /** An inline environment spec (the `environment:` block of a scenario). */
    environment: z.unknown().optional(),
    /** Puts every service of the world in this namespace (so one scenario can run many times). */
    namespace: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, "expected a Kubernetes namespace name")
      .optional(),
    /** Minutes after t0 to advance the world to before serving (default: the scenario's last firing alert, else 0). */
    advanceToMinutes: z
      .number()
      .min(0)
      .max(24 * 60)
      .optional(),
    /**
     * `simulated` (default): the world keeps its own time, and waiting advances it instantly.
     * `wall`: the world's clock follows the wall clock from when it is installed (a demo fleet
     * in real time): verify's settle waits are real, durable timers in the queue.
     */
    clock: z.enum(["simulated", "wall"], "expected simulated or wall").optional(),
  })
  .strict()
  .refine((w) => (w.scenario === undefined) !== (w.environment === undefined), { message: "expected exactly one of scenario or environment" });

/** The fleet file: the simulated worlds `suture serve` routes alerts to. */
export const FleetSchema = z
  .object({
    worlds: z.array(FleetWorldSchema).min(1, "expected at least one world"),
  })
  .strict()
  // Checked here rather than after loading so that every problem is reported with its line.
  .superRefine((fleet, ctx) => {
    const first = new Map<string, number>();
    for (const [i, w] of fleet.worlds.entries()) {
      const j = first.get(w.name);
      if (j !== undefined) ctx.addIssue({ code: "custom", message: `"${w.name}" is used twice (first by worlds[${j}])`, path: ["worlds", i, "name"] });
      else first.set(w.name, i);
      if (w.environment === undefined) continue;
      const checked = EnvironmentSpecSchema.safeParse(w.environment);
      if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: ["worlds", i, "environment", ...issue.path] });
    }
  });

/** A validated fleet file. */
export type Fleet = z.infer<typeof FleetSchema>;

/** Thrown for an unreadable, too large or invalid fleet file (the message names line and field), or a route conflict. */
export class InvalidFleetError extends InvalidFileError {
  constructor(message: string, file?: string) {
    super(message, "fleet", file);
    this.name = "InvalidFleetError";
  }
}

/** The environment id of a fleet world. */
export function worldId(name: string): string {
  return `world:${name}`;
}

/** A world ready to insert: its spec (namespaces applied) and the minute to advance to. */
export interface ResolvedWorld {
  name: string;
  spec: EnvironmentSpecInput;
  advanceToMinutes: number;
  clock: WorldClockKind;
}

/** Reads and validates a fleet file within the fleet file limits, resolving scenario references relative to it. */
export async function loadFleet(file: string, limits?: Partial<FileLimits>): Promise<ResolvedWorld[]> {
  const fleet = await loadYamlFile(file, { kind: "fleet", schema: FleetSchema, error: InvalidFleetError, ...(limits !== undefined ? { limits } : {}) });
  const worlds: ResolvedWorld[] = [];
  for (const w of fleet.data.worlds) {
    let spec: EnvironmentSpecInput;
    let advance = w.advanceToMinutes;
    if (w.scenario !== undefined) {
      const scenario = await loadScenario(path.resolve(path.dirname(file), w.scenario));
      spec = scenario.environment;
      advance ??= Math.max(0, ...scenario.alerts.filter((a) => a.status === "firing").map((a) => a.atMinutes));
    } else {
      // FleetSchema checked it against EnvironmentSpecSchema; the input form is what is stored.
      spec = w.environment as EnvironmentSpecInput;
    }
    worlds.push({ name: w.name, spec: withNamespace(spec, w.namespace), advanceToMinutes: advance ?? 0, clock: w.clock ?? "simulated" });
  }
  return worlds;
}

/** The spec with every service moved into `namespace` (unchanged when none is given). */
export function withNamespace(spec: EnvironmentSpecInput, namespace: string | undefined): EnvironmentSpecInput {
  if (namespace === undefined) return spec;
  return { ...spec, services: (spec.services ?? []).map((s) => ({ ...s, namespace })) };
}

/** What installing a fleet did. */
export interface FleetReport {
  created: string[];
  kept: string[];
  /** Worlds saved in a format this version cannot restore, created again from their scenario. */
  recreated: string[];
}

/**
 * Installs the fleet's worlds and routes. A world already in the database keeps its state (a
 * restarted server must not reset production); a workload routed to two worlds is an error.
 */
export async function installFleet(db: Database, worlds: ResolvedWorld[]): Promise<FleetReport> {
  const report: FleetReport = { created: [], kept: [], recreated: [] };
  for (const world of worlds) {
    const id = worldId(world.name);
    const exists = await environmentExists(db.pool, id);
    if (exists && SimEnvironment.restorable(await worldState(db.pool, id))) {
      report.kept.push(world.name);
      continue;
    }
    const env = SimEnvironment.create(world.clock === "wall" ? { ...world.spec, startTime: wallStartTime(world.advanceToMinutes) } : world.spec);
    await env.advanceTo(env.startTime + world.advanceToMinutes * MINUTE);
    if (exists) {
      // Saved before the simulator kept Kubernetes objects: nothing can resume it, so it starts again.
      await saveWorldState(db.pool, id, env.toJSON());
      report.recreated.push(world.name);
      continue;
    }
    const parsed = EnvironmentSpecSchema.parse(world.spec);
    await withTransaction(db, async (client) => {
      for (const s of workloadsOf(parsed)) {
        const owner = await routeFor(client, s.namespace, s.name);
        if (owner !== undefined && owner !== id) {
          throw new InvalidFleetError(`world "${world.name}": workload ${s.namespace}/${s.name} already belongs to ${owner}; give the world its own namespace`);
        }
      }
      await installWorld(
        client,
        id,
        world.spec,
        env.toJSON(),
        workloadsOf(parsed).map((s) => ({ namespace: s.namespace, service: s.name })),
        world.clock,
      );
    });
    report.created.push(world.name);
  }
  return report;
}

/** A wall-clock world's t0: `advanceToMinutes` before now (whole seconds), so it is "now" once advanced. */
function wallStartTime(advanceToMinutes: number): string {
  return new Date(Math.floor((Date.now() - advanceToMinutes * MINUTE) / 1000) * 1000).toISOString();
}
