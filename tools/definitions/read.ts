import { z } from "zod";
import { METRIC_NAMES } from "../../environments/adapter.js";
import type { AnyToolDefinition, ToolDefinition } from "../tool.js";

const Service = z.string().min(1, "expected a service name").max(63);

const queryMetricsParams = z.object({ service: Service, metric: z.enum(METRIC_NAMES), windowMinutes: z.number().int().min(1).max(360) }).strict();
/** Reads one metric's time series for a service. */
const queryMetrics: ToolDefinition<z.infer<typeof queryMetricsParams>> = {
  name: "query_metrics",
  description: "Time series of one metric (error_rate, latency_p99_ms, request_rate, memory_mib, cpu_cores, disk_usage_pct, consumer_lag, ready_replicas) for a service",
  params: queryMetricsParams,
  risk: "read",
  settleSeconds: 0,
  actionClass: "read",
  run: (p, env) => env.queryMetric(p.service, p.metric, p.windowMinutes),
};

const tailLogsParams = z.object({ service: Service, lines: z.number().int().min(1).max(2000) }).strict();
/** Reads a service's most recent log lines. */
const tailLogs: ToolDefinition<z.infer<typeof tailLogsParams>> = {
  name: "tail_logs",
  description: "The last N log lines of a service, all pods",
  params: tailLogsParams,
  risk: "read",
  settleSeconds: 0,
  actionClass: "read",
  run: (p, env) => env.tailLogs(p.service, p.lines),
};

const serviceParams = z.object({ service: Service }).strict();
/** Describes a workload: deployment, pods, events, Service, policies, config, breakers, disks, consumers. */
const describeWorkload: ToolDefinition<z.infer<typeof serviceParams>> = {
  name: "describe_workload",
  description: "Deployment, pods, recent events, Service ports, network policies, config maps, circuit breakers, disks and consumer groups of a service",
  params: serviceParams,
  risk: "read",
  settleSeconds: 0,
  actionClass: "read",
  run: (p, env) => env.describeWorkload(p.service),
};

/** Lists a deployment's revision history. */
const listDeployHistory: ToolDefinition<z.infer<typeof serviceParams>> = {
  name: "list_deploy_history",
  description: "Revision history of a service's deployment (image, env, memory limit, when, change cause)",
  params: serviceParams,
  risk: "read",
  settleSeconds: 0,
  actionClass: "read",
  run: (p, env) => env.deployHistory(p.service),
};

/** Reads Kafka consumer lag per partition. */
const consumerLag: ToolDefinition<z.infer<typeof serviceParams>> = {
  name: "consumer_lag",
  description: "Kafka consumer groups of a service with committed offsets, end offsets and lag per partition, and DLQ depth",
  params: serviceParams,
  risk: "read",
  settleSeconds: 0,
  actionClass: "read",
  run: (p, env) => env.consumerLag(p.service),
};

/** Every read-only tool. */
export const READ_TOOLS: AnyToolDefinition[] = [queryMetrics, tailLogs, describeWorkload, listDeployHistory, consumerLag];
