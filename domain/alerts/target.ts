import { z } from "zod";

/**
 * What an alert is about, as its labels name it. Workload kinds are acted on; the others are
 * either looked up to the workload behind them (a pod's owner, an HPA's scale target, the pods
 * mounting a PVC, a Service's pods, the workload carrying an `app` label, the consumer of a Kafka
 * group) or are things Suture observes but does not change (nodes, jobs, quotas).
 */
export const TARGET_KINDS = [
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  /** A workload named without its kind (Suture's own `service` label, a PagerDuty component): the Deployment, StatefulSet or DaemonSet of that name. */
  "Workload",
  "Pod",
  "HorizontalPodAutoscaler",
  "PersistentVolumeClaim",
  "Service",
  /** The workload behind the one Service an Ingress routes to. */
  "Ingress",
  /** A public URL a probe checked: the Ingress whose rule serves its host, the Service its path routes to, the workload behind that. */
  "IngressHost",
  /** The workload whose pod template carries the label `app` (or `app.kubernetes.io/name`) with this value. */
  "AppLabel",
  "ConsumerGroup",
  "Job",
  "CronJob",
  "ResourceQuota",
  "Node",
  /** The cluster as a whole: an alert whose labels name no object (KubeCPUOvercommit, KubeVersionMismatch, Watchdog). */
  "Cluster",
] as const;

/** A kind from {@link TARGET_KINDS}. */
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Kinds Suture acts on directly. */
export const WORKLOAD_TARGET_KINDS: readonly TargetKind[] = ["Deployment", "StatefulSet", "DaemonSet", "Workload"];

/** Kinds that need a lookup in the environment before the incident has a workload. */
export const LOOKUP_TARGET_KINDS: readonly TargetKind[] = ["Pod", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "Service", "Ingress", "IngressHost", "AppLabel", "ConsumerGroup"];

/** An alert's target: what it names, where, and from which labels; `reason` says why it is unresolved. */
export const AlertTargetSchema = z.object({
  state: z.enum(["resolved", "lookup", "unresolved"]),
  kind: z.enum(TARGET_KINDS).optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  /** Secondary identifiers: the container of a pod, the topic of a consumer group. */
  container: z.string().optional(),
  topic: z.string().optional(),
  /** The path of a probed URL (`/v1/passes/health`), for an `IngressHost` target. */
  path: z.string().optional(),
  /** The labels (or fields) the target was read from, e.g. `namespace+pod`, or `mapping #2`. */
  via: z.string(),
  /** For a looked-up target: what it was looked up from (`Pod shop/checkout-7d9f-x2k4p`). */
  from: z.string().optional(),
  reason: z.string().optional(),
});

/** Where an alert points. */
export type AlertTarget = z.infer<typeof AlertTargetSchema>;

/**
 * A looked-up target resolved to the workload `ref`, found through `from`: the labels it was read
 * from, its container and a probed URL's path travel with it.
 */
export function resolvedToWorkload(target: AlertTarget, ref: { kind: "Deployment" | "StatefulSet" | "DaemonSet"; namespace: string; name: string }, from: string): AlertTarget {
  return {
    state: "resolved",
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
    via: target.via,
    from,
    ...(target.container !== undefined ? { container: target.container } : {}),
    ...(target.path !== undefined ? { path: target.path } : {}),
  };
}

/** One explicit mapping rule: labels to match, and the target to build from them. */
export const TargetMappingRuleSchema = z
  .object({
    /** Every label must equal this value, or match it as an anchored regex when written `~<regex>`. */
    match: z.record(z.string().min(1), z.string()).refine((m) => Object.keys(m).length > 0, "expected at least one label to match"),
    kind: z.enum(TARGET_KINDS),
    /** A literal, or `{label}` placeholders filled from the alert's labels. */
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
  })
  .strict();

