import { InvalidInputError } from "../../domain/errors.js";
import { fillBody, fillTemplate, type HttpTemplate, type TemplateValues } from "./declarations.js";
import { RunbookActionFailedError } from "./job-runner.js";

/** Where an HTTP runner finds the bearer token's variable (the process environment by default). */
export interface HttpRunnerOptions {
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/**
 * Runs a runbook action as one HTTP call to the configured endpoint: the URL and body filled from
 * the call's parameters (URL parts encoded), `Idempotency-Key` set to the action's key so a
 * retried act is recognised by the endpoint, the bearer token read from the environment. Any
 * answer but 2xx fails the action with the status and the start of the body.
 */
export async function runHttp(action: string, template: HttpTemplate, values: TemplateValues, key: string, options: HttpRunnerOptions = {}): Promise<void> {
  const all = { ...values, idempotencyKey: key };
  const url = fillTemplate(template.url, all, encodeURIComponent);
  const env = options.env ?? process.env;
  const headers: Record<string, string> = { "idempotency-key": key, "user-agent": "suture" };
  if (template.bearerTokenEnv !== undefined) {
    const token = env[template.bearerTokenEnv];
    if (token === undefined || token === "")
      throw new InvalidInputError(`runbook action ${action}: ${template.bearerTokenEnv} is not set (the bearer token for ${new URL(url).host}); nothing was called`);
    headers["authorization"] = `Bearer ${token}`;
  }
  if (template.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: template.method,
      headers,
      ...(template.body !== undefined ? { body: JSON.stringify(fillBody(template.body, all)) } : {}),
      signal: AbortSignal.timeout(template.timeoutSeconds * 1000),
    });
  } catch (error) {
    throw new RunbookActionFailedError(`runbook action ${action}: ${template.method} ${url} failed: ${(error as Error).message}`);
  }
  if (response.status >= 200 && response.status < 300) return;
  const text = (await response.text().catch(() => "")).slice(0, 200);
  throw new RunbookActionFailedError(`runbook action ${action}: ${template.method} ${url} answered ${response.status}${text.length > 0 ? `: ${text}` : ""}`);
}
