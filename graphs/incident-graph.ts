import { END, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { SutureContextSchema } from "./context.js";
import type { IncidentNodes } from "./routes.js";
import { IncidentState } from "./state.js";

/**
 * The incident graph, as drawn in DESIGN.md. Its nodes (nodes/, one file each) are passed in, so
 * the graph layer never imports the nodes that import it (app/graph.ts wires the real ones):
 *
 *   alert → perceive → diagnose ─(confident)→ policy-check ─allow→ act → verify
 *                         │                        ├─needs approval / deny→ escalate
 *                         │                        └─workload changed by another incident→ perceive (act likewise)
 *                         ├─(below threshold)→ escalate
 *                         ├─(no fault)→ END
 *                         └─(not acting, and another incident changed the workload while it looked)→ perceive
 *   perceive ─(the alert's target could not be resolved)→ escalate
 *   (a node, a job, a quota: perceive reads it and diagnose closes or escalates; it never acts on one)
 *   verify: sample again (settling, recovering) → verify · recovered → END · not recovered, untried candidate → diagnose · worse → rollback → escalate
 */
export function buildIncidentGraph(nodes: IncidentNodes) {
  return (
    new StateGraph(IncidentState, { context: SutureContextSchema })
      // Gather metrics, logs, workload state and deploys with read-only tools; reduce to evidence (an unresolved target escalates).
      .addNode("perceive", nodes.perceive, { ends: ["diagnose", "escalate"] })
      // Rank hypotheses from the reasoners and route on confidence; perceive again before concluding on evidence another incident's change made stale.
      .addNode("diagnose", nodes.diagnose, { ends: ["policy-check", "escalate", "perceive", END] })
      // Deterministic policy: allow, needs approval, or deny; perceive again if the workload changed under the diagnosis; a dry-run replay ends here.
      .addNode("policy-check", nodes.policyCheck, { ends: ["act", "escalate", "perceive", END] })
      // Execute the granted call once (or perceive again if another incident changed the workload first; never in a dry run).
      .addNode("act", nodes.act, { ends: ["verify", "perceive", END] })
      // Sample the settle window (again, until recovered and stable, worse, or due) and compare signals; resolve, replan, or roll back.
      .addNode("verify", nodes.verify, { ends: ["verify", "diagnose", "escalate", END] })
      // Write the brief and notify a human.
      .addNode("escalate", nodes.escalate)
      .addEdge(START, "perceive")
      .addEdge("escalate", END)
  );
}

/** Compiles the incident graph from its nodes with a checkpointer (PostgresSaver in production, MemorySaver in benchmarks). */
export function compileIncidentGraph(nodes: IncidentNodes, checkpointer: BaseCheckpointSaver) {
  return buildIncidentGraph(nodes).compile({ checkpointer });
}

/** The compiled incident graph type. */
export type IncidentGraph = ReturnType<typeof compileIncidentGraph>;
