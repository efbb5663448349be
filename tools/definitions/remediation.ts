import { z } from "zod";
import { InvalidInputError } from "../../domain/errors.js";
import { EnvironmentNotFoundError, type EnvironmentAdapter, type WorkloadDescription } from "../../environments/adapter.js";
import { lastScaleDownTo } from "../../environments/scale-events.js";
import type { AnyToolDefinition, LiveValidation, RiskLevel, ToolDefinition, ToolGrowth, ToolImpact } from "../tool.js";
import { Revision, Service } from "./params.js";

async function workload(env: EnvironmentAdapter, service: string): Promise<WorkloadDescription | LiveValidation> {
  try {
    return await env.describeWorkload(service);
  } catch (error) {
    // A name no workload can have (the Kubernetes adapter refuses it before asking) names nothing to act on either.
    if (error instanceof EnvironmentNotFoundError || error instanceof InvalidInputError) return { ok: false, reason: error.message };
    throw error;
  }
}

function isValidation(x: WorkloadDescription | LiveValidation): x is LiveValidation {
  return "ok" in x;
}

/** The call's target: the deployment of the workload it names. */
function deploymentOf(p: { service: string }): { service: string; resource: string; name: string } {
  return { service: p.service, resource: "deployment", name: p.service };
}

/**
 * The growth, before-state and rollback of a tool that sets one number of a deployment (replicas,
 * memory limit): the rollback sets it back to what it was.
 */
function revertibleSetting<P extends { service: string } & Record<string, unknown>, K extends string & keyof P>(
  tool: string,
  param: K,
  dimension: ToolGrowth["dimension"],
  read: (w: WorkloadDescription) => number,
): Pick<ToolDefinition<P>, "growth" | "captureBefore" | "rollback"> {
  return {
    async growth(p, env) {
      const workload = await env.describeWorkload(p.service);
      const from = read(workload);
      const ranWith = dimension === "replicas" ? lastScaleDownTo(workload.events, from)?.from : undefined;
      return { dimension, from, to: Number(p[param]), ...(ranWith !== undefined ? { ranWith } : {}) };
    },
    async captureBefore(p, env) {
      return { [param]: read(await env.describeWorkload(p.service)) };
    },
    rollback: (p, before) => {
      const value = (before as Record<string, number | undefined> | undefined)?.[param];
      return value === undefined || value === 0 ? undefined : { tool, params: { service: p.service, [param]: value } };
    },
  };
}

/** A tool's risk, how long verify waits for its effect, and the class of action it is (rate limits count per class). */
function settles(risk: RiskLevel, settleSeconds: number, actionClass: string): Pick<AnyToolDefinition, "risk" | "settleSeconds" | "actionClass"> {
  return { risk, settleSeconds, actionClass };
}

/** Kubernetes' default rolling update takes out at most 25% of replicas at once (rounded down). */
const MAX_UNAVAILABLE = 0.25;

/** A rolling replacement of every pod of one workload. */
async function rollingImpact(env: EnvironmentAdapter, service: string): Promise<ToolImpact> {
  const replicas = (await env.describeWorkload(service)).deployment.desiredReplicas;
  const out = Math.floor(replicas * MAX_UNAVAILABLE);
  return { workloads: [service], replicasOutAtOnce: out, replicas, note: `rolling replacement, ${out} of ${replicas} pod(s) out at once (maxUnavailable 25%)` };
}

/** A change that replaces every pod of the deployment a call names, one rolling step at a time. */
const rollingChange = {
  target: deploymentOf,
  impact: (p: { service: string }, env: EnvironmentAdapter) => rollingImpact(env, p.service),
};

/** A change to one workload's object that takes no pod out of service. */
async function objectImpact(env: EnvironmentAdapter, service: string, what: string): Promise<ToolImpact> {
  const replicas = (await env.describeWorkload(service)).deployment.desiredReplicas;
  return { workloads: [service], replicasOutAtOnce: 0, replicas, note: `${what}; no pod restarted` };
}

