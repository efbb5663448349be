-- Kubernetes keeps no history of a ConfigMap, so Suture records every version it observes
-- (issue 15): reverting a ConfigMap means writing back one of these. A version whose data held
-- secret-looking values is stored redacted and marked, and is never written back.
CREATE TABLE config_versions (
  namespace         text NOT NULL,
  name              text NOT NULL,
  version           integer NOT NULL,
  resource_version  text NOT NULL,
  data              jsonb NOT NULL,
  redacted          boolean NOT NULL DEFAULT false,
  observed_at       bigint NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, name, version)
);
