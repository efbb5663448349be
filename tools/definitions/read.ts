import { z } from "zod";
import { METRIC_NAMES, type EnvironmentAdapter } from "../../environments/adapter.js";
import type { AnyToolDefinition, ToolDefinition } from "../tool.js";
import { Service } from "./params.js";

/** A read-only tool: no risk, nothing to settle, no rollback. */
function readTool<P extends Record<string, unknown>>(name: string, description: string, params: z.ZodType<P>, run: (p: P, env: EnvironmentAdapter) => Promise<unknown>): ToolDefinition<P> {
  return { name, description, params, risk: "read", settleSeconds: 0, actionClass: "read", run: (p, env) => run(p, env) };
}

const serviceParams = z.object({ service: Service }).strict();

/** Every read-only tool. */
export const READ_TOOLS: AnyToolDefinition[] = [
  readTool(
    "query_metrics",
    "Time series of one metric (error_rate, latency_p99_ms, request_rate, memory_mib, cpu_cores, disk_usage_pct, consumer_lag, ready_replicas) for a service",
    z.object({ service: Service, metric: z.enum(METRIC_NAMES), windowMinutes: z.number().int().min(1).max(360) }).strict(),
    (p, env) => env.queryMetric(p.service, p.metric, p.windowMinutes),
  ),
  readTool("tail_logs", "The last N log lines of a service, all pods", z.object({ service: Service, lines: z.number().int().min(1).max(2000) }).strict(), (p, env) => env.tailLogs(p.service, p.lines)),
  readTool("describe_workload", "Deployment, pods, recent events, Service ports, network policies, config maps, circuit breakers, disks and consumer groups of a service", serviceParams, (p, env) =>
    env.describeWorkload(p.service),
  ),
  readTool("list_deploy_history", "Revision history of a service's deployment (image, env, memory limit, when, change cause)", serviceParams, (p, env) => env.deployHistory(p.service)),
  readTool(
    "describe_node",
    "A node's Ready and pressure conditions, cordon and taints, the pods bound to it and its events of the last hour",
    z
      .object({
        node: z
          .string()
          .min(1)
          .max(253)
          .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "expected a node name (lower-case letters, digits, '-' and '.')"),
      })
      .strict(),
    (p, env) => {
      if (env.describeNode === undefined) throw new Error(`the ${env.kind} environment has no nodes to describe`);
      return env.describeNode(p.node);
    },
  ),
  readTool("describe_cluster", "Every node's Ready and pressure conditions, cordon, taints, kubelet version and annotations, and the pods no node could take", z.object({}).strict(), (_p, env) => {
    if (env.describeCluster === undefined) throw new Error(`the ${env.kind} environment has no cluster to describe`);
    return env.describeCluster();
  }),
  readTool("consumer_lag", "Kafka consumer groups of a service with committed offsets, end offsets and lag per partition, and DLQ depth", serviceParams, (p, env) => env.consumerLag(p.service)),
];
