import { END, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { act } from "../nodes/act.js";
import { diagnose } from "../nodes/diagnose.js";
import { escalate } from "../nodes/escalate.js";
import { perceive } from "../nodes/perceive.js";
import { policyCheck } from "../nodes/policy-check.js";
import { verify } from "../nodes/verify.js";
import { SutureContextSchema } from "./context.js";
import { IncidentState } from "./state.js";

/**
 * The incident graph, as drawn in DESIGN.md:
 *
 *   alert → perceive → diagnose ─(confident)→ policy-check ─allow→ act → verify
 *                         │                        ├─needs approval / deny→ escalate
 *                         │                        └─workload changed by another incident→ perceive (act likewise)
 *                         ├─(below threshold)→ escalate
 *                         └─(no fault)→ END
 *   verify: recovered → END · not recovered, untried candidate → diagnose · worse → rollback → escalate
 */
export function buildIncidentGraph() {
  return (
    new StateGraph(IncidentState, { context: SutureContextSchema })
      // Gather metrics, logs, workload state and deploys with read-only tools; reduce to evidence.
      .addNode("perceive", perceive)
      // Rank hypotheses from the reasoners and route on confidence.
      .addNode("diagnose", diagnose, { ends: ["policy-check", "escalate", END] })
      // Deterministic policy: allow, needs approval, or deny; perceive again if the workload changed under the diagnosis; a dry-run replay ends here.
      .addNode("policy-check", policyCheck, { ends: ["act", "escalate", "perceive", END] })
      // Execute the granted call once (or perceive again if another incident changed the workload first; never in a dry run).
      .addNode("act", act, { ends: ["verify", "perceive", END] })
      // Wait the settle interval and compare signals; resolve, replan, or roll back.
      .addNode("verify", verify, { ends: ["diagnose", "escalate", END] })
      // Write the brief and notify a human.
      .addNode("escalate", escalate)
      .addEdge(START, "perceive")
      .addEdge("perceive", "diagnose")
      .addEdge("escalate", END)
  );
}

/** Compiles the incident graph with a checkpointer (PostgresSaver in production, MemorySaver in benchmarks). */
export function compileIncidentGraph(checkpointer: BaseCheckpointSaver) {
  return buildIncidentGraph().compile({ checkpointer });
}

/** The compiled incident graph type. */
export type IncidentGraph = ReturnType<typeof compileIncidentGraph>;