const rolloutUndoParams = z.object({ service: Service, toRevision: Revision }).strict();
/** Medium risk: replaces every pod with an older template, which can be incompatible with today's data. */
const rolloutUndo: ToolDefinition<z.infer<typeof rolloutUndoParams>> = {
  name: "rollout_undo",
  description: "Roll a deployment back to an earlier revision (kubectl rollout undo --to-revision)",
  params: rolloutUndoParams,
  ...settles("medium", 180, "rollback"),
  ...rollingChange,
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    const history = await env.deployHistory(p.service);
    const target = history.find((r) => r.revision === p.toRevision);
    if (target === undefined) return { ok: false, reason: `${p.service} has no revision ${p.toRevision}; revisions: ${history.map((r) => r.revision).join(", ")}` };
    if (p.toRevision === w.deployment.currentRevision) return { ok: false, reason: `revision ${p.toRevision} is already the current revision of ${p.service}` };
    return { ok: true };
  },
  async captureBefore(p, env) {
    return { revision: (await env.describeWorkload(p.service)).deployment.currentRevision };
  },
  rollback: (p, before) => {
    const revision = (before as { revision?: number } | undefined)?.revision;
    return revision === undefined ? undefined : { tool: "rollout_undo", params: { service: p.service, toRevision: revision } };
  },
  run: (p, env, key) => env.rolloutUndo(p.service, p.toRevision, key),
};

const scaleParams = z.object({ service: Service, replicas: z.number().int().min(0).max(50, "expected at most 50 replicas") }).strict();
/** Medium risk: scaling down can drop capacity, scaling up costs money and can overload dependencies. */
const scaleDeployment: ToolDefinition<z.infer<typeof scaleParams>> = {
  name: "scale_deployment",
  description: "Set a deployment's replica count",
  params: scaleParams,
  // Long enough for new pods to serve and for callers' circuit breakers to close again.
  ...settles("medium", 180, "scale"),
  target: deploymentOf,
  async impact(p, env) {
    const replicas = (await env.describeWorkload(p.service)).deployment.desiredReplicas;
    const out = Math.max(0, replicas - p.replicas);
    return { workloads: [p.service], replicasOutAtOnce: out, replicas, note: `${replicas} → ${p.replicas} replicas${out > 0 ? `, ${out} removed` : ""}` };
  },
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    if (p.replicas === 0) return { ok: false, reason: `scaling ${p.service} to 0 would take it offline` };
    // An HPA owns the replica count: it would undo a direct scale (and the two would fight).
    if (w.autoscaler !== undefined)
      return {
        ok: false,
        reason: `HorizontalPodAutoscaler ${w.autoscaler.name} scales ${p.service} (${w.autoscaler.minReplicas}–${w.autoscaler.maxReplicas}); scaling it directly would be undone; set_autoscaler_min raises its minimum`,
      };
    const ceiling = Math.max(20, w.deployment.desiredReplicas * 10);
    if (p.replicas > ceiling) return { ok: false, reason: `${p.replicas} replicas exceeds ${ceiling} (10× the current ${w.deployment.desiredReplicas}, at least 20)` };
    if (p.replicas === w.deployment.desiredReplicas) return { ok: false, reason: `${p.service} already wants ${p.replicas} replicas` };
    return { ok: true };
  },
  ...revertibleSetting("scale_deployment", "replicas", "replicas", (w) => w.deployment.desiredReplicas),
  run: (p, env, key) => env.scale(p.service, p.replicas, key),
};

const autoscalerMinParams = z.object({ service: Service, minReplicas: z.number().int().min(1).max(50, "expected at most 50 replicas") }).strict();
/**
 * Medium risk, like a scale: the lever for a workload an HPA owns (a direct scale would be undone).
 * The HPA enforces its minimum even when it cannot read its metrics, so raising it adds pods then.
 */
