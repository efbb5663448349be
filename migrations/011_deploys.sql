-- Deploy markers and failed builds for the regression watch (docs/regression-watch.md). A
-- retried webhook carries the same natural key, so it finds the row it stored the first time.
CREATE TABLE deploys (
  id             bigserial PRIMARY KEY,
  namespace      text NOT NULL,
  name           text NOT NULL,
  version        text NOT NULL,
  commit_id      text,
  changed_files  jsonb NOT NULL DEFAULT '[]'::jsonb,
  author         text NOT NULL,
  at             timestamptz NOT NULL,
  -- NULL when the sender did not say whether the deploy carried a schema migration.
  migration      boolean,
  source         text NOT NULL CHECK (source IN ('webhook', 'cluster')),
  received_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (namespace, name, version, at)
);
-- A workload's deploys since a time (the watch's window), and the newest deploys overall.
CREATE INDEX deploys_workload_at_idx ON deploys (namespace, name, at);
CREATE INDEX deploys_at_idx ON deploys (at DESC, id DESC);

CREATE TABLE builds (
  id                bigserial PRIMARY KEY,
  namespace         text NOT NULL,
  name              text NOT NULL,
  commit_id         text NOT NULL,
  status            text NOT NULL CHECK (status IN ('failed')),
  -- Redacted before it is written: no secret reaches this column.
  log_tail          text NOT NULL,
  redacted_secrets  text[] NOT NULL DEFAULT '{}',
  changed_files     jsonb NOT NULL DEFAULT '[]'::jsonb,
  at                timestamptz NOT NULL,
  received_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (namespace, name, commit_id, at)
);
CREATE INDEX builds_at_idx ON builds (at DESC, id DESC);
