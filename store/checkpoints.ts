import type { Queryable } from "./database.js";

/**
 * Deletes the pending writes of an incident's checkpoints that already have a successor. A step's
 * writes are what the next checkpoint is built from; once it exists they are a second copy of
 * the same state (LangGraph keeps them). The newest checkpoint's writes stay: a run that died
 * after its node finished but before its checkpoint was saved continues from them.
 */
export async function pruneAppliedWrites(q: Queryable, threadId: string): Promise<void> {
  await q.query(
    `DELETE FROM checkpoint_writes w
     WHERE w.thread_id = $1
       AND EXISTS (SELECT 1 FROM checkpoints c WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns AND c.parent_checkpoint_id = w.checkpoint_id)`,
    [threadId],
  );
}