const setAutoscalerMin: ToolDefinition<z.infer<typeof autoscalerMinParams>> = {
  name: "set_autoscaler_min",
  description: "Raise the minReplicas of the HorizontalPodAutoscaler that scales a deployment",
  params: autoscalerMinParams,
  ...settles("medium", 180, "scale"),
  target: deploymentOf,
  async impact(p, env) {
    const w = await env.describeWorkload(p.service);
    return { workloads: [p.service], replicasOutAtOnce: 0, replicas: w.deployment.desiredReplicas, note: `HPA minimum ${w.autoscaler?.minReplicas ?? "?"} → ${p.minReplicas}; no pod restarted` };
  },
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    const hpa = w.autoscaler;
    if (hpa === undefined) return { ok: false, reason: `no HorizontalPodAutoscaler scales ${p.service}; scale_deployment sets its replicas` };
    if (p.minReplicas > hpa.maxReplicas)
      return { ok: false, reason: `${p.minReplicas} is above HorizontalPodAutoscaler ${hpa.name}'s maximum of ${hpa.maxReplicas}; raising the maximum is a capacity decision for a human` };
    if (p.minReplicas <= Math.max(hpa.minReplicas, w.deployment.desiredReplicas))
      return { ok: false, reason: `${p.service} already runs ${w.deployment.desiredReplicas} replicas with a minimum of ${hpa.minReplicas}; a minimum of ${p.minReplicas} adds none` };
    return { ok: true };
  },
  async growth(p, env) {
    const w = await env.describeWorkload(p.service);
    return { dimension: "replicas", from: w.deployment.desiredReplicas, to: p.minReplicas };
  },
  async captureBefore(p, env) {
    return { minReplicas: (await env.describeWorkload(p.service)).autoscaler?.minReplicas };
  },
  rollback: (p, before) => {
    const value = (before as { minReplicas?: number } | undefined)?.minReplicas;
    return value === undefined ? undefined : { tool: "set_autoscaler_min", params: { service: p.service, minReplicas: value } };
  },
  run: (p, env, key) => env.setAutoscalerMin(p.service, p.minReplicas, key),
};

const serviceOnly = z.object({ service: Service }).strict();
/** Low risk: pods are replaced one way or another every deploy; loses only in-flight work. */
const restartPods: ToolDefinition<z.infer<typeof serviceOnly>> = {
  name: "restart_pods",
  description: "Restart every pod of a deployment (kubectl rollout restart)",
  params: serviceOnly,
  ...settles("low", 300, "restart"),
  ...rollingChange,
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    return isValidation(w) ? w : { ok: true };
  },
  run: (p, env, key) => env.restartPods(p.service, key),
};

const memoryParams = z.object({ service: Service, limitMib: z.number().int().min(64, "expected at least 64 MiB").max(16384, "expected at most 16384 MiB") }).strict();
/** Medium risk: a new limit rolls every pod and takes memory from the node's budget. */
const setMemoryLimit: ToolDefinition<z.infer<typeof memoryParams>> = {
  name: "set_memory_limit",
  description: "Set the memory limit of a deployment's containers (rolls the pods)",
  params: memoryParams,
  ...settles("medium", 300, "resources"),
  ...rollingChange,
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    const current = w.deployment.memoryLimitMib;
    if (p.limitMib <= current) return { ok: false, reason: `${p.limitMib} MiB does not raise the current ${current} MiB limit` };
    if (p.limitMib > current * 4) return { ok: false, reason: `${p.limitMib} MiB is more than 4× the current ${current} MiB limit` };
    return { ok: true };
  },
  ...revertibleSetting("set_memory_limit", "limitMib", "memoryMib", (w) => w.deployment.memoryLimitMib),
  run: (p, env, key) => env.setMemoryLimit(p.service, p.limitMib, key),
};

const portParams = z.object({ service: Service, targetPort: z.number().int().min(1).max(65535) }).strict();
/** Medium risk: a wrong port cuts all traffic to the workload at once. */
const patchServicePort: ToolDefinition<z.infer<typeof portParams>> = {
  name: "patch_service_port",
  description: "Set the targetPort of a workload's Kubernetes Service",
  params: portParams,
  // Callers' circuit breakers need a cool-down and a good trial before traffic flows again.
  ...settles("medium", 150, "service-config"),
  target: (p) => ({ service: p.service, resource: "service", name: p.service }),
  impact: (p, env) => objectImpact(env, p.service, `Service ${p.service} re-targeted`),
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    if (w.kubeService === undefined) return { ok: false, reason: `${p.service} has no Service` };
    if (p.targetPort !== w.deployment.containerPort) return { ok: false, reason: `${p.targetPort} is not the port ${p.service}'s containers listen on (${w.deployment.containerPort})` };
    if (w.kubeService.targetPort === p.targetPort) return { ok: false, reason: `Service ${p.service} already targets ${p.targetPort}` };
    return { ok: true };
  },
  async captureBefore(p, env) {
    return { targetPort: (await env.describeWorkload(p.service)).kubeService?.targetPort };
  },
  rollback: (p, before) => {
    const targetPort = (before as { targetPort?: number } | undefined)?.targetPort;
    return targetPort === undefined ? undefined : { tool: "patch_service_port", params: { service: p.service, targetPort } };
  },
  run: (p, env, key) => env.patchServiceTargetPort(p.service, p.targetPort, key),
};

