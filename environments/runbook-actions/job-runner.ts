import { createHash } from "node:crypto";
import type { BatchV1Api, V1Job } from "@kubernetes/client-node";
import { SutureError } from "../../domain/errors.js";
import { AlreadyExistsError, apiStatusOf, call, callOrMissing, DryRunRejectedError, kubeRequestError, type ApiRequest } from "../kubernetes/api-errors.js";
import { fillTemplate, type JobTemplate, type TemplateValues } from "./declarations.js";

/** The annotation on a runbook Job holding the idempotency key it was created for. */
export const JOB_ACTION_KEY_ANNOTATION = "suture.dev/action-key";

/** Thrown when a runbook action ran and did not succeed (a failed Job, an error answer, a timeout). */
export class RunbookActionFailedError extends SutureError {
  constructor(message: string) {
    super(message, 502, 1);
    this.name = "RunbookActionFailedError";
  }
}

/** How a Job runner waits; tests shorten the poll. */
export interface JobRunnerOptions {
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * The Job's name for an action: one name per idempotency key, so a retried act (after a crash or a
 * timeout) finds the Job it created instead of creating another.
 */
export function jobName(action: string, key: string): string {
  const kebab = action.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return `suture-${kebab}-${createHash("sha256").update(key).digest("hex").slice(0, 10)}`;
}

/** The Job a template builds for one call: argv only (no shell), labelled and annotated with its key. */
export function buildJob(action: string, template: JobTemplate, namespace: string, values: TemplateValues, key: string): V1Job {
  const fill = (text: string): string => fillTemplate(text, { ...values, idempotencyKey: key });
  const name = jobName(action, key);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "suture", "suture.dev/runbook-action": action.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) },
      annotations: { [JOB_ACTION_KEY_ANNOTATION]: key },
    },
    spec: {
      backoffLimit: template.backoffLimit,
      activeDeadlineSeconds: template.timeoutSeconds,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: { "app.kubernetes.io/managed-by": "suture", "job-name": name } },
        spec: {
          restartPolicy: "Never",
          ...(template.serviceAccountName !== undefined ? { serviceAccountName: template.serviceAccountName } : {}),
          containers: [
            {
              name: "runbook",
              image: template.image,
              ...(template.command !== undefined ? { command: template.command.map(fill) } : {}),
              args: template.args.map(fill),
              env: Object.entries(template.env).map(([name, value]) => ({ name, value: fill(value) })),
            },
          ],
        },
      },
    },
  };
}

/** Whether a Job finished: succeeded, failed (with the reason), or still running. */
function jobOutcome(job: V1Job, backoffLimit: number): { done: true } | { failed: string } | undefined {
  if ((job.status?.succeeded ?? 0) >= 1) return { done: true };
  const failed = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  if (failed !== undefined) return { failed: `${failed.reason ?? "Failed"}${failed.message !== undefined ? `: ${failed.message}` : ""}` };
  if ((job.status?.failed ?? 0) > backoffLimit) return { failed: `${job.status?.failed ?? 0} pod(s) failed` };
  return undefined;
}

/**
 * Runs a runbook action as a Kubernetes Job and waits for it: the Job named for the key is read
 * first (a retried act waits for the one it created), else created with `dryRun=All` first and
 * then for real; success is the Job completing, a failed Job or the deadline is an error naming
 * the Job to look at.
 */
export async function runJob(batch: BatchV1Api, action: string, template: JobTemplate, namespace: string, values: TemplateValues, key: string, options: JobRunnerOptions = {}): Promise<void> {
  const body = buildJob(action, template, namespace, values, key);
  const name = body.metadata?.name ?? "";
  const request: ApiRequest = { verb: "create", group: "batch", resource: "jobs", namespace };
  const read = { ...request, verb: "get" as const, name };
  let job = await callOrMissing(read, () => batch.readNamespacedJob({ name, namespace }));
  if (job === undefined) {
    try {
      await batch.createNamespacedJob({ namespace, body, dryRun: "All", fieldManager: "suture" });
      job = await batch.createNamespacedJob({ namespace, body, fieldManager: "suture" });
    } catch (error) {
      const status = apiStatusOf(error);
      if (status !== undefined && (status.code === 400 || status.code === 422)) throw new DryRunRejectedError(request, status);
      const failure = kubeRequestError(error, request);
      // Created by a concurrent attempt under the same key: wait for that one.
      if (!(failure instanceof AlreadyExistsError)) throw failure;
      job = await call(read, () => batch.readNamespacedJob({ name, namespace }));
    }
  }
  const pollMs = options.pollMs ?? 2_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + template.timeoutSeconds * 1000;
  for (;;) {
    const outcome = jobOutcome(job, template.backoffLimit);
    if (outcome !== undefined && "done" in outcome) return;
    if (outcome !== undefined) throw new RunbookActionFailedError(`runbook action ${action}: job ${namespace}/${name} failed (${outcome.failed}); see kubectl -n ${namespace} logs job/${name}`);
    if (now() >= deadline)
      throw new RunbookActionFailedError(`runbook action ${action}: job ${namespace}/${name} did not complete within ${template.timeoutSeconds} s; see kubectl -n ${namespace} describe job/${name}`);
    await sleep(pollMs);
    job = await call(read, () => batch.readNamespacedJob({ name, namespace }));
  }
}