/** The explicit label mapping of a configuration (`SUTURE_ALERT_TARGETS`); the first matching rule wins. */
export const TargetMappingSchema = z.object({ targets: z.array(TargetMappingRuleSchema).max(1000) }).strict();

/** A validated mapping. */
export type TargetMapping = z.infer<typeof TargetMappingSchema>;

/**
 * Scrapers whose series carry the subject's namespace/pod/container labels (kube-state-metrics
 * exports them; cAdvisor and the kubelet's volume stats describe the pods they run). Their own
 * `job`, `service`, `instance` and `endpoint` labels describe the scraper.
 */
const SUBJECT_LABELLING_SCRAPERS = /^(kube-state-metrics|kubelet|cadvisor|kube-prometheus-stack-kube-state-metrics|.*-kube-state-metrics)$/;
/**
 * Exporters whose target labels (namespace, pod, service, container, job, instance) are their own:
 * node-exporter, kafka-exporter, blackbox and the other `*-exporter`s. The subject is only in the
 * labels they export (node/instance for node-exporter, consumergroup/topic for Kafka).
 */
const SELF_LABELLING_SCRAPERS = /(^|[-_/])(node-exporter|kafka[-_]?exporter|blackbox[-_]?exporter|[a-z0-9]+[-_]exporter)$|^(node|kafka|blackbox)$/;
/**
 * Ingress controllers' own metrics (ingress-nginx, Traefik, Contour, HAProxy): their target labels
 * (`pod`, `service`, `instance`, `container`) are the controller's; the subject is the backend
 * Service they export (`exported_service`, or `service` when the scrape honoured their labels) or
 * the Ingress (`ingress`), in the Ingress's namespace (`exported_namespace`, else `namespace`).
 */
const INGRESS_CONTROLLER_JOBS = /ingress-nginx|nginx-ingress|ingress-controller|(^|[-_/])(traefik|contour|haproxy-ingress)([-_]|$)/;

/**
 * Blackbox probes, however their job is named (`blackbox`, `blackbox-http`, `blackbox_icmp`, the
 * operator's `probe/<namespace>/<name>`): the `instance` is the probed target, every other target
 * label is the exporter's.
 */
const PROBE_JOBS = /blackbox|^probe\//;
/** A probed target as the blackbox exporter's `instance` carries it: a URL with a scheme. */
const PROBED_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Kubernetes object names and namespaces: what a label must look like to name one. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type Labels = Readonly<Record<string, string>>;

function present(labels: Labels, key: string): string | undefined {
  const v = labels[key];
  return v !== undefined && v !== "" ? v : undefined;
}

/** `namespace` as the subject's: the exporter-renamed `exported_namespace` wins when a scrape config kept the target's own. */
function subjectLabel(labels: Labels, key: string): string | undefined {
  return present(labels, `exported_${key}`) ?? present(labels, key);
}

function unresolved(via: string, reason: string): AlertTarget {
  return { state: "unresolved", via, reason };
}

/** A target of `kind` named by `labels[key]`, checked to be a Kubernetes name. */
function named(kind: TargetKind, namespace: string | undefined, name: string, via: string, extra: Partial<AlertTarget> = {}): AlertTarget {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return unresolved(via, `label ${via.split("+").pop() ?? via}="${clip(name)}" is not a Kubernetes object name`);
  }
  const namespaced = kind !== "Node" && kind !== "ConsumerGroup";
  if (namespaced && namespace === undefined) {
    // Looked up by name in the namespaces Suture handles; found in none or several, it stays unresolved with this reason.
    return { state: "lookup", kind, name, via, reason: `the alert names ${kind} "${name}" but carries no namespace label`, ...extra };
  }
  if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    return unresolved(via, `label namespace="${clip(namespace)}" is not a Kubernetes namespace name`);
  }
  const state = LOOKUP_TARGET_KINDS.includes(kind) ? "lookup" : "resolved";
  return { state, kind, name, via, ...(namespace !== undefined && namespaced ? { namespace } : {}), ...extra };
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** `10.0.3.17:9100` → `10.0.3.17`; a node name stays as it is. */
function hostOf(instance: string): string {
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(instance);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const colon = instance.lastIndexOf(":");
  return colon > 0 && instance.indexOf(":") === colon ? instance.slice(0, colon) : instance;
}