/** A label key or value as a Service selector holds it. */
const Label = z.string().min(1).max(317);
const selectorParams = z
  .object({
    service: Service,
    kubeService: z.string().min(1).max(63),
    /** The selector to set; absent: the workload's own pod selector (spec.selector.matchLabels). */
    selector: z.record(Label, z.string().max(63)).optional(),
  })
  .strict();
/** The selector a call sets: the one it names, else the workload's own. */
function selectorToSet(p: z.infer<typeof selectorParams>, w: WorkloadDescription): Record<string, string> | undefined {
  return p.selector ?? w.selector;
}
const selectorText = (selector: Record<string, string> | undefined): string =>
  Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
/** Another workload whose pods a selector would pick (its own pod selector holds every label the selector asks for), if any. */
async function workloadSelectedBy(env: EnvironmentAdapter, selector: Record<string, string>, own: string): Promise<string | undefined> {
  for (const other of await env.listServices()) {
    if (other === own) continue;
    const labels = (await env.describeWorkload(other)).selector ?? {};
    if (Object.entries(selector).every(([k, v]) => labels[k] === v)) return other;
  }
  return undefined;
}

/** Medium risk: a Service's selector decides where all of its traffic goes. */
const setServiceSelector: ToolDefinition<z.infer<typeof selectorParams>> = {
  name: "set_service_selector",
  description: "Set a Kubernetes Service's selector back to the workload's pod selector (or to a given selector, as a rollback)",
  params: selectorParams,
  ...settles("medium", 150, "service-config"),
  target: (p) => ({ service: p.service, resource: "service", name: p.kubeService }),
  impact: (p, env) => objectImpact(env, p.service, `Service ${p.kubeService} re-pointed`),
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    const svc = (w.services ?? []).find((s) => s.name === p.kubeService);
    if (svc === undefined) return { ok: false, reason: `Service ${p.kubeService} is not in front of ${p.service}` };
    const selector = selectorToSet(p, w);
    if (selector === undefined || Object.keys(selector).length === 0) return { ok: false, reason: `${p.service} has no pod selector (matchLabels) to point Service ${p.kubeService} at` };
    if (selectorText(selector) === selectorText(svc.selector)) return { ok: false, reason: `Service ${p.kubeService} already selects ${selectorText(selector)}` };
    // Restoring the workload's own selector is the remediation; any other selector only undoes one.
    if (p.selector === undefined && w.pods.every((pod) => !pod.ready)) return { ok: false, reason: `none of ${p.service}'s pods is ready: pointing Service ${p.kubeService} at them would not help` };
    // A given selector (a rollback's) may never send the Service's traffic to another workload's pods.
    if (p.selector !== undefined) {
      const taken = await workloadSelectedBy(env, p.selector, p.service);
      if (taken !== undefined) return { ok: false, reason: `selector ${selectorText(p.selector)} would send Service ${p.kubeService}'s traffic to ${taken}'s pods; refused` };
    }
    return { ok: true };
  },
  async captureBefore(p, env) {
    const svc = ((await env.describeWorkload(p.service)).services ?? []).find((s) => s.name === p.kubeService);
    return { selector: svc?.selector };
  },
  rollback: (p, before) => {
    const selector = (before as { selector?: Record<string, string> } | undefined)?.selector;
    return selector === undefined || Object.keys(selector).length === 0 ? undefined : { tool: "set_service_selector", params: { service: p.service, kubeService: p.kubeService, selector } };
  },
  async run(p, env, key) {
    const selector = p.selector ?? (await env.describeWorkload(p.service)).selector;
    if (selector === undefined || Object.keys(selector).length === 0) throw new InvalidInputError(`${p.service} has no pod selector to point Service ${p.kubeService} at`);
    await env.setServiceSelector(p.service, p.kubeService, selector, key);
  },
};

