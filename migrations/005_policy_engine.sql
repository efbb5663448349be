-- Policy engine (issue 6): actions carry where and when (environment time) they ran and how
-- verification judged them, so rate limits, the idempotency window, blast radius and circuit
-- breakers are counted from this table, across every worker.
ALTER TABLE actions ADD COLUMN namespace text;
ALTER TABLE actions ADD COLUMN env_time timestamptz;
ALTER TABLE actions ADD COLUMN verdict text CHECK (verdict IN ('recovered', 'not_recovered', 'worse'));
CREATE INDEX actions_workload_idx ON actions (namespace, target_service, env_time);

-- A human closing a service's circuit breaker: failures up to after_action_id no longer count.
CREATE TABLE circuit_breaker_resets (
  id               bigserial PRIMARY KEY,
  namespace        text NOT NULL,
  service          text NOT NULL,
  after_action_id  bigint NOT NULL,
  reset_by         text NOT NULL,
  reason           text NOT NULL,
  reset_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX circuit_breaker_resets_idx ON circuit_breaker_resets (namespace, service, after_action_id);
