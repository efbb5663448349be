-- Suture's own health (`suture health`, suture_self_* on /metrics) counts decisions and actions by
-- wall-clock time over the last days on every scrape: index the columns those windows read.
CREATE INDEX audit_log_kind_at_idx ON audit_log (kind, at);
CREATE INDEX actions_created_at_idx ON actions (created_at);