function matches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (!pattern.startsWith("~")) return pattern === value;
  try {
    return new RegExp(`^(?:${pattern.slice(1)})$`).test(value);
  } catch {
    return false;
  }
}

/** Fills `{label}` placeholders; undefined when a placeholder's label is missing. */
function fill(template: string, labels: Labels): string | undefined {
  let missing = false;
  const out = template.replace(/\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g, (_, key: string) => {
    const v = present(labels, key);
    if (v === undefined) missing = true;
    return v ?? "";
  });
  return missing ? undefined : out;
}

function fromMapping(labels: Labels, mapping: TargetMapping | undefined): AlertTarget | undefined {
  for (const [i, rule] of (mapping?.targets ?? []).entries()) {
    if (!Object.entries(rule.match).every(([k, v]) => matches(v, labels[k]))) continue;
    const via = `SUTURE_ALERT_TARGETS rule #${i + 1}`;
    const name = fill(rule.name, labels);
    const namespace = rule.namespace !== undefined ? fill(rule.namespace, labels) : subjectLabel(labels, "namespace");
    if (name === undefined) return unresolved(via, `${via} matched, but its name "${rule.name}" uses a label the alert does not carry`);
    if (rule.namespace !== undefined && namespace === undefined) return unresolved(via, `${via} matched, but its namespace "${rule.namespace}" uses a label the alert does not carry`);
    return named(rule.kind, namespace, name, via);
  }
  return undefined;
}

/**
 * The Service a cluster-internal URL or host names: `<service>.<namespace>.svc[.<cluster domain>]`
 * (with any scheme, port and path); undefined for anything else (an external host, an address).
 */
