import { redactSecrets, redactValue, secretKinds } from "../domain/secrets.js";
import type { ToolObservation } from "../domain/model.js";
import type { ConsumerGroupState, DeploymentRevision, EnvironmentAdapter, LogLine, MetricName, MetricSeries, NodeState, ClusterState, WorkloadDescription } from "../environments/adapter.js";
import type { Clock } from "../domain/clock.js";
import type { ToolRegistry } from "./registry.js";

/** A log line with its secrets redacted and their kinds noted, so the leak stays visible as evidence. */
function redactLine(line: LogLine): LogLine {
  const kinds = secretKinds(line.message);
  return kinds.length === 0 ? { ...line } : { ...line, message: redactSecrets(line.message), redactedSecrets: kinds };
}

/**
 * Runs the registered read tools and records every call and its result, so a replay sees
 * exactly the evidence the original run saw. Every result is redacted here, before anything
 * (state, checkpoints, evidence, prompts) sees it: a secret a tool read never leaves this class.
 * Failures are recorded, not thrown: a missing workload is evidence too.
 */
export class Observer {
  readonly observations: ToolObservation[] = [];

  constructor(
    private readonly tools: ToolRegistry,
    private readonly env: EnvironmentAdapter,
    private readonly clock: Clock,
  ) {}

  private async read<T>(tool: string, params: Record<string, unknown>, describe: (r: T) => string, redact: (r: T) => T = redactValue): Promise<T | undefined> {
    const at = this.clock.now();
    const definition = this.tools.get(tool);
    try {
      const result = redact((await definition.run(params, this.env, `read:${at}`)) as T);
      this.observations.push({ tool, params, at, ok: true, summary: describe(result), result });
      return result;
    } catch (error) {
      this.observations.push({ tool, params, at, ok: false, summary: redactSecrets((error as Error).message), result: null });
      return undefined;
    }
  }

  /** `describe_workload`. */
  describeWorkload(service: string): Promise<WorkloadDescription | undefined> {
    return this.read<WorkloadDescription>(
      "describe_workload",
      { service },
      (w) => `${w.pods.length} pods, ${w.deployment.readyReplicas}/${w.deployment.desiredReplicas} ready, revision ${w.deployment.currentRevision}`,
    );
  }

  /** `list_deploy_history`. */
  deployHistory(service: string): Promise<DeploymentRevision[] | undefined> {
    return this.read<DeploymentRevision[]>("list_deploy_history", { service }, (r) => `${r.length} revisions`);
  }

  /** `tail_logs`. */
  tailLogs(service: string, lines: number): Promise<LogLine[] | undefined> {
    return this.read<LogLine[]>(
      "tail_logs",
      { service, lines },
      (r) => `${r.length} lines`,
      (r) => r.map(redactLine),
    );
  }

  /** `query_metrics`. */
  queryMetric(service: string, metric: MetricName, windowMinutes: number): Promise<MetricSeries | undefined> {
    return this.read<MetricSeries>("query_metrics", { service, metric, windowMinutes }, (r) => `${r.points.length} points`);
  }

  /** `describe_node`. */
  describeNode(node: string): Promise<NodeState | undefined> {
    return this.read<NodeState>(
      "describe_node",
      { node },
      (n) => `Ready ${n.ready}${n.pressures.length > 0 ? `, ${n.pressures.join(", ")}` : ""}${n.unschedulable ? ", cordoned" : ""}, ${n.pods} pods`,
    );
  }

  /** `describe_cluster`. */
  describeCluster(): Promise<ClusterState | undefined> {
    return this.read<ClusterState>(
      "describe_cluster",
      {},
      (c) =>
        `${c.nodes.length} nodes, ${c.nodes.filter((n) => n.ready !== "True").length} not Ready, ${c.nodes.filter((n) => n.unschedulable).length} cordoned, ${c.unschedulablePods.length} pod(s) unschedulable`,
    );
  }

  /** `consumer_lag`. */
  consumerLag(service: string): Promise<ConsumerGroupState[] | undefined> {
    return this.read<ConsumerGroupState[]>("consumer_lag", { service }, (r) => `${r.length} consumer groups`);
  }
}
