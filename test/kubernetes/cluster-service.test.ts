import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryClusterBackend } from "../../environments/cluster-api/memory-backend.js";
import { startClusterApiServer, type ClusterApiServer } from "../../environments/cluster-api/server.js";
import { post, waitFor } from "../helpers/fleet.js";
import { testBackends } from "../helpers/backends.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { shippedRules, SUTURE_USER } from "./cluster.js";

/** The fixture's "now"; every timestamp in it is moved so that this instant is the wall clock's now. */
const FIXTURE_NOW = Date.parse("2026-11-30T07:00:00Z");

/** The adapter's fixture (checkout mid-rollout: revision 2's image cannot be pulled), happening now. */
function clusterHappeningNow(): MemoryClusterBackend {
  const shift = Date.now() - FIXTURE_NOW;
  const yaml = readFileSync("test/fixtures/kubernetes/checkout-adapter.yaml", "utf8").replace(
    /"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"/g,
    (_m, iso: string) => `"${new Date(Date.parse(iso) + shift).toISOString().replace(/\.\d{3}Z$/, "Z")}"`,
  );
  const backend = MemoryClusterBackend.fromManifests(yaml);
  backend.setPodLog("prod", "checkout-6b7f9d5c48-x2x9p", "checkout", 'level=info msg="listening on :8080"\n');
  return backend;
}

const RECOMMEND = `autonomy:\n  default: recommend\n`;
const OBSERVE = `autonomy:\n  default: observe\n`;