export function clusterServiceOf(instance: string): { name: string; namespace: string } | undefined {
  const host = instance.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split(/[/:?#]/)[0] ?? "";
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.[a-z0-9.-]+)?\.?$/.exec(host.toLowerCase());
  return m?.[1] !== undefined && m[3] !== undefined ? { name: m[1], namespace: m[3] } : undefined;
}

/** The host and path of a probed http(s) URL whose host is a DNS name (not an address); undefined for anything else. */
function publicUrlOf(instance: string): { host: string; path: string } | undefined {
  const m = /^https?:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::\d+)?(\/[^?#]*)?/i.exec(instance);
  const host = m?.[1]?.toLowerCase();
  if (host === undefined || !host.includes(".") || /^[0-9.]+$/.test(host)) return undefined;
  return { host, path: m?.[3] ?? "/" };
}

/** The label keys a target was read from, present in the alert. */
function via(labels: Labels, ...keys: string[]): string {
  return keys.map((k) => (present(labels, `exported_${k}`) !== undefined ? `exported_${k}` : k)).join("+");
}

/**
 * Whether the `pod` label is the scraper's own: kube-state-metrics' series about a node, a PDB or a
 * quota carry no pod of their own, and a scrape config that adds the target's labels then names the
 * kube-state-metrics pod itself (its Service's name, or its container's, followed by the pod hash).
 */
function scrapersOwnPod(labels: Labels): boolean {
  const pod = present(labels, "pod");
  if (pod === undefined || present(labels, "exported_pod") !== undefined) return false;
  const scraper = [present(labels, "service"), present(labels, "container")].filter((n): n is string => n !== undefined && /kube-state-metrics/.test(n));
  return scraper.some((name) => pod.startsWith(`${name}-`)) || /(^|-)kube-state-metrics-[a-z0-9]+-[a-z0-9]+$/.test(pod);
}

/**
 * The Service a database exporter's `server` label names (`orders-pg:5432`, `orders-pg.shop.svc:5432`,
 * `postgresql://orders-pg:5432/db`): a cluster-internal name, or a bare host in the namespace the
 * exporter runs in (where its DNS search path would find it); undefined for an address or an outside host.
 */
function serverService(labels: Labels): { name: string; namespace: string | undefined } | undefined {
  const server = present(labels, "server");
  if (server === undefined) return undefined;
  const inCluster = clusterServiceOf(server);
  if (inCluster !== undefined) return inCluster;
  const host =
    server
      .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
      .replace(/^[^@/]*@/, "")
      .split(/[/:?#]/)[0] ?? "";
  const namespace = present(labels, "namespace");
  return DNS_LABEL.test(host) && !/^[0-9]+$/.test(host) && namespace !== undefined ? { name: host, namespace } : undefined;
}

/** Exporters that run apart from what they describe: one per node, or one per cluster of brokers. */
const STANDALONE_EXPORTERS = /node|kafka|blackbox|kube-state|cadvisor|kubelet/;

/**
 * The pod a database or cache exporter runs in as a sidecar (postgres-exporter beside Postgres in
 * `orders-pg-0`, redis-exporter beside `session-cache-0`): the scrape target's `pod` is then the
 * subject's own pod. Only when that pod is not the exporter's own (its name neither carries
 * "exporter" nor the job's name), and never for exporters that run apart by design.
 */
function sidecarExportersPod(labels: Labels, job: string | undefined): string | undefined {
  const pod = present(labels, "pod");
  if (pod === undefined || job === undefined || STANDALONE_EXPORTERS.test(job) || present(labels, "namespace") === undefined) return undefined;
  const jobName = job.slice(job.indexOf("/") + 1);
  if (/exporter|metrics/.test(pod) || pod.startsWith(jobName)) return undefined;
  return pod;
}

/**
 * The target an alert's labels name, following kube-prometheus-stack and exporter conventions:
 * an explicit mapping first; then the subject labels kube-state-metrics and the kubelet export
 * (deployment, statefulset, daemonset, horizontalpodautoscaler, job_name, cronjob,
 * persistentvolumeclaim, resourcequota, pod with container, node); then what exporters describe
 * (node-exporter's instance, Kafka's consumergroup and topic); then, for an application's own
 * metrics, its `service` (or a Sloth SLO's `sloth_service`), `app` or `job`. Labels describing the scraper (`job`, `service`,
 * `instance`, `endpoint` of kube-state-metrics or the kubelet; every target label of a
 * self-labelling exporter) are never taken for the subject. A missing namespace is never filled
 * in: the target is then unresolved, with the reason.
 */
export function targetFromLabels(labels: Labels, mapping?: TargetMapping): AlertTarget {
  const mapped = fromMapping(labels, mapping);
  if (mapped !== undefined) return mapped;
  const job = present(labels, "job");
  const probe = (job !== undefined && PROBE_JOBS.test(job)) || (present(labels, "module") !== undefined && PROBED_URL.test(present(labels, "instance") ?? ""));
  const selfLabelling = probe || (job !== undefined && SELF_LABELLING_SCRAPERS.test(job) && !SUBJECT_LABELLING_SCRAPERS.test(job));
  const subjectLabelling = job !== undefined && SUBJECT_LABELLING_SCRAPERS.test(job);
  // An ingress controller's series (its job, or the `ingress` label its metrics carry whatever the job is called).
  const controllerJob = job !== undefined && INGRESS_CONTROLLER_JOBS.test(job);
  if (controllerJob || present(labels, "ingress") !== undefined) {
    const ingressTarget = ingressControllerSubject(labels, controllerJob);
    if (ingressTarget !== undefined) return ingressTarget;
  }
  // A self-labelling exporter's namespace is the exporter's own, unless the series exported one.
  const namespace = selfLabelling ? present(labels, "exported_namespace") : subjectLabel(labels, "namespace");

  const workloadLabels: Array<[string, TargetKind]> = [
    ["deployment", "Deployment"],
    ["statefulset", "StatefulSet"],
    ["daemonset", "DaemonSet"],
    ["horizontalpodautoscaler", "HorizontalPodAutoscaler"],
    ["cronjob", "CronJob"],
    ["job_name", "Job"],
    ["persistentvolumeclaim", "PersistentVolumeClaim"],
  ];
  for (const [key, kind] of workloadLabels) {
    const name = subjectLabel(labels, key);
    if (name !== undefined) return named(kind, namespace, name, via(labels, "namespace", key));
  }
  const pod = selfLabelling || scrapersOwnPod(labels) ? present(labels, "exported_pod") : subjectLabel(labels, "pod");
  if (pod !== undefined) {
    const container = selfLabelling ? present(labels, "exported_container") : subjectLabel(labels, "container");
    return named("Pod", namespace, pod, via(labels, "namespace", "pod"), container !== undefined ? { container } : {});
  }
  // A multi-target database exporter names the server it scraped (postgres_exporter's `server`):
  // a bare host resolves like DNS would from the exporter, in its own namespace.
  const server = selfLabelling && !probe ? serverService(labels) : undefined;
  if (server !== undefined) return named("Service", server.namespace, server.name, "server", { from: `label server="${clip(present(labels, "server") ?? "")}"` });
  const sidecarOf = selfLabelling && !probe ? sidecarExportersPod(labels, job) : undefined;
  if (sidecarOf !== undefined) {
    return named("Pod", present(labels, "namespace"), sidecarOf, via(labels, "namespace", "pod"), { from: `pod ${sidecarOf}: ${job ?? "the exporter"} runs beside what it exports` });
  }
  const quota = present(labels, "resourcequota");
  if (quota !== undefined) return named("ResourceQuota", namespace, quota, via(labels, "namespace", "resourcequota"));
  const group = present(labels, "consumergroup") ?? present(labels, "group");
  if (group !== undefined && (present(labels, "topic") !== undefined || present(labels, "consumergroup") !== undefined)) {
    const topic = present(labels, "topic");
    return named("ConsumerGroup", undefined, group, present(labels, "consumergroup") !== undefined ? "consumergroup" : "group", topic !== undefined ? { topic } : {});
  }
  // A message queue (RabbitMQ exporter's `queue`, with its `vhost`): looked up like a consumer group, by the workload that consumes it.
  const queue = present(labels, "queue");
  if (queue !== undefined && (present(labels, "vhost") !== undefined || selfLabelling)) return named("ConsumerGroup", undefined, queue, "queue");
  const node = present(labels, "node") ?? present(labels, "kubernetes_node");
  if (node !== undefined) return named("Node", undefined, node, present(labels, "node") !== undefined ? "node" : "kubernetes_node");
  // A blackbox probe's instance is the probed URL: a cluster-internal host names a Service.
  const probed = probe ? clusterServiceOf(present(labels, "instance") ?? "") : undefined;
  if (probed !== undefined) return named("Service", probed.namespace, probed.name, "instance", { from: `probed URL host ${probed.name}.${probed.namespace}.svc` });
  // A public URL: whatever Ingress serves its host (looked up; without one it stays unresolved).
  const url = probe ? publicUrlOf(present(labels, "instance") ?? "") : undefined;
  if (url !== undefined) {
    return named("IngressHost", undefined, url.host, "instance", {
      path: url.path,
      from: `probed URL ${clip(present(labels, "instance") ?? "")}`,
      reason: `the probed URL ${clip(`${url.host}${url.path}`)} is served by an Ingress rule for its host`,
    });
  }
  if (selfLabelling && job !== undefined && /node/.test(job) && present(labels, "instance") !== undefined) {
    return named("Node", undefined, hostOf(present(labels, "instance") ?? ""), "instance");
  }
  if (subjectLabelling) {
    // kube-state-metrics' and the kubelet's series always carry their subject's labels: one that
    // kept none was aggregated across the cluster (sum of requests over allocatable…).
    return cluster(
      "labels",
      `the alert comes from ${job ?? "kube-state-metrics"}, whose job/service/instance labels describe the scraper, and names no subject (no deployment, statefulset, daemonset, pod, persistentvolumeclaim, node… label): it is read as about the cluster as a whole`,
    );
  }
  if (selfLabelling) {
    return unresolved(
      "labels",
      `the alert comes from ${job ?? "an exporter"}, whose job/service/instance labels describe the scraper, and names no subject (no deployment, statefulset, daemonset, pod, horizontalpodautoscaler, persistentvolumeclaim, job_name, node, consumergroup label); map it in SUTURE_ALERT_TARGETS`,
    );
  }
  // An application's own metrics: the scrape target is the subject. A series that carried its own
  // `service` (ingress-nginx's backend, a mesh's destination) keeps it as `exported_service`.
  const service = subjectLabel(labels, "service");
  if (service !== undefined) {
    const key = present(labels, "exported_service") !== undefined ? "exported_service" : "service";
    return named("Workload", namespace, service, via(labels, "namespace", "service"), { from: `label ${key}="${service}"` });
  }
  // SLO alerts generated by Sloth name the SLO's service in `sloth_service` (and carry no scrape labels).
  const sloService = present(labels, "sloth_service");
  if (sloService !== undefined) return named("Workload", namespace, sloService, via(labels, "namespace", "sloth_service"), { from: `label sloth_service="${sloService}"` });
  for (const key of ["app_kubernetes_io_name", "app_kubernetes_io_instance", "app", "k8s_app"]) {
    const app = present(labels, key);
    if (app !== undefined) return named("AppLabel", namespace, app, via(labels, "namespace", key));
  }
  if (job !== undefined) {
    // PodMonitors and ServiceMonitors name jobs `<namespace>/<name>` or `<name>`.
    const slash = job.indexOf("/");
    const jobNamespace = slash > 0 ? job.slice(0, slash) : namespace;
    return named("Workload", jobNamespace, slash > 0 ? job.slice(slash + 1) : job, via(labels, ...(slash > 0 ? [] : ["namespace"]), "job"));
  }
  if (present(labels, "container") !== undefined) {
    return unresolved(
      "container",
      `label container="${clip(present(labels, "container") ?? "")}" without a pod: a container name does not identify a workload; add the pod or deployment label, or map it in SUTURE_ALERT_TARGETS`,
    );
  }
  const noObject = "no label names a workload, pod, node or other Kubernetes object (expected e.g. namespace with deployment, statefulset, daemonset or pod; map it in SUTURE_ALERT_TARGETS)";
  // A namespace of its own (not the namespace of the Prometheus that evaluated the rule) scopes the alert to something in it that no label names.
  const ruleNamespace = present(labels, "prometheus")?.split("/")[0];
  if (namespace !== undefined && namespace !== ruleNamespace) return unresolved("labels", `${noObject}; it names namespace ${namespace} but nothing in it`);
  return cluster("labels", `${noObject}: it is read as about the cluster as a whole`);
}

/**
 * The subject of an ingress controller's series: the backend Service it exported, else the
 * Ingress; undefined when it names neither. Scraped as the controller's own job, a `service` label
 * is the controller's Service; without that job, it is the series' own (ingress-nginx's backend).
 */
function ingressControllerSubject(labels: Labels, controllerJob: boolean): AlertTarget | undefined {
  const namespace = present(labels, "exported_namespace") ?? present(labels, "namespace");
  const key = present(labels, "exported_service") !== undefined ? "exported_service" : controllerJob ? undefined : "service";
  const backend = key !== undefined ? present(labels, key) : undefined;
  if (key !== undefined && backend !== undefined) return named("Workload", namespace, backend, via(labels, "namespace", key), { from: `label ${key}="${backend}"` });
  const ingress = present(labels, "ingress");
  if (ingress !== undefined) return named("Ingress", namespace, ingress, via(labels, "namespace", "ingress"));
  return undefined;
}

/** An alert about the cluster as a whole: read (its nodes, the pods nothing could place) and diagnosed, never acted on. */
function cluster(via: string, reason: string): AlertTarget {
  return { state: "resolved", kind: "Cluster", via, reason };
}

/** The characters Kubernetes uses for generated name suffixes and pod-template hashes (no vowels, no 0, 1 or 3). */
const GENERATED = "[bcdfghjklmnpqrstvwxz2456789]";
const REPLICA_SET_POD = new RegExp(`^(.+)-${GENERATED}{5}$`);
const DEPLOYMENT_POD = new RegExp(`^(.+)-${GENERATED}{6,10}-${GENERATED}{5}$`);
const STATEFUL_SET_POD = /^(.+)-(0|[1-9][0-9]{0,4})$/;

/**
 * The owners a pod's name says it had, by Kubernetes' naming: a ReplicaSet's or DaemonSet's pod
 * is its owner's name plus a 5-character suffix, a ReplicaSet of a Deployment is the
 * Deployment's name plus its pod-template hash, a StatefulSet's pod is its name plus an ordinal.
 * For a pod that no longer exists (replaced since the alert fired): each candidate must still be
 * looked up, and only one that exists counts.
 */
export function ownersByPodName(pod: string): { replicaSet?: string; deployment?: string; daemonSet?: string; statefulSet?: string } {
  const replicaSet = REPLICA_SET_POD.exec(pod)?.[1];
  const deployment = DEPLOYMENT_POD.exec(pod)?.[1];
  const statefulSet = STATEFUL_SET_POD.exec(pod)?.[1];
  return {
    ...(replicaSet !== undefined ? { replicaSet, daemonSet: replicaSet } : {}),
    ...(deployment !== undefined ? { deployment } : {}),
    ...(statefulSet !== undefined ? { statefulSet } : {}),
  };
}

/** One line saying what a target is: `Deployment shop/checkout`, `Node ip-10-0-3-17`, or why it is unresolved. */
export function describeTarget(target: AlertTarget): string {
  if (target.state === "unresolved") return `unresolved (${target.reason ?? "no reason recorded"})`;
  if (target.kind === "Cluster") return "the cluster as a whole";
  const where = target.namespace !== undefined ? `${target.namespace}/${target.name ?? ""}` : (target.name ?? "");
  return `${target.kind ?? "object"} ${where}${target.topic !== undefined ? ` (topic ${target.topic})` : ""}`;
}

/**
 * Why an incident on this target cannot run on a workload (escalated with this reason), or
 * undefined when the target is a resolved workload (or absent: an alert stored before targets
 * existed names its workload in `service`).
 */
export function targetEscalation(target: AlertTarget | undefined): string | undefined {
  if (target === undefined) return undefined;
  if (target.state === "unresolved") return `the alert's target could not be resolved: ${target.reason ?? "no reason given"}; nothing was observed or changed`;
  if (target.state === "lookup")
    return `the alert's target ${describeTarget({ ...target, state: "resolved" })} was never looked up (${target.reason ?? "it needs a lookup"}); nothing was observed or changed`;
  if (target.kind === undefined || !WORKLOAD_TARGET_KINDS.includes(target.kind)) {
    const detail = target.reason !== undefined ? ` (${target.reason})` : "";
    return `the alert is about ${describeTarget(target)}${detail}, not a workload: Suture acts on Deployments, StatefulSets and DaemonSets, so nothing was changed; a human should look at it`;
  }
  return undefined;
}
