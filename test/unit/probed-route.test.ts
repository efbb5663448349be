import { describe, expect, it } from "vitest";
import { ingressBackendFor } from "../../environments/kubernetes/ingress.js";
import { SimEnvironment, type EnvironmentSpecInput } from "../../environments/simulator/index.js";
import { targetFromLabels } from "../../domain/alerts/target.js";
import { RunbookReasoner } from "../../reasoners/runbook/runbook-reasoner.js";
import { perceiveSim } from "../helpers/perceive-sim.js";
import { makeAlert, makeContext } from "../helpers/factories.js";

const reasoner = await RunbookReasoner.fromDirectory();

const spec = {
  defaultBackend: { service: { name: "fallback" } },
  rules: [
    {
      host: "api.transit.example",
      http: {
        paths: [
          { path: "/", pathType: "Prefix", backend: { service: { name: "web" } } },
          { path: "/v1", pathType: "Prefix", backend: { service: { name: "pass-api" } } },
          { path: "/v1/status", pathType: "Exact", backend: { service: { name: "status" } } },
        ],
      },
    },
    { host: "*.cdn.transit.example", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "assets" } } }] } },
  ],
};

describe("which Service an Ingress routes a probed URL to", () => {
  it("Given rules by host and path, When a URL is routed, Then the longest matching path on whole segments wins, Exact only on equality, wildcards cover one label", () => {
    expect(ingressBackendFor(spec, "api.transit.example", "/v1/passes/health")).toBe("pass-api");
    expect(ingressBackendFor(spec, "api.transit.example", "/v1x")).toBe("web");
    expect(ingressBackendFor(spec, "api.transit.example", "/v1/status")).toBe("status");
    expect(ingressBackendFor(spec, "api.transit.example", "/v1/status/deep")).toBe("pass-api");
    expect(ingressBackendFor(spec, "img.cdn.transit.example", "/a.png")).toBe("assets");
    expect(ingressBackendFor(spec, "a.b.cdn.transit.example", "/a.png")).toBeUndefined();
    expect(ingressBackendFor(spec, "other.example", "/")).toBeUndefined();
  });

  it("Given a probe of a public URL, When its labels are read, Then the target is the Ingress host lookup with the URL's path; an address is not", () => {
    expect(targetFromLabels({ alertname: "BlackboxProbeFailed", job: "blackbox", instance: "https://api.transit.example/v1/passes/health?x=1" })).toMatchObject({
      state: "lookup",
      kind: "IngressHost",
      name: "api.transit.example",
      path: "/v1/passes/health",
    });
    expect(targetFromLabels({ alertname: "BlackboxProbeFailed", job: "blackbox", instance: "https://10.2.3.4/health" }).kind).not.toBe("IngressHost");
  });
});

/** pass-api, whose access log answers the probe's path with `status` every 30 s for the last 29 min. */
function world(status: string): EnvironmentSpecInput {
  return {
    seed: 53,
    services: [{ name: "pass-api", namespace: "metro", replicas: 3, baseline: { requestRate: 80, errorRate: 0.002, latencyP99Ms: 120 } }],
    observations: {
      "pass-api": { logs: [{ fromMinutes: -29, everySeconds: 30, level: "info", message: `GET /v1/passes/health ${status} ua=Blackbox Exporter/0.25.0` }] },
    },
  };
}

const alert = makeAlert({
  service: "pass-api",
  namespace: "metro",
  name: "BlackboxProbeHttpFailure",
  labels: { alertname: "BlackboxProbeHttpFailure", job: "blackbox", instance: "https://api.transit.example/v1/passes/health" },
  target: { state: "resolved", kind: "Deployment", namespace: "metro", name: "pass-api", via: "instance", path: "/v1/passes/health" },
});

async function diagnose(spec: EnvironmentSpecInput) {
  const evidence = await perceiveSim(SimEnvironment.create(spec), alert);
  const [top] = await reasoner.diagnose({ alert, context: makeContext(evidence), attempts: [] });
  return { status: evidence.find((e) => e.key === "probe.path_status"), top };
}

describe("a probe of a route the service retired", () => {
  it("Given the service answering the probed path 410 Gone while what it serves is at baseline, When the probe alert arrives, Then no action: the probe is stale", async () => {
    const { status, top } = await diagnose(world("410 Gone"));
    expect(status?.value).toBe(410);
    expect(top?.id).toBe("rules:probe-of-a-retired-route");
    expect(top?.disposition).toBe("no-action");
  });

  it("Given the service answering the probed path 503, When the alert arrives, Then it is not closed as a retired route", async () => {
    const { status, top } = await diagnose(world("503 Service Unavailable"));
    expect(status?.value).toBe(503);
    expect(top?.id).not.toBe("rules:probe-of-a-retired-route");
  });
});
