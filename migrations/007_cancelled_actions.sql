-- Hardening (issue 13): a granted action that was never executed because another incident changed
-- the workload first is cancelled, not left "registered" (rate limits, idempotency and in-flight
-- counts read registered rows as pending work).
ALTER TABLE actions DROP CONSTRAINT actions_status_check;
ALTER TABLE actions ADD CONSTRAINT actions_status_check
  CHECK (status IN ('registered', 'executing', 'succeeded', 'failed', 'cancelled'));
