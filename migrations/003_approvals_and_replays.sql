-- Human approval that survives restarts, and replays forked from another incident's checkpoint.
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check
  CHECK (status IN ('open', 'running', 'awaiting_approval', 'resolved', 'escalated', 'closed_no_action'));
ALTER TABLE incidents ADD COLUMN forked_from text REFERENCES incidents (id);
ALTER TABLE incidents ADD COLUMN forked_at_checkpoint text;
ALTER TABLE incidents ADD COLUMN replay_mode text CHECK (replay_mode IN ('dry-run', 'live'));

-- One row per approval request; a decision is written once (decided_at IS NULL guards it).
CREATE TABLE approvals (
  id            bigserial PRIMARY KEY,
  incident_id   text NOT NULL REFERENCES incidents (id),
  request_key   text NOT NULL UNIQUE,
  call          jsonb NOT NULL,
  risk          text NOT NULL,
  reasons       jsonb NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  decision      text CHECK (decision IN ('approved', 'rejected', 'expired')),
  approver      text,
  note          text,
  approved_call jsonb,
  decided_at    timestamptz
);
CREATE INDEX approvals_pending_idx ON approvals (requested_at) WHERE decision IS NULL;
