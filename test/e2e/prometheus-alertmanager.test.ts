import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { loadScenario } from "../../app/scenario.js";
import { startSimulatedCluster, type SimulatedCluster } from "../../app/sim-cluster.js";
import { alertmanagerBinary, startAlertmanager, type RunningAlertmanager } from "../helpers/alertmanager.js";
import { testBackends } from "../helpers/backends.js";
import { waitFor } from "../helpers/fleet.js";
import { freePort, hasPrometheus, PROMETHEUS_BIN, startPrometheus, type RunningServer } from "../helpers/prometheus.js";
import { startTestService, type TestService } from "../helpers/service.js";

/** The shipped rule every pod-waiting fault raises; its labels are only namespace, pod and container. */
const RULE = "KubeContainerWaiting";
/** The bound the issue sets from the alert firing to the incident resolved. */
const ALERT_TO_RESOLVED_MS = 120_000;
const INTAKE_TOKEN = "e2e-intake-token-0123456789abcdef";

/**
 * The shipped rule file (deploy/prometheus/suture-rules.yaml) reduced to one rule, its `for:`
 * shortened from an hour to a few seconds so the test sees it fire: expression, labels and
 * annotations stay as shipped.
 */
function shippedRule(name: string, forDuration: string): string {
  const file = parse(readFileSync("deploy/prometheus/suture-rules.yaml", "utf8")) as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> };
  const rules = file.groups.flatMap((g) => g.rules).filter((r) => r["alert"] === name);
  if (rules.length === 0) throw new Error(`deploy/prometheus/suture-rules.yaml has no rule ${name}`);
  return stringify({ groups: [{ name: "suture-e2e", rules: rules.map((r) => ({ ...r, for: forDuration })) }] });
}

function version(binary: string): string {
  return execFileSync(binary, ["--version"], { encoding: "utf8" }).split("\n")[0] ?? "";
}

const binaries = hasPrometheus && alertmanagerBinary() !== undefined;
if (!binaries) console.warn("[suture tests] end-to-end Prometheus/Alertmanager suite skipped: /usr/bin/prometheus or /usr/bin/prometheus-alertmanager not found (.ci/run installs them)");

// One real back end is enough for a two-minute wall-clock run: the real PostgreSQL when CI has it.
const backend = testBackends().at(-1)!;

