import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadScenario, type Scenario } from "../../app/scenario.js";
import { runScenario } from "../../app/scenario-run.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, type TestSuture } from "../helpers/suture.js";

/** A dev scenario's world (three nodes, four workloads, a ConfigMap edit and a release as distractors) with one alert of our own. */
async function nodeWorld(labels: Record<string, string>, annotations: Record<string, string> = {}): Promise<Scenario> {
  const base = await loadScenario("data/scenarios-unseen/greenhouse-node-interface-flapping-alert-on-calico-pod-veths.yaml");
  return { ...base, alerts: [{ atMinutes: 0, status: "firing", labels, annotations }] };
}

const NODE_EXPORTER = { job: "node-exporter", namespace: "monitoring", pod: "kube-prometheus-stack-prometheus-node-exporter-q8x4m", service: "kube-prometheus-stack-prometheus-node-exporter" };

describe.each(testBackends())("alerts about a node, a quota or the whole cluster: read, diagnosed, never acted on, on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("Given a Calico pod interface flapping on a Ready node found by its address, When the alert arrives, Then the node is read and the incident closes with no action", async () => {
    const run = await runScenario(
      t.suture,
      await nodeWorld({ alertname: "NodeNetworkInterfaceFlapping", device: "cali7c2e91a04f3", instance: "10.20.4.61:9100", severity: "warning", ...NODE_EXPORTER }),
    );
    expect(run.state.outcome?.status).toBe("closed_no_action");
    expect(run.state.diagnosis?.chosen?.id).toBe("rules:pod-interface-flapping-on-healthy-node");
    expect(run.env.operationsApplied()).toEqual([]);
    const ready = run.state.context?.evidence.find((e) => e.key === "node.ready");
    expect(ready).toMatchObject({ value: "True", attrs: { node: "ip-10-20-4-61.us-west-2.compute.internal", under_pressure: false } });
  });

  it("Given the node's own uplink (eth0) flapping, When the alert arrives, Then no rule closes it: escalated, naming the node, nothing changed", async () => {
    const run = await runScenario(t.suture, await nodeWorld({ alertname: "NodeNetworkInterfaceFlapping", device: "eth0", instance: "10.20.4.61:9100", severity: "warning", ...NODE_EXPORTER }));
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.state.outcome?.reason).toMatch(/is about Node ip-10-20-4-61\.us-west-2\.compute\.internal, not a workload/);
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("Given a node that went NotReady after it was cordoned and drained (kube-state-metrics' own pod in the labels), When KubeNodeNotReady arrives, Then the node is the target and the incident closes with no action", async () => {
    const run = await runScenario(t.suture, await loadScenario("data/scenarios-unseen/ferry-cluster-node-notready-during-announced-firmware-maintenance-drained.yaml"));
    expect(run.state.alert.target).toMatchObject({ kind: "Node", name: "ip-10-60-3-41.eu-north-1.compute.internal" });
    expect(run.state.outcome?.status).toBe("closed_no_action");
    expect(run.state.diagnosis?.chosen?.id).toBe("rules:drained-node-down");
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("Given an informational quota alert, When it arrives, Then it closes with no action as capacity planning", async () => {
    const run = await runScenario(
      t.suture,
      await nodeWorld(
        { alertname: "KubeQuotaAlmostFull", namespace: "greenhouse", resourcequota: "compute", resource: "requests.cpu", job: "kube-state-metrics", severity: "info" },
        { description: "Namespace greenhouse is using 91% of its requests.cpu quota." },
      ),
    );
    expect(run.state.outcome?.status).toBe("closed_no_action");
    expect(run.state.diagnosis?.chosen?.id).toBe("rules:informational-alert-on-cluster-object");
  });

  it("Given KubeCPUOvercommit summed across the cluster (kube-state-metrics' job, no subject label) with every node Ready and every pod placed, When it arrives, Then the cluster is read and the incident closes as capacity planning", async () => {
    const run = await runScenario(
      t.suture,
      await nodeWorld(
        { alertname: "KubeCPUOvercommit", job: "kube-state-metrics", namespace: "kube-system", severity: "warning" },
        { description: "Cluster has overcommitted CPU resource requests for Pods by 0.6 CPU shares and cannot tolerate node failure." },
      ),
    );
    expect(run.state.alert.target).toMatchObject({ state: "resolved", kind: "Cluster" });
    expect(run.state.outcome?.status).toBe("closed_no_action");
    expect(run.state.diagnosis?.chosen?.id).toBe("rules:capacity-forecast-with-every-pod-placed");
    expect(run.env.operationsApplied()).toEqual([]);
    const nodes = run.state.context?.evidence.find((e) => e.key === "cluster.nodes");
    expect(nodes).toMatchObject({ value: 3, attrs: { not_ready: 0, unschedulable_pods: 0, under_pressure: 0 } });
  });

  it("Given the same overcommit alert in a cluster where a pod waits for a node with enough CPU, When it arrives, Then it is escalated: the shortfall is here, not forecast", async () => {
    const base = await loadScenario("data/scenarios-unseen/query-rewriter-cpu-request-unschedulable.yaml");
    const run = await runScenario(t.suture, { ...base, alerts: [{ atMinutes: 0, status: "firing", labels: { alertname: "KubeCPUOvercommit", severity: "warning" }, annotations: {} }] });
    expect(run.state.alert.target).toMatchObject({ kind: "Cluster" });
    expect(run.state.outcome?.status).toBe("escalated");
    const nodes = run.state.context?.evidence.find((e) => e.key === "cluster.nodes");
    expect(Number(nodes?.attrs["unschedulable_pods"])).toBeGreaterThan(0);
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("Given KubeSchedulerDown on a cluster whose nodes carry no control-plane role (a managed control plane) and every pod placed, When it arrives, Then it closes with no action as a scrape target the provider hides", async () => {
    const run = await runScenario(
      t.suture,
      await nodeWorld(
        { alertname: "KubeSchedulerDown", prometheus: "monitoring/kube-prometheus-stack-prometheus", severity: "critical" },
        { description: "KubeScheduler has disappeared from Prometheus target discovery." },
      ),
    );
    expect(run.state.alert.target).toMatchObject({ state: "resolved", kind: "Cluster" });
    expect(run.state.outcome?.status).toBe("closed_no_action");
    expect(run.state.diagnosis?.chosen?.id).toBe("rules:managed-control-plane-not-scrapable");
    expect(run.state.outcome?.reason).toContain("none of the 3 nodes is a control-plane node");
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("Given the same alert where one node is a control-plane node (a self-managed control plane), When it arrives, Then it is escalated: the scheduler runs here and is missing", async () => {
    const base = await nodeWorld({ alertname: "KubeSchedulerDown", prometheus: "monitoring/kube-prometheus-stack-prometheus", severity: "critical" });
    const manifests = String(base.environment.manifests ?? "").replace(
      "topology.kubernetes.io/zone: us-west-2a }",
      'topology.kubernetes.io/zone: us-west-2a, node-role.kubernetes.io/control-plane: "" }',
    );
    const run = await runScenario(t.suture, { ...base, environment: { ...base.environment, manifests } });
    const nodes = run.state.context?.evidence.find((e) => e.key === "cluster.nodes");
    expect(nodes?.attrs["control_plane_nodes"]).toBe(1);
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("Given KubeVersionMismatch at critical severity, When it arrives, Then no rule closes it: escalated about the cluster as a whole, nothing changed", async () => {
    const run = await runScenario(t.suture, await nodeWorld({ alertname: "KubeVersionMismatch", severity: "critical" }));
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.state.outcome?.reason).toMatch(/the cluster as a whole/);
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("Given the same quota alert at warning severity, When it arrives, Then it is escalated: a warning about an object is a human's to judge", async () => {
    const run = await runScenario(
      t.suture,
      await nodeWorld({ alertname: "KubeQuotaFullyUsed", namespace: "greenhouse", resourcequota: "compute", resource: "pods", job: "kube-state-metrics", severity: "warning" }),
    );
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.env.operationsApplied()).toEqual([]);
  });
});
