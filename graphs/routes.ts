import type { Command, END, Runtime } from "@langchain/langgraph";
import type { SutureContext } from "./context.js";
import type { IncidentStateUpdate, IncidentStateValue } from "./state.js";

/** Where perceive sends the incident: diagnose the evidence, or escalate an alert whose target could not be resolved. */
export type PerceiveRoute = "diagnose" | "escalate";

/** Where diagnose sends the incident: act through policy-check, escalate, or close with no action. */
export type DiagnoseRoute = "policy-check" | "escalate" | "perceive" | typeof END;

/**
 * Where policy-check sends the incident: act, escalate, perceive again when another incident
 * changed the workload first, or the end of a dry-run replay (which never acts).
 */
export type PolicyCheckRoute = "act" | "escalate" | "perceive" | typeof END;

/**
 * Where act sends the incident: verify what it did, perceive again when another incident changed
 * the workload first, or the end of a dry-run replay.
 */
export type ActRoute = "verify" | "perceive" | typeof END;

/** Where verify sends the incident: sample the settle window again (verify), resolved (END), replan (diagnose), or escalate. */
export type VerifyRoute = "verify" | "diagnose" | "escalate" | typeof END;

/** A node that routes itself with `Command({ goto })` to one of `R`. */
export type RoutingNode<R extends string> = (state: IncidentStateValue, runtime: Runtime<SutureContext>) => Promise<Command<unknown, Record<string, unknown>, R>>;

/** A node whose next step is fixed by an edge. */
export type StepNode = (state: IncidentStateValue, runtime: Runtime<SutureContext>) => Promise<IncidentStateUpdate>;

/** The nodes the incident graph is wired from (nodes/, one file each). */
export interface IncidentNodes {
  perceive: RoutingNode<PerceiveRoute>;
  diagnose: RoutingNode<DiagnoseRoute>;
  policyCheck: RoutingNode<PolicyCheckRoute>;
  act: RoutingNode<ActRoute>;
  verify: RoutingNode<VerifyRoute>;
  escalate: StepNode;
}
