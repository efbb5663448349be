-- Alert intake over HTTP, the job queue's view of incidents, shared simulated worlds and
-- per-resource locks. (pg-boss keeps its own tables in the "pgboss" schema.)
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check
  CHECK (status IN ('queued', 'open', 'running', 'awaiting_approval', 'resolved', 'escalated', 'closed_no_action',
                    'resolved_by_source', 'dead_letter'));
-- When a worker first picked the incident up, and the last queue error (for dead letters).
ALTER TABLE incidents ADD COLUMN started_at timestamptz;
ALTER TABLE incidents ADD COLUMN job_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN last_error text;
ALTER TABLE incidents ADD COLUMN source text;
-- The worker (host:pid) that last took the incident's job.
ALTER TABLE incidents ADD COLUMN worker text;
CREATE INDEX incidents_open_fingerprint_idx ON incidents (fingerprint)
  WHERE status IN ('queued', 'open', 'running', 'awaiting_approval');

-- Every accepted intake request, verbatim, written before anything else it causes.
CREATE TABLE intake_requests (
  id            bigserial PRIMARY KEY,
  source        text NOT NULL CHECK (source IN ('alertmanager', 'pagerduty', 'generic')),
  content_type  text NOT NULL,
  raw_body      text NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE alerts ADD COLUMN request_id bigint REFERENCES intake_requests (id);

-- A world is shared by every incident on its workloads; version orders concurrent writers.
ALTER TABLE environments ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- Which world owns a workload (namespace/service), so intake can route an alert to it.
CREATE TABLE fleet_routes (
  namespace       text NOT NULL,
  service         text NOT NULL,
  environment_id  text NOT NULL REFERENCES environments (id),
  PRIMARY KEY (namespace, service)
);

-- History of per-resource remediation locks (the lock itself is a PostgreSQL advisory lock).
CREATE TABLE resource_locks (
  id           bigserial PRIMARY KEY,
  resource     text NOT NULL,
  incident_id  text NOT NULL,
  worker       text NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  released_at  timestamptz
);
CREATE INDEX resource_locks_resource_idx ON resource_locks (resource, acquired_at);

-- An alert that arrived over HTTP points at its request instead of repeating the whole body.
ALTER TABLE alerts ALTER COLUMN raw_body DROP NOT NULL;
ALTER TABLE alerts ADD CONSTRAINT alerts_raw_body_or_request CHECK (raw_body IS NOT NULL OR request_id IS NOT NULL);