const netpolParams = z.object({ service: Service, policy: z.string().min(1).max(253) }).strict();
/** High risk: network policies are security controls; removing one can expose a workload. */
const deleteNetworkPolicy: ToolDefinition<z.infer<typeof netpolParams>> = {
  name: "delete_network_policy",
  description: "Delete a NetworkPolicy that selects a workload",
  params: netpolParams,
  // Callers' circuit breakers need a cool-down and a good trial before traffic flows again.
  ...settles("high", 150, "network-policy"),
  target: (p) => ({ service: p.service, resource: "networkpolicy", name: p.policy }),
  async impact(p, env) {
    const w = await env.describeWorkload(p.service);
    const selected = w.networkPolicies.find((np) => np.name === p.policy)?.podSelector ?? p.service;
    const workloads = [...new Set([p.service, selected])];
    return { workloads, replicasOutAtOnce: 0, replicas: w.deployment.desiredReplicas, note: `NetworkPolicy ${p.policy} selects ${selected}; no pod restarted` };
  },
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    if (!w.networkPolicies.some((np) => np.name === p.policy)) {
      return { ok: false, reason: `no NetworkPolicy "${p.policy}" selects ${p.service}; policies: ${w.networkPolicies.map((np) => np.name).join(", ") || "none"}` };
    }
    return { ok: true };
  },
  async captureBefore(p, env) {
    return (await env.describeWorkload(p.service)).networkPolicies.find((np) => np.name === p.policy);
  },
  rollback: (p, before) => (before === undefined ? undefined : { tool: "restore_network_policy", params: { service: p.service, policy: before } }),
  run: (p, env, key) => env.deleteNetworkPolicy(p.policy, key),
};

const restoreParams = z
  .object({
    service: Service,
    policy: z
      .object({
        name: z.string().min(1),
        podSelector: z.string().min(1),
        allowIngressFrom: z.array(z.string()),
        createdAt: z.number(),
        managedBy: z.string().optional(),
        containment: z.string().optional(),
      })
      .strict(),
  })
  .strict();
/** High risk: it changes who may reach a workload; used to undo a deletion. */
const restoreNetworkPolicy: ToolDefinition<z.infer<typeof restoreParams>> = {
  name: "restore_network_policy",
  description: "Re-create a NetworkPolicy exactly as it was captured",
  params: restoreParams,
  ...settles("high", 150, "network-policy"),
  target: (p) => ({ service: p.service, resource: "networkpolicy", name: p.policy.name }),
  impact: (p, env) => objectImpact(env, p.service, `NetworkPolicy ${p.policy.name} re-created`),
  run: (p, env, key) => env.restoreNetworkPolicy(p.policy, key),
};

const configParams = z.object({ service: Service, configMap: z.string().min(1).max(253), toVersion: z.number().int().min(1) }).strict();
/** Medium risk: configuration changes every pod's behaviour at once. */
const revertConfigMap: ToolDefinition<z.infer<typeof configParams>> = {
  name: "revert_config_map",
  description: "Restore a config map's data to an earlier version",
  params: configParams,
  ...settles("medium", 120, "config-revert"),
  target: (p) => ({ service: p.service, resource: "configmap", name: p.configMap }),
  async impact(p, env) {
    const replicas = (await env.describeWorkload(p.service)).deployment.desiredReplicas;
    const mounting: string[] = [];
    for (const service of await env.listServices()) {
      const w = await env.describeWorkload(service).catch(() => undefined);
      if (w?.configMaps.some((c) => c.name === p.configMap)) mounting.push(service);
    }
    const workloads = [...new Set([p.service, ...mounting])];
    return { workloads, replicasOutAtOnce: 0, replicas, note: `config map ${p.configMap} is mounted by ${workloads.join(", ")}` };
  },
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    const cm = w.configMaps.find((c) => c.name === p.configMap);
    if (cm === undefined) return { ok: false, reason: `${p.service} mounts no config map "${p.configMap}"` };
    if (!cm.history.some((h) => h.version === p.toVersion)) return { ok: false, reason: `config map ${p.configMap} has no version ${p.toVersion}` };
    if (p.toVersion === cm.version) return { ok: false, reason: `version ${p.toVersion} is already current` };
    return { ok: true };
  },
  async captureBefore(p, env) {
    return { version: (await env.describeWorkload(p.service)).configMaps.find((c) => c.name === p.configMap)?.version };
  },
  rollback: (p, before) => {
    const version = (before as { version?: number } | undefined)?.version;
    return version === undefined ? undefined : { tool: "revert_config_map", params: { service: p.service, configMap: p.configMap, toVersion: version } };
  },
  run: (p, env, key) => env.revertConfigMap(p.configMap, p.toVersion, key),
};

