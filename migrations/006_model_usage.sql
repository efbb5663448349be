-- LLM reasoner (issue 7): model tokens and estimated cost, one row per diagnosis round,
-- reasoner and model, so `suture show` and `/metrics` account for every call and a re-run step never
-- counts twice.
CREATE TABLE model_usage (
  incident_id  text NOT NULL REFERENCES incidents (id),
  round        integer NOT NULL,
  reasoner     text NOT NULL,
  model        text NOT NULL,
  tokens       bigint NOT NULL CHECK (tokens >= 0),
  cost_usd     double precision NOT NULL CHECK (cost_usd >= 0),
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, round, reasoner, model)
);
