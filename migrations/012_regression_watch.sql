-- The regression watch (docs/regression-watch.md): each workload's error-signature baseline and
-- the vocabulary that keeps signature names stable, and one watch per deploy with its verdict.

-- Deploys and baselines belong to a scope: '' for the cluster Suture runs against (webhook and
-- cluster markers), a run's own for a scenario's simulated world, so replaying a scenario in the
-- same database watches its deploys afresh instead of finding the last run's.
ALTER TABLE deploys ADD COLUMN scope text NOT NULL DEFAULT '';
ALTER TABLE deploys DROP CONSTRAINT deploys_namespace_name_version_at_key;
ALTER TABLE deploys ADD CONSTRAINT deploys_scope_namespace_name_version_at_key UNIQUE (scope, namespace, name, version, at);
CREATE TABLE signature_baselines (
  scope        text NOT NULL DEFAULT '',
  namespace    text NOT NULL,
  name         text NOT NULL,
  -- regression/baseline.ts Baseline.toJSON(): counts per signature and hour-of-week cell.
  baseline     jsonb NOT NULL,
  -- regression/vocabulary.ts SignatureVocabulary.toJSON(): exemplars per signature, redacted.
  vocabulary   jsonb NOT NULL,
  -- Environment time up to which logs were counted (epoch ms): the next bucket starts here.
  observed_to  bigint NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, namespace, name)
);

CREATE TABLE regression_watches (
  deploy_id     bigint PRIMARY KEY REFERENCES deploys (id),
  status        text NOT NULL CHECK (status IN ('watching', 'clean', 'regression', 'recorded', 'skipped')),
  looks         integer NOT NULL DEFAULT 0,
  last_look_at  bigint,
  reason        text NOT NULL DEFAULT '',
  -- domain/regressions.ts RegressionFinding: flagged signatures and triage (exemplars redacted).
  finding       jsonb,
  incident_id   text REFERENCES incidents (id),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX regression_watches_status_idx ON regression_watches (status);
CREATE UNIQUE INDEX regression_watches_incident_idx ON regression_watches (incident_id) WHERE incident_id IS NOT NULL;
