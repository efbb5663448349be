-- What verified attempts later said about the remembered incidents that moved their confidence:
-- a past incident said "this remedy recovered" (or "it did not"), and the attempt it swayed was
-- verified the other way. A remembered incident contradicted more often than confirmed, at least
-- twice, is quarantined by the self-health pass (app/self-recovery.ts): kept, but no longer
-- recalled nor counted in remediation track records, until a human restores it.
CREATE TABLE memory_feedback (
  id                  bigserial PRIMARY KEY,
  scope               text NOT NULL,
  memory_incident_id  text NOT NULL,
  incident_id         text NOT NULL REFERENCES incidents (id),
  attempt             integer NOT NULL,
  tool                text NOT NULL,
  said                text NOT NULL,
  verified            text NOT NULL CHECK (verified IN ('recovered', 'not_recovered', 'worse')),
  agrees              boolean NOT NULL,
  at                  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (memory_incident_id, incident_id, attempt)
);
CREATE INDEX memory_feedback_memory_idx ON memory_feedback (memory_incident_id);

ALTER TABLE incident_memory ADD COLUMN quarantined_at timestamptz;
ALTER TABLE incident_memory ADD COLUMN quarantine_reason text;

ALTER TABLE self_recoveries DROP CONSTRAINT self_recoveries_kind_check;
ALTER TABLE self_recoveries ADD CONSTRAINT self_recoveries_kind_check CHECK (kind IN ('lower_autonomy', 'adapter_breaker', 'model_off', 'memory_quarantine'));