describe.skipIf(!binaries)(`end to end: simulated cluster → real Prometheus → real Alertmanager → suture serve → worker, on ${backend.name}`, () => {
  let cluster: SimulatedCluster;
  let rules: string | undefined;
  let prometheus: RunningServer;
  let alertmanager: RunningAlertmanager;
  let suture: TestService;

  beforeAll(async () => {
    // Given the e2e scenario's world on the wall clock: healthy storefront, a rollout to a tag never pushed at 0:20
    // Suture's shipped RBAC manifest, its remediation RoleBinding moved from the example namespace (prod) to the scenario's (shop), as a user would
    rules = await mkdtemp(path.join(os.tmpdir(), "suture-e2e-"));
    const rbac = path.join(rules, "rbac.yaml");
    await writeFile(rbac, readFileSync("deploy/kubernetes/rbac.yaml", "utf8").replace(/^(\s+namespace:) prod$/m, "$1 shop"));
    cluster = await startSimulatedCluster(await loadScenario("data/scenarios-e2e/storefront-bad-rollout-realtime.yaml"), { realtime: true, rbacManifest: rbac });
    const suturePort = await freePort();
    // Alertmanager with the shipped receiver's shape: webhook to suture serve with the intake token, resolved notifications on
    alertmanager = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${suturePort}/v1/alerts/alertmanager`,
      webhookBearerToken: INTAKE_TOKEN,
      groupWait: "1s",
      groupInterval: "2s",
      repeatInterval: "1h",
    });
    const metrics = new URL(cluster.metricsUrl);
    const ruleFile = path.join(rules, "suture-rules.yaml");
    await writeFile(ruleFile, shippedRule(RULE, "5s"));
    prometheus = await startPrometheus({
      targets: [{ address: metrics.host, metricsPath: metrics.pathname, job: "kube-state-metrics" }],
      ruleFiles: [ruleFile],
      alertmanagerUrl: alertmanager.url,
      scrapeInterval: "1s",
      evaluationInterval: "1s",
    });
    // Suture serving with a worker: the cluster through its Kubernetes API, metrics from Prometheus, silences in Alertmanager
    suture = await startTestService(backend, {
      port: suturePort,
      files: {
        "kubeconfig.yaml": cluster.server.kubeconfig({ namespace: "shop" }),
        "policy.yaml": "verification:\n  settleSeconds:\n    rollout_undo: 20\n",
        // The shipped signal templates with a 10 s rate window: a 2-minute window would still be averaging the fault when a 20 s settle ends.
        "signals.yaml": readFileSync("data/prometheus/signals.yaml", "utf8").replace(/^window: 2m$/m, "window: 10s"),
      },
      env: {
        SUTURE_KUBECONFIG: "{dir}/kubeconfig.yaml",
        SUTURE_KUBE_NAMESPACES: "shop",
        SUTURE_POLICY: "{dir}/policy.yaml",
        SUTURE_INTAKE_TOKEN: INTAKE_TOKEN,
        PROMETHEUS_URL: prometheus.url,
        SUTURE_PROMETHEUS_STEP_SECONDS: "2",
        SUTURE_PROMETHEUS_SIGNALS: "{dir}/signals.yaml",
        ALERTMANAGER_URL: alertmanager.url,
        SUTURE_PUBLIC_URL: `http://127.0.0.1:${suturePort}`,
      },
      worker: { concurrency: 2 },
    });
  }, 120_000);

  afterAll(async () => {
    await suture?.close();
    await prometheus?.stop();
    await alertmanager?.stop();
    await cluster?.close();
    if (rules !== undefined) await rm(rules, { recursive: true, force: true });
  });

  it("the alert fires on real labels, Suture resolves the pod's Deployment, rolls back, verifies on Prometheus data, silences the alert meanwhile; Alertmanager sends resolved", async () => {
    // When the fault happens (0:20 on the world's clock) and Prometheus' shipped KubeContainerWaiting rule fires
    const db = suture.service.suture.db.pool;
    // Then Alertmanager delivers it, labelled only as the rule's aggregation leaves it
    await waitFor(async () => (await db.query("SELECT 1 FROM alerts WHERE alert_name = $1", [RULE])).rows.length > 0, 90_000, `Alertmanager to deliver ${RULE}`);
    const alertRows = async (): Promise<Array<{ incident_id: string | null; status: string; normalized: { labels: Record<string, string>; startsAt: string; fingerprint: string } }>> =>
      (await db.query("SELECT incident_id, status, normalized FROM alerts WHERE alert_name = $1 ORDER BY id", [RULE])).rows as Array<{
        incident_id: string | null;
        status: string;
        normalized: { labels: Record<string, string>; startsAt: string; fingerprint: string };
      }>;
    const first = (await alertRows()).find((r) => r.status === "firing")!;
    expect(Object.keys(first.normalized.labels).sort()).toEqual(expect.arrayContaining(["alertname", "container", "namespace", "pod"]));
    expect(first.normalized.labels["deployment"]).toBeUndefined();
    expect(first.normalized.labels["service"]).toBeUndefined();
    // and (one alert per waiting pod: a rolling update may strand two) every incident it opened ends;
    // exactly one acts — on the pods' Deployment — and is resolved after verification on Prometheus data
    const store = suture.service.suture.store;
    const ENDED = ["resolved", "escalated", "closed_no_action", "resolved_by_source", "dead_letter"];
    const incidentIds = async (): Promise<string[]> => [...new Set((await alertRows()).flatMap((r) => (r.incident_id !== null ? [r.incident_id] : [])))];
    await waitFor(
      async () => (await Promise.all((await incidentIds()).map(async (id) => ENDED.includes((await store.getIncident(id)).status)))).every(Boolean),
      ALERT_TO_RESOLVED_MS,
      "every incident to end",
    );
    const incidents = await Promise.all((await incidentIds()).map(async (id) => ({ id, row: await store.getIncident(id), actions: await store.actionsFor(id), audit: await store.auditFor(id) })));
    const story = incidents.map((i) => `${i.id} ${i.row.status}:\n${i.audit.map((a) => `  ${a.kind}: ${a.summary}`).join("\n")}`).join("\n");
    const acting = incidents.filter((i) => i.actions.length > 0);
    expect(
      acting.map((i) => i.actions.map((a) => `${a.kind} ${a.tool} ${a.status}`)),
      story,
    ).toEqual([["remediation rollout_undo succeeded"]]);
    const { id: incidentId, row: incident, audit } = acting[0]!;
    const trail = audit.map((a) => `${a.kind}: ${a.summary}`).join("\n");
    expect(incident.status, trail).toBe("resolved");
    expect(incident.service).toBe("storefront");
    for (const other of incidents.filter((i) => i.id !== incidentId)) {
      // Another pod's alert: it waited for the rollback to settle and then did not act again
      expect(other.row.service, story).toBe("storefront");
      expect(["closed_no_action", "escalated", "resolved_by_source"], story).toContain(other.row.status);
    }
    expect(audit.find((a) => a.kind === "target_resolved")?.summary).toMatch(/^target Deployment shop\/storefront \(from Pod shop\/storefront-[a-z0-9]+-[a-z0-9]+\), read from labels namespace\+pod$/);
    // Verified on Prometheus data: the before/after signals were read through PromQL
    const verification = audit.find((a) => a.kind === "verification");
    expect(verification?.summary, trail).toMatch(/^attempt 1 recovered after 2[0-9]s \([0-9] look\(s\)/);
    // and the alert was silenced in Alertmanager while the rollback settled, then the silence expired
    const silenced = audit.find((a) => a.kind === "silenced");
    expect(silenced?.summary, trail).toMatch(/^silenced KubeContainerWaiting in Alertmanager until .+ \(silence [0-9a-f-]{36}\)$/);
    const silenceId = /silence ([0-9a-f-]{36})/.exec(silenced?.summary ?? "")?.[1] ?? "";
    const silence = (await (await fetch(`${alertmanager.url}/api/v2/silence/${silenceId}`)).json()) as { status: { state: string }; comment: string; matchers: Array<{ name: string; value: string }> };
    expect(silence.status.state).toBe("expired");
    expect(silence.comment).toContain(`Suture incident ${incidentId}`);
    expect(silence.matchers).toEqual(expect.arrayContaining([{ name: "alertname", value: RULE, isRegex: false, isEqual: true }]));
    expect(audit.find((a) => a.kind === "silence_expired")?.summary).toBe(`silence ${silenceId} expired`);
    // and Alertmanager sends `resolved`, stored on the incident
    const actedOn = (await alertRows()).find((r) => r.incident_id === incidentId && r.status === "firing")!;
    // (Alertmanager sends `resolved` only for alerts its last notification of the group carried as
    // firing: one that resolved while silenced, after a notification for another pod, gets none.)
    await waitFor(async () => (await alertRows()).some((r) => r.status === "resolved"), 60_000, "Alertmanager to send resolved");
    const resolvedAt = new Date(incident.closed_at ?? Date.now()).getTime();
    const alertToResolved = resolvedAt - new Date(actedOn.normalized.startsAt).getTime();
    const promVersion = version(PROMETHEUS_BIN);
    const amVersion = version(alertmanagerBinary() ?? "");
    console.log(
      `[e2e] ${promVersion}; ${amVersion}; alert firing → incident resolved in ${(alertToResolved / 1000).toFixed(1)} s (bound ${ALERT_TO_RESOLVED_MS / 1000} s); ${incidents.length} incident(s) for ${RULE}: ${incidents.map((i) => i.row.status).join(", ")}`,
    );
    expect(alertToResolved).toBeLessThanOrEqual(ALERT_TO_RESOLVED_MS);
  }, 300_000);
});
