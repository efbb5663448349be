import type { ManifestObject } from "./manifests.js";
import { APP_LABEL, ARCH_LABEL, appContainer, envMap, parseCpuCores, parseMemoryMib, type Deployment, type PodTemplate, type StatefulSet } from "./objects.js";

/**
 * Deployments and StatefulSets written in `environment.manifests`, as `kubectl get -o yaml` prints
 * them: each is a simulated workload. This module reads the fields the simulator needs from the
 * object (image, port, limits, env, architecture) and checks the object can run; the workload's
 * non-Kubernetes parts come from `environment.workloads`.
 */

/** Kinds in manifests that become simulated workloads. */
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet"] as const;

/** A Deployment or StatefulSet from manifests. */
export interface ManifestWorkload {
  kind: (typeof WORKLOAD_KINDS)[number];
  object: Deployment | StatefulSet;
}

/** What the simulator reads from a workload's object. */
export interface WorkloadFields {
  name: string;
  namespace: string;
  kind: ManifestWorkload["kind"];
  replicas: number;
  image: string;
  containerPort: number;
  memoryLimitMib: number;
  cpuLimitCores: number;
  env: Record<string, string>;
  nodeArchitecture: "amd64" | "arm64";
}

/** The Deployments and StatefulSets among parsed manifests, in document order. */
export function manifestWorkloads(manifests: ManifestObject[]): ManifestWorkload[] {
  return manifests.flatMap((m) => (m.kind === "Deployment" || m.kind === "StatefulSet" ? [{ kind: m.kind, object: m.object as Deployment | StatefulSet }] : []));
}

/** `Kind namespace/name` of a workload, as error messages name it. */
export function workloadLabel(w: ManifestWorkload): string {
  return `${w.kind} ${w.object.metadata.namespace ?? ""}/${w.object.metadata.name}`;
}

/**
 * The fields the simulator reads from a workload's object. Throws an Error naming the object and
 * the path of what is missing or wrong (no container, no image, labels its selector or the
 * simulator cannot find pods by).
 */
export function workloadFields(w: ManifestWorkload): WorkloadFields {
  const o = w.object;
  const where = workloadLabel(w);
  const name = o.metadata.name;
  const spec = (o as { spec?: Deployment["spec"] }).spec;
  const template = spec?.template;
  const containers = template?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) throw new Error(`${where}: spec.template.spec.containers: expected at least one container`);
  const c = appContainer(template!.spec);
  const index = c === undefined ? 0 : containers.indexOf(c);
  if (c === undefined || typeof c.image !== "string" || c.image === "") throw new Error(`${where}: spec.template.spec.containers[${index}].image: expected an image`);
  const labels = template?.metadata?.labels ?? {};
  if (labels[APP_LABEL] !== name) {
    throw new Error(`${where}: spec.template.metadata.labels: expected ${APP_LABEL}: ${name} (the simulator finds a workload's pods by this label, as \`kubectl create deployment\` sets it)`);
  }
  for (const [k, v] of Object.entries(spec?.selector?.matchLabels ?? {})) {
    if (labels[k] !== v) throw new Error(`${where}: spec.selector.matchLabels: ${k}=${v} does not match the template's labels`);
  }
  const port = c.ports?.[0]?.containerPort;
  const arch = template?.spec.nodeSelector?.[ARCH_LABEL];
  const replicas = spec?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0 || replicas > 50)) throw new Error(`${where}: spec.replicas: expected a whole number from 0 to 50`);
  if (arch !== undefined && arch !== "amd64" && arch !== "arm64") throw new Error(`${where}: spec.template.spec.nodeSelector: ${ARCH_LABEL} must be amd64 or arm64`);
  return {
    name,
    namespace: o.metadata.namespace ?? "default",
    kind: w.kind,
    replicas: replicas ?? 1,
    image: c.image,
    containerPort: typeof port === "number" ? port : 8080,
    memoryLimitMib: Math.round(parseMemoryMib(c.resources?.limits?.["memory"]) ?? 512),
    cpuLimitCores: parseCpuCores(c.resources?.limits?.["cpu"]) ?? 1,
    env: envMap(c),
    nodeArchitecture: arch ?? "amd64",
  };
}

/**
 * What the code in a manifest workload's image does when `workloads` does not say: it runs as its
 * template runs it (the command, every flag among its args, the probes' paths), so the workload
 * starts healthy, as it was when `kubectl get` printed it.
 */
export function imageBehaviourFromTemplate(template: PodTemplate): { entrypoints: string[]; flags: string[]; httpPaths: string[]; needsClusterDns: boolean } {
  const c = appContainer(template.spec);
  const flags = new Set(["listen"]);
  for (const a of c?.args ?? []) {
    const m = /^--?([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(a);
    if (m?.[1] !== undefined) flags.add(m[1]);
  }
  const paths = new Set(["/healthz/ready", "/healthz/live", "/metrics"]);
  for (const p of [c?.readinessProbe, c?.livenessProbe, c?.startupProbe]) if (p?.httpGet?.path !== undefined) paths.add(p.httpGet.path);
  return { entrypoints: c?.command?.[0] !== undefined ? [c.command[0]] : ["/app/server"], flags: [...flags], httpPaths: [...paths], needsClusterDns: true };
}
