import type { RunnableConfig } from "@langchain/core/runnables";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { incidentGraph } from "../../app/graph.js";
import { nextMove, resumeIncident } from "../../app/advance.js";
import { runScenario } from "../../app/scenario-run.js";
import type { Suture } from "../../app/suture.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

/**
 * A checkpointer that loses the checkpoint closing act's step, as a process killed between
 * saving act's writes and writing that checkpoint would: the writes are stored, the step is not.
 */
class LosesActCheckpoint extends PostgresSaver {
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: Record<string, string | number>): Promise<RunnableConfig> {
    if ("branch:to:verify" in newVersions) throw new Error("process killed before act's checkpoint was written");
    return super.put(config, checkpoint, metadata, newVersions);
  }
}

describe.each(testBackends())("a node that finished without its checkpoint, on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.db.close();
  });

  it("is continued from its saved writes, never started over (which would act twice)", async () => {
    // Given an incident whose process dies after act rolled back the bad revision but before act's checkpoint
    const losing = new LosesActCheckpoint(t.suture.db.pool);
    const dying: Suture = { ...t.suture, checkpointer: losing, graph: incidentGraph(losing) };
    const incidentId = `inc-lost-${backend.name}-${Date.now()}`;
    await expect(runScenario(dying, await shippedScenario("bad-rollout-missing-image"), { incidentId })).rejects.toThrow(/act's checkpoint/);
    // Then the thread shows no next node, only act's task with its saved writes (saved in the
    // background: wait for them), and a worker continues it
    const config = { configurable: { thread_id: incidentId } };
    let snapshot = await t.suture.graph.getState(config);
    for (let i = 0; i < 100 && snapshot.next.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      snapshot = await t.suture.graph.getState(config);
    }
    expect(snapshot.next).toEqual([]);
    expect(snapshot.tasks.map((task) => task.name)).toEqual(["act"]);
    expect(nextMove(snapshot)).toBe("continue");
    // When it is continued
    const run = await resumeIncident(t.suture, incidentId);
    // Then verify judges the one rollback, the incident resolves, and nothing was executed twice
    expect(run.state.outcome?.status).toBe("resolved");
    const executed = (await t.suture.store.actionsFor(incidentId)).filter((a) => a.status === "succeeded");
    expect(executed.map((a) => `${a.kind} ${a.tool} ${JSON.stringify(a.params)}`)).toEqual(['remediation rollout_undo {"service":"checkout","toRevision":2}']);
    expect(run.state.diagnoses).toHaveLength(1);
  });

  it("starts from the alert only when nothing was checkpointed, and records an outcome the process did not store", () => {
    expect(nextMove({ next: [], tasks: [], values: {} })).toBe("start");
    expect(nextMove({ next: [], tasks: [], values: { outcome: { status: "resolved", reason: "x", at: 0 } } })).toBe("record-outcome");
    expect(nextMove({ next: ["verify"], tasks: [{}], values: {} })).toBe("continue");
  });
});
