import { BatchV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { RunbookActions } from "../kubernetes/signals.js";
import type { WorkloadRef } from "../kubernetes/workload-ref.js";
import type { RunbookActionDeclaration, RunbookActionName, RunbookActionsFile, TemplateValues } from "./declarations.js";
import { runHttp, type HttpRunnerOptions } from "./http-runner.js";
import { runJob, type JobRunnerOptions } from "./job-runner.js";

/** How declared actions reach the cluster and the network. */
export interface DeclaredRunbookActionsOptions extends JobRunnerOptions, HttpRunnerOptions {
  /** The namespace a Job runs in when its template names none. */
  defaultNamespace: string;
}

/**
 * The runbook actions a runbook-actions file declares for a cluster, carried out as Kubernetes Jobs
 * or HTTP calls; an action the file does not declare is absent, so the adapter refuses it with
 * RunbookActionMissingError and nothing is changed. The tools' schemas, risk, settle interval and
 * rollback stay in code (tools/definitions): the file says only how the cluster carries them out.
 */
export function declaredRunbookActions(file: RunbookActionsFile, kubeConfig: KubeConfig, options: DeclaredRunbookActionsOptions): RunbookActions {
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const run = async (name: RunbookActionName, declaration: RunbookActionDeclaration, values: TemplateValues, key: string, workloadNamespace?: string): Promise<void> => {
    if ("job" in declaration) {
      await runJob(batch, name, declaration.job, declaration.job.namespace ?? workloadNamespace ?? options.defaultNamespace, values, key, options);
    } else {
      await runHttp(name, declaration.http, values, key, options);
    }
  };
  const ref = (r: WorkloadRef): TemplateValues => ({ namespace: r.namespace, kind: r.kind, name: r.name });
  const actions: RunbookActions = {};
  const { skipMessageToDlq, cleanLogs, resetCircuitBreaker } = file;
  if (skipMessageToDlq !== undefined) {
    actions.skipMessageToDlq = (topic, group, partition, offset, key) => run("skipMessageToDlq", skipMessageToDlq, { topic, group, partition: String(partition), offset: String(offset) }, key);
  }
  if (cleanLogs !== undefined) {
    actions.cleanLogs = (workload, mount, key) => run("cleanLogs", cleanLogs, { ...ref(workload), mount }, key, workload.namespace);
  }
  if (resetCircuitBreaker !== undefined) {
    actions.resetCircuitBreaker = (from, to, key) => run("resetCircuitBreaker", resetCircuitBreaker, { ...ref(from), to }, key, from.namespace);
  }
  return actions;
}