const skipParams = z.object({ service: Service, topic: z.string().min(1), group: z.string().min(1), partition: z.number().int().min(0), offset: z.number().int().min(0) }).strict();
/** Medium risk: the message is not lost (it goes to the DLQ) but is not processed in order. */
const skipMessageToDlq: ToolDefinition<z.infer<typeof skipParams>> = {
  name: "skip_message_to_dlq",
  description: "Move the record at a consumer group's committed offset to the dead-letter topic and advance past it",
  params: skipParams,
  ...settles("medium", 180, "skip-message"),
  target: (p) => ({ service: p.service, resource: "consumergroup", name: `${p.group}@${p.topic}` }),
  impact: (p, env) => objectImpact(env, p.service, `one record of ${p.topic} moved to the DLQ`),
  async validateLive(p, env) {
    const groups = await env.consumerLag(p.service).catch(() => []);
    const g = groups.find((x) => x.topic === p.topic && x.group === p.group);
    if (g === undefined) return { ok: false, reason: `${p.service} has no consumer group ${p.group} on ${p.topic}` };
    if (g.dlqTopic === undefined) return { ok: false, reason: `${p.group} has no dead-letter topic; skipping would lose the record` };
    const part = g.partitions.find((x) => x.partition === p.partition);
    if (part === undefined) return { ok: false, reason: `${p.topic} has no partition ${p.partition}` };
    if (part.committedOffset !== p.offset) return { ok: false, reason: `offset ${p.offset} is not partition ${p.partition}'s committed offset ${part.committedOffset}` };
    return { ok: true };
  },
  run: (p, env, key) => env.skipMessageToDlq(p.topic, p.group, p.partition, p.offset, key),
};

const cleanParams = z.object({ service: Service, mount: z.string().min(1).startsWith("/", "expected an absolute mount path") }).strict();
/** Low risk: deletes rotated log files only, never live data. */
const cleanLogs: ToolDefinition<z.infer<typeof cleanParams>> = {
  name: "clean_logs",
  description: "Rotate, compress and delete old log files on a workload's volume, and re-enable rotation",
  params: cleanParams,
  ...settles("low", 120, "disk-cleanup"),
  target: (p) => ({ service: p.service, resource: "volume", name: p.mount }),
  impact: (p, env) => objectImpact(env, p.service, `old logs on ${p.mount} deleted`),
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    if (!w.disks.some((d) => d.mount === p.mount)) return { ok: false, reason: `${p.service} has no volume at ${p.mount}` };
    return { ok: true };
  },
  run: (p, env, key) => env.cleanLogs(p.service, p.mount, key),
};

const breakerParams = z.object({ service: Service, dependency: Service }).strict();
/** Low risk: a breaker re-opens by itself if the dependency is still failing. */
const resetCircuitBreaker: ToolDefinition<z.infer<typeof breakerParams>> = {
  name: "reset_circuit_breaker",
  description: "Close a caller's circuit breaker to one dependency",
  params: breakerParams,
  ...settles("low", 120, "circuit-breaker"),
  target: (p) => ({ service: p.service, resource: "circuitbreaker", name: p.dependency }),
  impact: (p, env) => objectImpact(env, p.service, `breaker to ${p.dependency} closed`),
  async validateLive(p, env) {
    const w = await workload(env, p.service);
    if (isValidation(w)) return w;
    if (!w.circuitBreakers.some((b) => b.to === p.dependency)) return { ok: false, reason: `${p.service} has no circuit breaker to ${p.dependency}` };
    return { ok: true };
  },
  run: (p, env, key) => env.resetCircuitBreaker(p.service, p.dependency, key),
};

/** Every remediation tool. */
export const REMEDIATION_TOOLS: AnyToolDefinition[] = [
  rolloutUndo,
  scaleDeployment,
  setAutoscalerMin,
  restartPods,
  setMemoryLimit,
  patchServicePort,
  setServiceSelector,
  deleteNetworkPolicy,
  restoreNetworkPolicy,
  revertConfigMap,
  skipMessageToDlq,
  cleanLogs,
  resetCircuitBreaker,
];
