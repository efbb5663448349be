import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveIncidentTarget } from "../../app/alert-targets.js";
import { parseAlertmanagerWebhook, type Alert } from "../../domain/alerts/alert.js";
import { parsePagerDutyEvent } from "../../domain/alerts/pagerduty.js";
import { parseGenericAlert } from "../../domain/alerts/generic.js";
import { targetEscalation, type TargetMapping } from "../../domain/alerts/target.js";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { startClusterApiServer, type ClusterApiServer } from "../../environments/cluster-api/server.js";
import { KubernetesEnvironment } from "../../environments/kubernetes/kubernetes-environment.js";
import { shippedRules, SUTURE_USER } from "./cluster.js";

/** Target labels kube-prometheus' scrape configs add to every kube-state-metrics series (they describe the scraper). */
const KSM = { job: "kube-state-metrics", service: "kube-prometheus-stack-kube-state-metrics", instance: "10.0.9.9:8080", endpoint: "http", prometheus: "monitoring/k8s" };
/** The kubelet's (cAdvisor, volume stats) scraper labels. */
const KUBELET = { job: "kubelet", service: "kube-prometheus-stack-kubelet", instance: "10.0.3.17:10250", endpoint: "https-metrics", metrics_path: "/metrics/cadvisor", node: "ip-10-0-3-17" };
/** node-exporter's and kafka-exporter's own target labels: their namespace/pod/service are the exporter's. */
const NODE_EXPORTER = { job: "node-exporter", namespace: "monitoring", pod: "node-exporter-7xk2p", service: "node-exporter", container: "node-exporter", endpoint: "https" };
const KAFKA_EXPORTER = { job: "kafka-exporter", namespace: "monitoring", pod: "kafka-exporter-5c9d7-k2p4x", service: "kafka-exporter", instance: "10.0.7.2:9308" };

/** An explicit mapping for a custom alert. */
const MAPPING: TargetMapping = { targets: [{ match: { alertname: "PaymentsQueueBacklog" }, kind: "Deployment", namespace: "payments", name: "{queue}" }] };

type Expected = { workload: string } | { escalated: RegExp };

