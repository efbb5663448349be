import type { ApiIdentity } from "../../app/config.js";
import type { Intake } from "../../app/intake.js";
import type { Suture } from "../../app/suture.js";
import type { IncidentQueue } from "../../store/queue.js";
import type { SutureMetrics } from "../metrics.js";

/** Everything the HTTP server needs. */
export interface ServerDeps {
  suture: Suture;
  intake: Intake;
  queue: IncidentQueue;
  metrics: SutureMetrics;
  apiTokens: ApiIdentity[];
  intakeToken?: string;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
}
