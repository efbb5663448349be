-- Architecture (issue 14): read-tool results are stored once per incident, here, and the
-- checkpoints keep references to them (id, tool, parameters, time, summary) instead of copies.
-- A perception that re-runs after a crash overwrites its own rows (same perception, same order).
CREATE TABLE observations (
  id           bigserial PRIMARY KEY,
  -- No foreign key: an imported replay brings the observations of the incident it replays, which
  -- need not be in this database.
  incident_id  text NOT NULL,
  perception   integer NOT NULL,
  seq          integer NOT NULL,
  tool         text NOT NULL,
  params       jsonb NOT NULL,
  env_time     bigint NOT NULL,
  ok           boolean NOT NULL,
  summary      text NOT NULL,
  result       jsonb,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, perception, seq)
);