/** Alerts as the kube-prometheus-stack and exporter rules label them, and where each must lead. */
const CASES: Array<{ alert: string; labels: Record<string, string>; expected: Expected }> = [
  {
    alert: "KubePodCrashLooping",
    labels: { namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p", container: "app", reason: "CrashLoopBackOff", ...KSM },
    expected: { workload: "Deployment shop/checkout" },
  },
  { alert: "KubePodNotReady", labels: { namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p" }, expected: { workload: "Deployment shop/checkout" } },
  { alert: "KubeDeploymentReplicasMismatch", labels: { namespace: "shop", deployment: "checkout", ...KSM }, expected: { workload: "Deployment shop/checkout" } },
  { alert: "KubeContainerWaiting", labels: { namespace: "payments", pod: "ledger-0", container: "ledger", reason: "ImagePullBackOff", ...KSM }, expected: { workload: "StatefulSet payments/ledger" } },
  { alert: "KubeHpaMaxedOut", labels: { namespace: "shop", horizontalpodautoscaler: "checkout-autoscaler", ...KSM }, expected: { workload: "Deployment shop/checkout" } },
  {
    alert: "KubeQuotaExceeded",
    labels: { namespace: "shop", resourcequota: "compute", resource: "limits.memory", ...KSM },
    expected: { escalated: /is about ResourceQuota shop\/compute, not a workload/ },
  },
  {
    alert: "KubeJobFailed",
    labels: { namespace: "shop", job_name: "nightly-export-29381", condition: "true", ...KSM },
    expected: { escalated: /is about Job shop\/nightly-export-29381, not a workload/ },
  },
  { alert: "KubePersistentVolumeFillingUp", labels: { namespace: "payments", persistentvolumeclaim: "data-ledger-0", ...KUBELET }, expected: { workload: "StatefulSet payments/ledger" } },
  {
    alert: "KubePersistentVolumeFillingUp",
    labels: { namespace: "payments", persistentvolumeclaim: "scratch", ...KUBELET },
    expected: { escalated: /PersistentVolumeClaim payments\/scratch \(no pod mounts it\), not a workload/ },
  },
  { alert: "CPUThrottlingHigh", labels: { namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p", container: "app", ...KUBELET }, expected: { workload: "Deployment shop/checkout" } },
  {
    alert: "NodeFilesystemSpaceFillingUp",
    labels: { ...NODE_EXPORTER, instance: "10.0.3.17:9100", device: "/dev/nvme0n1p1", mountpoint: "/", fstype: "ext4" },
    expected: { escalated: /is about Node ip-10-0-3-17, not a workload/ },
  },
  { alert: "KafkaConsumerGroupLagHigh", labels: { ...KAFKA_EXPORTER, consumergroup: "fulfillment", topic: "orders" }, expected: { workload: "Deployment payments/fulfillment" } },
  // The RabbitMQ exporter's queue: the one workload configured to consume it (AMQP_QUEUE in its env), whatever the scrape job is called.
  {
    alert: "RabbitmqQueueMessagesReadyHigh",
    labels: { queue: "statements.render", vhost: "billing", job: "rabbitmq-billing", instance: "rabbitmq-billing-1.rabbitmq-billing.messaging:15692" },
    expected: { workload: "Deployment payments/statement-renderer" },
  },
  { alert: "HighErrorRate", labels: { namespace: "shop", service: "checkout-http", job: "checkout-http", pod: "" }, expected: { workload: "Deployment shop/checkout" } },
  // kube-state-metrics' node series carry no pod of their own: the `pod` a scrape config added is kube-state-metrics' own.
  {
    alert: "KubeNodeNotReady",
    labels: {
      node: "ip-10-0-3-17",
      condition: "Ready",
      status: "true",
      ...KSM,
      namespace: "monitoring",
      pod: "kube-prometheus-stack-kube-state-metrics-7877b46b5f-f4qcb",
      container: "kube-state-metrics",
    },
    expected: { escalated: /is about Node ip-10-0-3-17, not a workload/ },
  },
  // ingress-nginx's series carry their backend in `service`; scraped by a ServiceMonitor it becomes `exported_service` (the scraper's own Service is `service`).
  {
    alert: "IngressHigh5xxRatio",
    labels: { namespace: "shop", ingress: "checkout", exported_service: "checkout-http", service: "ingress-nginx-controller-metrics", job: "ingress-nginx-controller-metrics" },
    expected: { workload: "Deployment shop/checkout" },
  },
  // ingress-nginx scraped by a ServiceMonitor: pod, service and namespace are the controller's; the Ingress (in exported_namespace) routes to one Service.
  {
    alert: "NginxIngressErrorRatioHigh",
    labels: {
      ingress: "checkout-web",
      exported_namespace: "shop",
      namespace: "ingress-nginx",
      pod: "ingress-nginx-controller-7c9f5b8d6-qx2lm",
      service: "ingress-nginx-controller-metrics",
      job: "ingress-nginx-controller-metrics",
    },
    expected: { workload: "Deployment shop/checkout" },
  },
  // The `ingress` label alone (a rule over ingress-nginx's metrics that kept no job): the same lookup.
  { alert: "NGINXHighHttp5xxErrorRate", labels: { namespace: "shop", ingress: "checkout-web", host: "shop.example.com" }, expected: { workload: "Deployment shop/checkout" } },
  // An Ingress in front of two Services names no one workload.
  {
    alert: "NginxIngressErrorRatioHigh",
    labels: { ingress: "storefront", exported_namespace: "shop", job: "ingress-nginx-controller-metrics" },
    expected: { escalated: /Ingress shop\/storefront routes to 2 Services \(checkout-http, geo-router\)/ },
  },
  { alert: "NginxIngressErrorRatioHigh", labels: { ingress: "gone", exported_namespace: "shop", job: "ingress-nginx-controller-metrics" }, expected: { escalated: /no Ingress named gone in shop/ } },
  { alert: "SloBurnRate", labels: { namespace: "shop", app_kubernetes_io_name: "checkout" }, expected: { workload: "Deployment shop/checkout" } },
  // Sloth's SLO alerts: no scrape labels, the SLO's service in sloth_service.
  {
    alert: "CheckoutAvailabilityBurn",
    labels: { namespace: "shop", sloth_service: "checkout", sloth_slo: "requests-availability", sloth_severity: "page" },
    expected: { workload: "Deployment shop/checkout" },
  },
  // A blackbox probe of a Service whose selector picks nothing (applied from the wrong context): the workload of its name.
  {
    alert: "BlackboxProbeFailed",
    labels: { job: "blackbox", instance: "http://geo-router.shop.svc/healthz", severity: "critical" },
    expected: { workload: "Deployment shop/geo-router" },
  },
  // A live Service moved onto the idle (zero-replica) slot: the running workload of its name, not the idle one its selector now names.
  {
    alert: "BlackboxProbeFailed",
    labels: { job: "blackbox-http", instance: "http://fare-quote.shop.svc.cluster.local/healthz", module: "http_2xx" },
    expected: { workload: "Deployment shop/fare-quote" },
  },
  { alert: "HighLatencyP99", labels: { deployment: "checkout" }, expected: { workload: "Deployment shop/checkout" } },
  { alert: "PaymentsQueueBacklog", labels: { queue: "fulfillment", severity: "critical" }, expected: { workload: "Deployment payments/fulfillment" } },
  // Unknown or unusable labels: escalated with the reason, never guessed.
  { alert: "Watchdog", labels: { severity: "none" }, expected: { escalated: /no label names a workload, pod, node/ } },
  { alert: "KubeStateMetricsListErrors", labels: { ...KSM }, expected: { escalated: /comes from kube-state-metrics, whose job\/service\/instance labels describe the scraper/ } },
  { alert: "KafkaBrokerDown", labels: { ...KAFKA_EXPORTER }, expected: { escalated: /comes from kafka-exporter/ } },
  { alert: "ContainerRestarts", labels: { container: "app", team: "payments" }, expected: { escalated: /container="app" without a pod/ } },
  { alert: "KubePodNotReady", labels: { namespace: "shop", pod: "checkout-7d9f8b6c5d-gone1" }, expected: { escalated: /pod shop\/checkout-7d9f8b6c5d-gone1 no longer exists/ } },
  // A pod replaced since the alert fired: its ReplicaSet (the name less a generated suffix) still exists and leads to its Deployment.
  { alert: "KubePodNotReady", labels: { namespace: "shop", pod: "checkout-7d9f8b6c5d-q8zkt" }, expected: { workload: "Deployment shop/checkout" } },
  // Its ReplicaSet gone too (an older revision): the Deployment its name carries, when one of that name exists.
  { alert: "KubePodNotReady", labels: { namespace: "shop", pod: "checkout-5c7b9f6d48-wx2vz" }, expected: { workload: "Deployment shop/checkout" } },
  { alert: "KubePodNotReady", labels: { namespace: "shop", pod: "ghost-5c7b9f6d48-wx2vz" }, expected: { escalated: /no existing ReplicaSet, Deployment, DaemonSet or StatefulSet has the name/ } },
  // A database exporter running as a sidecar: its scrape target's pod is the database's own pod.
  {
    alert: "PostgresqlLongRunningTransaction",
    labels: { namespace: "payments", pod: "ledger-0", job: "postgres-exporter", instance: "10.42.5.11:9187", datname: "ledger" },
    expected: { workload: "StatefulSet payments/ledger" },
  },
  // A multi-target exporter's `server`: a bare host in the exporter's namespace, or a cluster-internal name.
  {
    alert: "PostgresqlHighRollbackRate",
    labels: { job: "postgres-exporter", namespace: "shop", instance: "pg-metrics.shop.svc:9187", server: "checkout-http:5432" },
    expected: { workload: "Deployment shop/checkout" },
  },
  {
    alert: "PostgresqlHighRollbackRate",
    labels: { job: "postgres-exporter", namespace: "monitoring", server: "geo-router.shop.svc.cluster.local:5432" },
    expected: { workload: "Deployment shop/geo-router" },
  },
  // The exporter in a pod of its own: its target labels describe it, not the database.
  {
    alert: "PostgresqlLongRunningTransaction",
    labels: { namespace: "payments", pod: "postgres-exporter-7d9f8b6c5d-q8zkt", job: "postgres-exporter", instance: "10.42.5.12:9187" },
    expected: { escalated: /comes from postgres-exporter/ },
  },
  // A probe of a public URL: the Ingresses whose rules serve its host, the Service its path routes to (both route /checkout the same way).
  {
    alert: "BlackboxProbeFailed",
    labels: { job: "probe/monitoring/public-endpoints", instance: "https://shop.example.com/checkout/health", namespace: "monitoring" },
    expected: { workload: "Deployment shop/checkout" },
  },
  // The same host's /geo path goes elsewhere; a host no Ingress serves stays unresolved.
  { alert: "BlackboxProbeFailed", labels: { job: "blackbox", instance: "https://shop.example.com/geo/near" }, expected: { workload: "Deployment shop/geo-router" } },
  {
    alert: "BlackboxProbeFailed",
    labels: { job: "blackbox", instance: "https://status.example.org/health" },
    expected: { escalated: /probed URL status\.example\.org\/health is served by an Ingress rule for its host, and no namespace Suture handles \(shop, payments\) has it/ },
  },
  // A relabelled series whose `pod` label carries the workload's own name (no pod is named so): that workload.
  { alert: "HTTPErrorRateHigh", labels: { namespace: "shop", pod: "checkout", job: "checkout" }, expected: { workload: "Deployment shop/checkout" } },
  { alert: "KubeDeploymentReplicasMismatch", labels: { namespace: "kube-system", deployment: "coredns", ...KSM }, expected: { escalated: /namespace kube-system is not one Suture handles/ } },
  {
    alert: "KubeDeploymentReplicasMismatch",
    labels: { namespace: "shop", deployment: "Checkout_V2", ...KSM },
    expected: { escalated: /label deployment="Checkout_V2" is not a Kubernetes object name/ },
  },
];

function alertmanager(labels: Record<string, string>): Record<string, unknown> {
  return { version: "4", groupKey: "{}", status: "firing", receiver: "suture", alerts: [{ status: "firing", labels, startsAt: "2026-11-30T10:00:00Z" }] };
}

/** Where an alert leads: `Kind namespace/name` of its workload, or the escalation reason. */
function outcome(alert: Alert): { workload: string } | { escalated: string } {
  const reason = targetEscalation(alert.target);
  if (reason !== undefined) return { escalated: reason };
  return { workload: `${alert.target?.kind ?? "?"} ${alert.namespace}/${alert.service}` };
}

describe("alert targets: kube-prometheus and exporter labels resolved through the Kubernetes API (simulated server, Suture's RBAC role)", () => {
  let server: ClusterApiServer;
  let env: KubernetesEnvironment;

  beforeAll(async () => {
    const backend = MemoryClusterBackend.fromManifests(readFileSync("test/fixtures/kubernetes/alert-targets.yaml", "utf8"));
    server = await startClusterApiServer({ backend, rbac: { rules: shippedRules(), user: SUTURE_USER } });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(server.kubeconfig({ namespace: "shop" }));
    env = new KubernetesEnvironment({ kubeConfig, namespace: "shop", namespaces: ["shop", "payments"] });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(CASES)("$alert $labels → $expected", async ({ alert, labels, expected }) => {
    // Given an Alertmanager alert labelled as the rule and its scrape config label it
    const { alerts } = parseAlertmanagerWebhook(alertmanager({ alertname: alert, ...labels }), MAPPING);
    const parsed = alerts[0]!;
    // When its target is looked up in the cluster
    const resolved = await resolveIncidentTarget(env, parsed);
    // Then it leads to the right workload, or escalates with the reason
    const got = outcome(resolved);
    if ("workload" in expected) expect(got).toEqual(expected);
    else expect("escalated" in got ? got.escalated : `ran on ${got.workload}`).toMatch(expected.escalated);
  });

  it("never takes a scraper's namespace or a missing one for the workload's", () => {
    // Given node-exporter's alert (namespace monitoring is the exporter's) and an alert without any namespace
    const [node] = parseAlertmanagerWebhook(alertmanager({ alertname: "NodeFilesystemAlmostOutOfSpace", ...NODE_EXPORTER, instance: "ip-10-0-3-17:9100" })).alerts;
    const [bare] = parseAlertmanagerWebhook(alertmanager({ alertname: "HighLatencyP99", deployment: "checkout" })).alerts;
    // Then neither is placed in a namespace by default
    expect(node?.namespace).toBe("");
    expect(node?.target).toMatchObject({ state: "resolved", kind: "Node", name: "ip-10-0-3-17" });
    expect(bare?.namespace).toBe("");
    expect(bare?.service).toBe("");
    expect(bare?.target?.state).toBe("lookup");
  });

  it("resolves PagerDuty and generic alerts by the same rules (custom_details as labels, component as the workload)", async () => {
    // Given a PagerDuty trigger naming a pod in its custom details, one naming only a component, and a generic alert naming a pod
    const trigger = (details: Record<string, string>, component?: string): Record<string, unknown> => ({
      routing_key: "R0123456789ABCDEF0123456789ABCDE",
      event_action: "trigger",
      payload: { summary: "checkout is unhealthy", source: "prometheus.example", severity: "error", ...(component !== undefined ? { component } : {}), custom_details: details },
    });
    const pdPod = parsePagerDutyEvent(trigger({ namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p" })).alert;
    const pdComponent = parsePagerDutyEvent(trigger({ namespace: "payments" }, "fulfillment")).alert;
    const pdNothing = parsePagerDutyEvent(trigger({ team: "payments" })).alert;
    const generic = parseGenericAlert({ name: "CheckoutDown", labels: { namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p" } });
    // Then each resolves through the cluster, or escalates naming why
    expect(outcome(await resolveIncidentTarget(env, pdPod))).toEqual({ workload: "Deployment shop/checkout" });
    expect(outcome(await resolveIncidentTarget(env, pdComponent))).toEqual({ workload: "Deployment payments/fulfillment" });
    expect(outcome(await resolveIncidentTarget(env, pdNothing))).toMatchObject({ escalated: expect.stringMatching(/no label names a workload/) as unknown });
    expect(outcome(await resolveIncidentTarget(env, generic))).toEqual({ workload: "Deployment shop/checkout" });
  });
});
