import path from "node:path";
import { z } from "zod";
import { formatZodError } from "./errors.js";

/** Process configuration, from environment variables. */
export const ConfigSchema = z.object({
  /** PostgreSQL URL; unset = embedded PGlite under `home`. */
  DATABASE_URL: z.string().url("expected a postgres:// URL").optional(),
  /** Where the embedded database and notifications live. */
  SUTURE_HOME: z.string().min(1).default(".suture"),
  /** A policy YAML file; unset = the documented default policy. */
  SUTURE_POLICY: z.string().min(1).optional(),
  /** Folder of runbook rule files; unset = the shipped `rules/`. */
  SUTURE_RULES: z.string().min(1).optional(),
  /** A webhook that receives escalations (Slack-compatible JSON); unset = a JSON-lines file. */
  SUTURE_NOTIFY_WEBHOOK: z.string().url("expected an http(s) URL").optional(),
});

/** Resolved configuration. */
export interface Config {
  databaseUrl?: string;
  home: string;
  dataDir: string;
  policyFile?: string;
  rulesDir?: string;
  notifyWebhook?: string;
}

/** Thrown when an environment variable is invalid. */
export class InvalidConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidConfigError";
  }
}

/** Reads configuration from environment variables (empty strings count as unset). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) throw new InvalidConfigError(formatZodError(parsed.error, "environment variable "));
  const c = parsed.data;
  const home = path.resolve(c.SUTURE_HOME);
  return {
    ...(c.DATABASE_URL !== undefined ? { databaseUrl: c.DATABASE_URL } : {}),
    home,
    dataDir: path.join(home, "pgdata"),
    ...(c.SUTURE_POLICY !== undefined ? { policyFile: c.SUTURE_POLICY } : {}),
    ...(c.SUTURE_RULES !== undefined ? { rulesDir: c.SUTURE_RULES } : {}),
    ...(c.SUTURE_NOTIFY_WEBHOOK !== undefined ? { notifyWebhook: c.SUTURE_NOTIFY_WEBHOOK } : {}),
  };
}
