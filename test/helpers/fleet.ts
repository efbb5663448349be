import { writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";

/** A one-service world whose latest rollout ships an image tag that does not exist. */
export function badRolloutWorld(name: string, namespace: string, service = "api", seed = 7): Record<string, unknown> {
  return {
    name,
    namespace,
    advanceToMinutes: 0,
    environment: {
      seed,
      historyMinutes: 30,
      tickSeconds: 60,
      services: [
        {
          name: service,
          replicas: 3,
          image: `registry.internal/${service}:2.3.1`,
          revisions: [{ image: `registry.internal/${service}:2.2.0`, deployedAtMinutes: -20160 }],
        },
      ],
      faults: [{ kind: "bad-rollout", service, atMinutes: -12, params: { variant: "missing-image", version: "2.4.0" } }],
    },
  };
}

/** Writes a fleet file with these worlds into `dir`; returns its path. */
export async function writeFleet(dir: string, worlds: Array<Record<string, unknown>>): Promise<string> {
  const file = path.join(dir, "fleet.yaml");
  await writeFile(file, stringify({ worlds }));
  return file;
}

/** An Alertmanager v4 webhook body for one alert on a workload. */
export function alertmanagerBody(input: { alertname: string; service: string; namespace: string; status?: "firing" | "resolved"; extraAlerts?: number }): Record<string, unknown> {
  const status = input.status ?? "firing";
  const labels = { alertname: input.alertname, service: input.service, namespace: input.namespace, severity: "warning" };
  return {
    version: "4",
    groupKey: `{}:{alertname="${input.alertname}"}`,
    truncatedAlerts: 0,
    status,
    receiver: "suture",
    groupLabels: { alertname: input.alertname },
    commonLabels: labels,
    commonAnnotations: { summary: `${input.alertname} on ${input.service}` },
    externalURL: "http://alertmanager.example:9093",
    alerts: [
      {
        status,
        labels,
        annotations: { description: `Pods of ${input.namespace}/${input.service} are not ready` },
        startsAt: "2026-11-23T10:00:00Z",
        endsAt: status === "resolved" ? "2026-11-23T10:20:00Z" : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.example:9090/graph?g0.expr=kube_pod_status_ready",
        fingerprint: `fp-${input.namespace}-${input.service}-${input.alertname}`.slice(0, 60),
      },
    ],
  };
}

/** A PagerDuty Events API v2 trigger/resolve for a workload. */
export function pagerDutyBody(input: { action: "trigger" | "acknowledge" | "resolve"; dedupKey: string; service: string; namespace: string; summary?: string }): Record<string, unknown> {
  return {
    routing_key: "R0123456789ABCDEF0123456789ABCDE",
    event_action: input.action,
    dedup_key: input.dedupKey,
    ...(input.action === "trigger"
      ? {
          payload: {
            summary: input.summary ?? `${input.service} pods not ready`,
            source: `${input.service}.${input.namespace}.svc`,
            severity: "error",
            timestamp: "2026-11-23T10:00:00.000+0000".replace("+0000", "+00:00"),
            component: input.service,
            group: input.namespace,
            class: "KubePodNotReady",
            custom_details: { namespace: input.namespace, alertname: "KubePodNotReady", ready: "1/4" },
          },
        }
      : {}),
  };
}

/** POSTs JSON (or raw text) and returns status and parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { raw: text } };
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
