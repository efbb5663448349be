-- Core incident tables. Applied by `suture migrate` on embedded PGlite and on PostgreSQL alike.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE incidents (
  id              text PRIMARY KEY,
  fingerprint     text NOT NULL,
  alert_name      text NOT NULL,
  service         text NOT NULL,
  severity        text NOT NULL,
  status          text NOT NULL CHECK (status IN ('open', 'running', 'resolved', 'escalated', 'closed_no_action')),
  scenario        text,
  environment_id  text,
  summary         text,
  brief           jsonb,
  opened_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  closed_at       timestamptz
);
CREATE INDEX incidents_fingerprint_idx ON incidents (fingerprint);
CREATE INDEX incidents_opened_at_idx ON incidents (opened_at DESC);

-- Every alert notification as received: raw_body is the exact text the source sent.
CREATE TABLE alerts (
  id           bigserial PRIMARY KEY,
  incident_id  text REFERENCES incidents (id),
  source       text NOT NULL,
  fingerprint  text NOT NULL,
  alert_name   text NOT NULL,
  status       text NOT NULL,
  starts_at    timestamptz,
  ends_at      timestamptz,
  raw_body     text NOT NULL,
  normalized   jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_fingerprint_idx ON alerts (fingerprint, starts_at);

-- Remediations and the rollbacks registered for them. The idempotency key is checked before
-- execution, so a resumed or retried step never runs the same call twice.
CREATE TABLE actions (
  id                bigserial PRIMARY KEY,
  incident_id       text NOT NULL REFERENCES incidents (id),
  attempt           integer NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('remediation', 'rollback')),
  tool              text NOT NULL,
  params            jsonb NOT NULL,
  risk              text NOT NULL,
  action_class      text NOT NULL,
  target_service    text,
  idempotency_key   text NOT NULL UNIQUE,
  status            text NOT NULL CHECK (status IN ('registered', 'executing', 'succeeded', 'failed')),
  rollback_call     jsonb,
  rollback_of       bigint REFERENCES actions (id),
  before_signals    jsonb,
  after_signals     jsonb,
  error             text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  executed_at       timestamptz,
  finished_at       timestamptz
);
CREATE INDEX actions_incident_idx ON actions (incident_id, id);

-- Append-only record of every decision, with its reason. dedupe_key makes a re-run node's
-- entry land once.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  incident_id text,
  at          timestamptz NOT NULL DEFAULT now(),
  env_time    timestamptz,
  actor       text NOT NULL,
  kind        text NOT NULL,
  summary     text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  dedupe_key  text UNIQUE
);
CREATE INDEX audit_log_incident_idx ON audit_log (incident_id, id);

CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();

-- Persisted state of simulated environments, so a run interrupted mid-incident resumes against
-- the same world (a real adapter keeps its state in the real system instead).
CREATE TABLE environments (
  id          text PRIMARY KEY,
  kind        text NOT NULL,
  spec        jsonb NOT NULL,
  state       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