describe.each(testBackends())("suture serve pointed at a cluster (the simulated API server, Suture's RBAC role), on $name", (backend) => {
  let cluster: ClusterApiServer | undefined;
  let service: TestService | undefined;
  let writes: string[] = [];

  afterEach(async () => {
    await service?.close();
    await cluster?.close();
    service = undefined;
    cluster = undefined;
    writes = [];
  });

  async function start(policy: string): Promise<{ url: string; kube: MemoryClusterBackend }> {
    const kube = clusterHappeningNow();
    const recording: MemoryClusterBackend["apply"] = (change, options) => {
      if (!options.dryRun) writes.push(`${change.verb} ${change.verb === "delete" ? change.name : (change.object.metadata.name ?? "")}`);
      return MemoryClusterBackend.prototype.apply.call(kube, change, options);
    };
    kube.apply = recording;
    cluster = await startClusterApiServer({ backend: kube, rbac: { rules: shippedRules(), user: SUTURE_USER } });
    service = await startTestService(backend, {
      files: { "kubeconfig.yaml": cluster.kubeconfig({ namespace: "prod" }), "policy.yaml": policy },
      env: { SUTURE_KUBECONFIG: "{dir}/kubeconfig.yaml", SUTURE_KUBE_NAMESPACES: "prod,staging", SUTURE_POLICY: "{dir}/policy.yaml" },
      worker: { concurrency: 1 },
    });
    return { url: service.url, kube };
  }

  async function openIncident(url: string): Promise<string> {
    // Labelled as kube-prometheus labels it: the workload is the `deployment` label, no `service`.
    const labels = { alertname: "KubeDeploymentReplicasMismatch", namespace: "prod", deployment: "checkout", severity: "warning" };
    const body = {
      version: "4",
      groupKey: '{}:{alertname="KubeDeploymentReplicasMismatch"}',
      status: "firing",
      receiver: "suture",
      groupLabels: { alertname: labels.alertname },
      commonLabels: labels,
      commonAnnotations: {},
      externalURL: "http://alertmanager.example:9093",
      alerts: [
        {
          status: "firing",
          labels,
          annotations: { description: "Deployment prod/checkout has not matched the expected number of replicas for longer than 15 minutes." },
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "http://prometheus.example:9090/graph",
        },
      ],
    };
    const answer = await post(`${url}/v1/alerts/alertmanager`, JSON.stringify(body));
    expect(answer.status).toBe(202);
    return (answer.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
  }

  it("in recommend mode, perceives the workload through the Kubernetes API, proposes rolling back to the last good revision, and changes nothing until a human approves", async () => {
    // Given Suture serving with a worker, pointed at the cluster in recommend mode
    const { url } = await start(RECOMMEND);
    // When Alertmanager reports checkout's replicas mismatch in prod
    const id = await openIncident(url);
    // Then the incident runs on the cluster and waits for approval of a rollback to revision 1
    const s = service!;
    await waitFor(async () => (await s.service.suture.store.getIncident(id)).status === "awaiting_approval", 30_000, "the incident to await approval");
    const incident = await s.service.suture.store.getIncident(id);
    expect(incident.environment_id).toBe("kubernetes:prod");
    const approval = await s.service.suture.store.latestApproval(id);
    expect(approval?.call).toMatchObject({ tool: "rollout_undo", params: { service: "checkout", toRevision: 1 } });
    // and the cluster received no write at all
    expect(writes).toEqual([]);
  });

  it("in observe mode, briefs the bad rollout it saw and never writes to the cluster", async () => {
    // Given Suture in observe mode
    const { url } = await start(OBSERVE);
    // When the alert arrives
    const id = await openIncident(url);
    // Then it ends with a brief naming the failing image pull, and nothing was written
    const s = service!;
    await waitFor(async () => ["escalated", "closed_no_action"].includes((await s.service.suture.store.getIncident(id)).status), 30_000, "the incident to end");
    const brief = JSON.stringify((await s.service.suture.store.getIncident(id)).brief);
    expect(brief).toMatch(/ImagePullBackOff|ErrImagePull|image/i);
    expect(brief).toMatch(/observe/);
    expect(writes).toEqual([]);
  });

  it("opens an incident on the pod's Deployment from an alert labelled only alertname, namespace, pod, container, job=kube-state-metrics and severity; a Watchdog naming nothing is read as about the whole cluster and closed, and an unresolvable alert in the same webhook is escalated", async () => {
    // Given Suture in recommend mode, and one webhook with a KubePodCrashLooping alert as kube-state-metrics labels it, a Watchdog naming nothing and a restart alert naming only a container
    const { url } = await start(RECOMMEND);
    const crashLooping = { alertname: "KubePodCrashLooping", namespace: "prod", pod: "checkout-85d4c7b9f7-lmn8z", container: "checkout", job: "kube-state-metrics", severity: "warning" };
    const watchdog = { alertname: "Watchdog", severity: "none" };
    const containerOnly = { alertname: "ContainerRestarts", container: "app", severity: "warning" };
    const body = {
      version: "4",
      groupKey: "{}:{}",
      status: "firing",
      receiver: "suture",
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: "http://alertmanager.example:9093",
      alerts: [crashLooping, watchdog, containerOnly].map((labels) => ({
        status: "firing",
        labels,
        annotations: {},
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: "0001-01-01T00:00:00Z",
      })),
    };
    // When Alertmanager posts it
    const answer = await post(`${url}/v1/alerts/alertmanager`, JSON.stringify(body));
    // Then the whole webhook is accepted and every alert is stored, each on its own incident
    expect(answer.status).toBe(202);
    const [pod, cluster, none] = answer.body["alerts"] as Array<{ incidentId: string; disposition: string }>;
    expect([pod?.disposition, cluster?.disposition, none?.disposition]).toEqual(["opened", "opened", "opened"]);
    const s = service!;
    const stored = await s.service.suture.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM alerts WHERE incident_id = ANY($1::text[])", [
      [pod!.incidentId, cluster!.incidentId, none!.incidentId],
    ]);
    expect(stored.rows[0]?.n).toBe(3);
    // and the pod's alert runs on its Deployment (looked up through its ReplicaSet), proposing the rollback
    await waitFor(async () => (await s.service.suture.store.getIncident(pod!.incidentId)).status === "awaiting_approval", 30_000, "the pod's incident to await approval");
    expect((await s.service.suture.store.getIncident(pod!.incidentId)).service).toBe("checkout");
    const audit = await s.service.suture.store.auditFor(pod!.incidentId);
    expect(audit.find((a) => a.kind === "target_resolved")?.summary).toBe("target Deployment prod/checkout (from Pod prod/checkout-85d4c7b9f7-lmn8z), read from labels namespace+pod");
    expect((await s.service.suture.store.latestApproval(pod!.incidentId))?.call).toMatchObject({ tool: "rollout_undo", params: { service: "checkout" } });
    // while the Watchdog (severity none) is read as about the cluster — its nodes, through the API — and closed with no action
    await waitFor(async () => (await s.service.suture.store.getIncident(cluster!.incidentId)).status === "closed_no_action", 30_000, "the Watchdog's incident to close");
    const clusterAudit = await s.service.suture.store.auditFor(cluster!.incidentId);
    expect(clusterAudit.find((a) => a.kind === "target_resolved")?.summary).toMatch(/^target the cluster as a whole/);
    expect(JSON.stringify((await s.service.suture.store.getIncident(cluster!.incidentId)).brief)).toMatch(/informational/);
    // and the container-only alert is escalated with the reason, nothing read
    await waitFor(async () => (await s.service.suture.store.getIncident(none!.incidentId)).status === "escalated", 30_000, "the unresolvable incident to escalate");
    expect((await s.service.suture.store.getIncident(none!.incidentId)).summary).toMatch(/^the alert's target could not be resolved: label container="app" without a pod/);
    expect(writes).toEqual([]);
  });
});
