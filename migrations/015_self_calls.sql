-- Calls Suture makes to what it depends on — its environment adapter and its model — counted by
-- operation and outcome (ok, timeout, 5xx, 409, invalid model output…) with their latency, one row
-- per outcome per incident run (app/advance.ts) or diagnosis round (nodes/diagnose.ts), so its own
-- health can tell an adapter that keeps failing or a model that drifts (app/health.ts).
CREATE TABLE self_calls (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  incident_id  text,
  component    text NOT NULL CHECK (component IN ('adapter_read', 'adapter_write', 'model')),
  operation    text NOT NULL,
  outcome      text NOT NULL,
  calls        integer NOT NULL CHECK (calls > 0),
  total_ms     double precision NOT NULL,
  max_ms       double precision NOT NULL
);
CREATE INDEX self_calls_component_at_idx ON self_calls (component, at);

-- Two more recoveries: a breaker on the adapter (mutations stop: autonomy observe) and the model
-- reasoner turned off (rules and memory only: autonomy unchanged, hence nullable).
ALTER TABLE self_recoveries DROP CONSTRAINT self_recoveries_kind_check;
ALTER TABLE self_recoveries ADD CONSTRAINT self_recoveries_kind_check CHECK (kind IN ('lower_autonomy', 'adapter_breaker', 'model_off'));
ALTER TABLE self_recoveries ALTER COLUMN autonomy DROP NOT NULL;
