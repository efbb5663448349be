-- Incident memory: past incidents (and imported runbooks) with an embedding, searched by cosine
-- similarity through an HNSW index that is built once here and maintained incrementally.
-- 384 dimensions: see memory/embeddings.ts for why.

-- Which embedder wrote the vectors; a different one must re-embed, never mix.
CREATE TABLE memory_settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incident_memory (
  id                 bigserial PRIMARY KEY,
  kind               text NOT NULL CHECK (kind IN ('incident', 'runbook')),
  -- Memories are read within one scope, so an evaluation run never learns from another.
  scope              text NOT NULL DEFAULT 'default',
  incident_id        text REFERENCES incidents (id),
  title              text NOT NULL,
  text               text NOT NULL,
  embedding          vector(384) NOT NULL,
  alert_name         text,
  service            text,
  fault_class        text,
  remediation        text,
  action_class       text,
  outcome            text CHECK (outcome IN ('resolved', 'rolled_back', 'escalated', 'no_action')),
  time_to_mitigate_s integer,
  attempts           jsonb NOT NULL DEFAULT '[]'::jsonb,
  details            jsonb NOT NULL DEFAULT '{}'::jsonb,
  occurred_at        timestamptz NOT NULL DEFAULT now(),
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id)
);
CREATE INDEX incident_memory_embedding_idx ON incident_memory USING hnsw (embedding vector_cosine_ops);
CREATE INDEX incident_memory_scope_idx ON incident_memory (scope, kind);
CREATE UNIQUE INDEX incident_memory_runbook_idx ON incident_memory (scope, title) WHERE kind = 'runbook';

-- One row per verified remediation attempt: the feedback loop's success and rollback rates.
CREATE TABLE remediation_outcomes (
  id           bigserial PRIMARY KEY,
  scope        text NOT NULL DEFAULT 'default',
  incident_id  text NOT NULL REFERENCES incidents (id),
  attempt      integer NOT NULL,
  fault_class  text NOT NULL,
  tool         text NOT NULL,
  action_class text NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('recovered', 'not_recovered', 'worse')),
  at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, attempt)
);
CREATE INDEX remediation_outcomes_key_idx ON remediation_outcomes (scope, fault_class, tool);
