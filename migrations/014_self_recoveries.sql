-- Recoveries Suture applies to itself when its own rates cross their limits (app/self-recovery.ts):
-- today only lowering autonomy to recommend. At most one in force per kind and metric; only a
-- human ends one (`suture health restore <id> --as <name> --reason …`), recorded here and audited.
CREATE TABLE self_recoveries (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('lower_autonomy')),
  metric          text NOT NULL,
  autonomy        text NOT NULL CHECK (autonomy IN ('recommend', 'observe')),
  reason          text NOT NULL,
  evidence        jsonb NOT NULL,
  started_at      timestamptz NOT NULL DEFAULT now(),
  restored_at     timestamptz,
  restored_by     text,
  restore_reason  text
);
CREATE UNIQUE INDEX self_recoveries_in_force ON self_recoveries (kind, metric) WHERE restored_at IS NULL;
