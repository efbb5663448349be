import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { compileIncidentGraph, type IncidentGraph } from "../graphs/incident-graph.js";
import type { IncidentNodes } from "../graphs/routes.js";
import { act } from "../nodes/act.js";
import { diagnose } from "../nodes/diagnose.js";
import { escalate } from "../nodes/escalate.js";
import { perceive } from "../nodes/perceive.js";
import { policyCheck } from "../nodes/policy-check.js";
import { verify } from "../nodes/verify.js";

/** The incident graph's nodes, one per file in nodes/. */
export const INCIDENT_NODES: IncidentNodes = { perceive, diagnose, policyCheck, act, verify, escalate };

/** The incident graph with its nodes, compiled with a checkpointer (PostgresSaver in production, MemorySaver in benchmarks). */
export function incidentGraph(checkpointer: BaseCheckpointSaver): IncidentGraph {
  return compileIncidentGraph(INCIDENT_NODES, checkpointer);
}
