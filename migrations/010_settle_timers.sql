-- Durable settle timers: an incident whose action settles on the wall clock waits in the queue
-- (status `verifying`), not in a worker's job slot.
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check
  CHECK (status IN ('queued', 'open', 'running', 'awaiting_approval', 'verifying', 'resolved', 'escalated', 'closed_no_action',
                    'resolved_by_source', 'dead_letter'));

-- A fleet world either keeps its own simulated time or follows the wall clock (`clock: wall`).
ALTER TABLE environments ADD COLUMN clock text NOT NULL DEFAULT 'simulated' CHECK (clock IN ('simulated', 'wall'));
