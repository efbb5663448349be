import type { Diagnosis, Evidence, Hypothesis, LikelyCause } from "../domain/model.js";

/** A rollout or config change this recent (minutes) is a suspect. */
const RECENT_CHANGE_MINUTES = 120;
/** Anything changed within this long (minutes) means "something changed". */
const ANY_CHANGE_MINUTES = 240;
/** Weight of one `alert.text` class: the alert's words support a cause, they never prove one. */
const ALERT_WORD_WEIGHT = 0.1;
/** Highest score the evidence table gives: it names a suspect, it does not diagnose. */
const MAX_TABLE_SCORE = 0.9;

/** Whom the check-first lines name: the service the strongest evidence is about, and the alerting one. */
interface Subject {
  service: string;
  alert: string;
  fact: Evidence | undefined;
}

interface Signal {
  weight: number;
  /** What the fact shows, for the table in docs/rules.md. */
  what: string;
  test: (f: Evidence, alertService: string) => boolean;
}

/** One cause class an escalation may name: what points to it, what it would also show, and what to check. */
interface CauseClass {
  faultClass: string;
  signals: Signal[];
  /** When it does not hold, the evidence signals do not count (e.g. flapping needs healthy metrics). */
  gate?: (facts: Evidence[], alertService: string) => boolean;
  /** What would also be seen were this the cause; each one missing is evidence against. */
  expects: Array<{ what: string; holds: (facts: Evidence[], alertService: string) => boolean }>;
  /** `alert.text` classes that weakly support it. */
  alertWords: string[];
  checkFirst: (s: Subject) => string[];
}

const num = (f: Evidence): number => (typeof f.value === "number" ? f.value : Number.NaN);
const logClass =
  (...classes: string[]) =>
  (f: Evidence): boolean =>
    f.key === "log.signature" && classes.includes(String(f.attrs["error_class"] ?? ""));
const recentDeploy = (f: Evidence, within = RECENT_CHANGE_MINUTES): boolean => f.key === "deploy.latest" && num(f) <= within && f.attrs["has_previous"] === true;
const recentConfig = (f: Evidence, within = RECENT_CHANGE_MINUTES): boolean => f.key === "config.changed" && num(f) <= within;
const abnormal = (f: Evidence): boolean => f.key === "metric.anomalous";
const abnormalOnDependency = (f: Evidence, alertService: string): boolean => abnormal(f) && f.service !== alertService;
const any = (facts: Evidence[], test: (f: Evidence) => boolean): boolean => facts.some(test);
const nothingChanged = (facts: Evidence[]): boolean => !any(facts, (f) => recentDeploy(f, ANY_CHANGE_MINUTES) || recentConfig(f, ANY_CHANGE_MINUTES));
/** Error classes that say nothing about the workload's own failure: a client that went away. */
const CLIENT_SIDE_CLASSES = ["client_abort"];
/** An error class in the logs other than these (an upstream's own 5xx says nothing against an upstream cause), clients going away aside. */
const anyLogClass = (facts: Evidence[], except: string[] = []): boolean =>
  any(facts, (f) => {
    const cls = String(f.attrs["error_class"] ?? "");
    return f.key === "log.signature" && cls !== "" && !except.includes(cls) && !CLIENT_SIDE_CLASSES.includes(cls);
  });
/** Error classes a call to a failing outside host shows. */
const OUTSIDE_FAILURE_CLASSES = ["upstream_status", "timeout", "connection_refused", "connection_reset", "dns", "tls"];
/** An error line naming a host outside the cluster. */
const externalCall = (f: Evidence): boolean => f.key === "log.signature" && String(f.attrs["external_host"] ?? "") !== "";
const saturated = (f: Evidence): boolean => (f.key === "cpu.saturation" && num(f) >= 0.85) || f.key === "hpa.at_max";
const FAILING_POD_REASONS = ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"];

/**
 * The cause classes an escalation without a hypothesis is scored against, in tie-break order.
 * Only evidence counts: no class looks at a service's or scenario's name.
 */
export const CAUSE_CLASSES: readonly CauseClass[] = [
  {
    faultClass: "bad-rollout",
    signals: [
      { weight: 0.5, what: "the alerting service rolled out within 2 h", test: (f, a) => recentDeploy(f) && f.service === a },
      { weight: 0.3, what: "a dependency rolled out within 2 h", test: (f, a) => recentDeploy(f) && f.service !== a },
      { weight: 0.2, what: "pods failing to start or crash-looping", test: (f) => f.key === "pod.reason" && FAILING_POD_REASONS.includes(String(f.value)) },
      { weight: 0.1, what: "pods running but not ready", test: (f) => f.key === "pod.not_ready" && num(f) > 0 },
    ],
    expects: [
      { what: "a rollout in the last 2 hours", holds: (facts) => any(facts, (f) => recentDeploy(f)) },
      {
        what: "failing pods or an abnormal metric on the rolled-out service",
        holds: (facts) => any(facts, (f) => abnormal(f) || (f.key === "pod.reason" && FAILING_POD_REASONS.includes(String(f.value)))),
      },
    ],
    alertWords: ["crashloop", "replicas", "not_ready"],
    checkFirst: (s) => [
      `kubectl rollout history deploy/${s.service} and diff the last two revisions (kubectl rollout history deploy/${s.service} --revision=<n>)`,
      "compare the new revision's pods with the old one's: did the symptoms start with the rollout?",
    ],
  },
  {
    faultClass: "bad-config-change",
    signals: [{ weight: 0.5, what: "a ConfigMap changed within 2 h", test: (f) => recentConfig(f) }],
    expects: [{ what: "a ConfigMap change in the last 2 hours", holds: (facts) => any(facts, (f) => recentConfig(f)) }],
    alertWords: [],
    checkFirst: (s) => [
      `kubectl get configmap ${String(s.fact?.attrs["configmap"] ?? "<name>")} -o yaml and diff it against the previous version (changed keys: ${String(s.fact?.attrs["keys"] ?? "?")})`,
      `check whether ${s.service}'s pods picked the change up (restarted or reloaded) when the symptoms began`,
    ],
  },
  {
    faultClass: "dns-resolution",
    signals: [{ weight: 0.55, what: "log lines failing to resolve a host name (error_class dns)", test: logClass("dns") }],
    expects: [{ what: "log lines failing to resolve a host name", holds: (facts) => any(facts, logClass("dns")) }],
    alertWords: ["dns"],
    checkFirst: (s) => [
      `resolve the failing name from inside a ${s.service} pod (kubectl exec <pod> -- nslookup <host>) and check that the Service or external name exists`,
      "check the CoreDNS pods and their logs in kube-system",
    ],
  },
  {
    faultClass: "certificate-expiry",
    signals: [{ weight: 0.55, what: "TLS / x509 errors in the logs (error_class tls)", test: logClass("tls") }],
    expects: [{ what: "TLS or certificate errors in the logs", holds: (facts) => any(facts, logClass("tls")) }],
    alertWords: ["tls", "certificate"],
    checkFirst: () => [
      "inspect the served certificate's validity (openssl s_client -connect <host>:443 </dev/null | openssl x509 -noout -dates -issuer)",
      "check cert-manager's Certificate status and its renewal events",
    ],
  },
  {
    faultClass: "credential-mismatch",
    signals: [
      { weight: 0.5, what: "authentication failures in the logs (error_class auth)", test: logClass("auth") },
      { weight: 0.15, what: "every pod started before the auth failures (a credential changed underneath)", test: (f) => f.key === "secret.consumed" && f.attrs["all_started_before"] === true },
    ],
    expects: [{ what: "authentication failures in the logs", holds: (facts) => any(facts, logClass("auth")) }],
    alertWords: ["auth"],
    checkFirst: (s) => [
      `compare when the Secret ${s.service} consumes last changed with its pods' start times (a rotated credential not yet reloaded)`,
      "ask the dependency's owner whether the credential was rotated or revoked",
    ],
  },
  {
    faultClass: "dependency-down",
    signals: [
      { weight: 0.5, what: "connections refused or reset (error_class connection_refused / connection_reset)", test: logClass("connection_refused", "connection_reset") },
      { weight: 0.2, what: "a circuit breaker open", test: (f) => f.key === "breaker.state" && f.value === "open" },
      { weight: 0.3, what: "a dependency's Service does not exist", test: (f) => f.key === "dependency.service_missing" },
    ],
    expects: [{ what: "connection errors to a dependency in the logs", holds: (facts) => any(facts, logClass("connection_refused", "connection_reset")) }],
    alertWords: ["connection_refused", "connection_reset"],
    checkFirst: (s) => [`kubectl get endpoints and pods of the dependency ${s.alert} calls: no ready endpoints, restarts, a missing Service?`, "check the dependency's own alerts and recent changes"],
  },
  {
    faultClass: "downstream-latency",
    signals: [
      { weight: 0.4, what: "timeouts in the logs (error_class timeout)", test: logClass("timeout") },
      { weight: 0.35, what: "an abnormal metric on a dependency, not only on the alerting service", test: abnormalOnDependency },
    ],
    expects: [{ what: "an abnormal metric on a dependency", holds: (facts, a) => any(facts, (f) => abnormalOnDependency(f, a)) }],
    alertWords: ["latency", "timeout"],
    checkFirst: (s) => [
      `look at ${s.service !== s.alert ? s.service : "the dependencies"}' latency and error dashboards and recent changes: ${s.alert} may only be the messenger`,
      `check ${s.alert}'s client timeouts and retries against the dependency's p99`,
    ],
  },
  {
    faultClass: "memory-pressure",
    signals: [
      { weight: 0.5, what: "pods OOMKilled", test: (f) => (f.key === "pod.last_termination" || f.key === "pod.reason") && f.value === "OOMKilled" },
      { weight: 0.35, what: "out-of-memory errors in the logs (error_class oom)", test: logClass("oom") },
    ],
    expects: [{ what: "OOM kills or out-of-memory errors", holds: (facts) => any(facts, (f) => f.value === "OOMKilled" || logClass("oom")(f)) }],
    alertWords: ["oom", "memory"],
    checkFirst: (s) => [
      `kubectl describe pod for ${s.service}: last state OOMKilled? compare memory use with the limit over a day (a steady climb is a leak, a plateau at the limit is a limit too tight)`,
    ],
  },
  {
    faultClass: "capacity-saturation",
    signals: [
      { weight: 0.45, what: "CPU at ≥ 85% of what the ready pods may use", test: (f) => f.key === "cpu.saturation" && num(f) >= 0.85 },
      { weight: 0.35, what: "an HPA at its maximum", test: (f) => f.key === "hpa.at_max" },
    ],
    expects: [
      { what: "CPU near its limit or an HPA at its maximum", holds: (facts) => any(facts, saturated) },
      { what: "request rate above its baseline", holds: (facts) => any(facts, (f) => abnormal(f) && f.value === "request_rate") },
    ],
    alertWords: ["saturation", "autoscaler"],
    checkFirst: (s) => [
      "compare the request rate with its baseline: a traffic surge, a retry storm, or abuse?",
      `check ${s.service}'s CPU throttling and its HPA's limits (kubectl top pods; kubectl describe hpa)`,
    ],
  },
  {
    faultClass: "disk-full",
    // 85 %: where KubePersistentVolumeFillingUp's "less than 15 % available and filling" warning starts.
    signals: [{ weight: 0.5, what: "a volume ≥ 85% full", test: (f) => f.key === "disk.usage_pct" && num(f) >= 85 }],
    expects: [{ what: "a volume nearly full", holds: (facts) => any(facts, (f) => f.key === "disk.usage_pct" && num(f) >= 85) }],
    alertWords: ["disk"],
    checkFirst: (s) => [`find what fills ${s.service}'s volume (${String(s.fact?.attrs["top_path"] ?? "du -sh on the mount")}) before deleting anything`],
  },
  {
    faultClass: "consumer-lag",
    signals: [{ weight: 0.35, what: "consumer lag abnormal", test: (f) => abnormal(f) && /lag/.test(String(f.value)) }],
    expects: [{ what: "consumer lag above its baseline", holds: (facts) => any(facts, (f) => abnormal(f) && /lag/.test(String(f.value))) }],
    alertWords: ["lag"],
    checkFirst: () => ["check whether the consumer is stuck on one partition (a poison message: one partition's offset not moving) or merely slower than the producers"],
  },
  {
    faultClass: "quota-exceeded",
    signals: [{ weight: 0.6, what: "a ResourceQuota used up", test: (f) => f.key === "quota.exceeded" }],
    expects: [{ what: "a ResourceQuota used up", holds: (facts) => any(facts, (f) => f.key === "quota.exceeded") }],
    alertWords: ["quota"],
    checkFirst: () => ["kubectl describe resourcequota in the namespace and decide with its owner whether to raise it or free resources"],
  },
  {
    faultClass: "unschedulable",
    signals: [{ weight: 0.5, what: "pods that cannot be scheduled", test: (f) => f.key === "pod.unschedulable" && num(f) > 0 }],
    expects: [{ what: "pending pods the scheduler cannot place", holds: (facts) => any(facts, (f) => f.key === "pod.unschedulable" && num(f) > 0) }],
    alertWords: ["scheduling", "node"],
    checkFirst: () => ["kubectl describe pod <pending pod>: the scheduler's message names the missing resource, the taint or the cordoned node"],
  },
  {
    faultClass: "security-incident",
    signals: [
      { weight: 0.5, what: "a secret printed in the logs", test: (f) => f.key === "log.secret_exposure" },
      { weight: 0.55, what: "abuse in the logs (credential stuffing, scanning, token misuse, scraping)", test: (f) => f.key === "security.signal" },
    ],
    expects: [
      {
        what: "a secret in the logs, abuse in the logs or a security control's alert",
        holds: (facts) => any(facts, (f) => f.key === "log.secret_exposure" || f.key === "security.signal" || (f.key === "alert.text" && f.value === "security")),
      },
    ],
    alertWords: ["security"],
    checkFirst: () => ["treat it as a security incident: find who or what makes the requests (source addresses, tokens) before changing capacity; rotate exposed secrets"],
  },
  {
    faultClass: "flapping-threshold",
    signals: [{ weight: 0.45, what: "the alert resolved and re-fired ≥ 2 times", test: (f) => f.key === "alert.flaps" && num(f) >= 2 }],
    gate: (facts) => !any(facts, abnormal),
    expects: [{ what: "no abnormal metric anywhere", holds: (facts) => !any(facts, abnormal) }],
    alertWords: [],
    checkFirst: () => ["review the alert rule's threshold and `for:` duration against the metric's normal range over the last week"],
  },
  {
    faultClass: "external-dependency",
    signals: [
      {
        weight: 0.3,
        what: "only the alerting service's errors or latency abnormal, nothing changed, no error class in its logs but an upstream's 5xx",
        test: (f, a) => abnormal(f) && f.service === a && /error_rate|latency/.test(String(f.value)),
      },
      { weight: 0.3, what: "error lines naming a host outside the cluster (`external_host`)", test: externalCall },
      { weight: 0.1, what: "an upstream answering 502/503/504 (error_class upstream_status)", test: logClass("upstream_status") },
    ],
    gate: (facts, a) => {
      // What an outside failure shows: an upstream's 5xx always; timeouts, refusals, DNS and TLS errors too when the failing calls name an outside host.
      const outside = any(facts, externalCall) ? OUTSIDE_FAILURE_CLASSES : ["upstream_status"];
      return !any(facts, (f) => abnormalOnDependency(f, a) || saturated(f)) && nothingChanged(facts) && !anyLogClass(facts, outside);
    },
    expects: [
      { what: "no abnormal metric on the dependencies Suture can see", holds: (facts, a) => !any(facts, (f) => abnormalOnDependency(f, a)) },
      { what: "no rollout or config change in the last 4 hours", holds: (facts) => nothingChanged(facts) },
    ],
    alertWords: ["errors"],
    checkFirst: (s) => [
      "check the upstream provider's status page and the egress error logs",
      `look for a change outside the cluster that ${s.alert} depends on (a cloud service, a third-party API, DNS, a feature flag)`,
    ],
  },
  {
    // Last: on equal scores any class that names a fault wins.
    faultClass: "noisy-alert",
    signals: [
      { weight: 0.35, what: "the alerting service's metrics read and none abnormal", test: (f, a) => f.service === a && f.key.startsWith("metric.") && f.key !== "metric.anomalous" },
      { weight: 0.1, what: "its pods read and none restarted", test: (f, a) => f.service === a && f.key === "pod.restarts" && num(f) === 0 },
      { weight: 0.1, what: "its logs read and no error class in them", test: (f, a) => f.service === a && f.key === "log.signature" },
    ],
    gate: (facts) =>
      !any(facts, abnormal) &&
      !anyLogClass(facts) &&
      !any(
        facts,
        (f) =>
          IMPAIRED_OR_SUSPECT.includes(f.key) ||
          (f.key === "breaker.state" && f.value !== "closed") ||
          (f.key === "pod.not_ready" && num(f) > 0) ||
          (f.key === "alert.flaps" && num(f) >= 2) ||
          saturated(f),
      ),
    expects: [{ what: "no rollout or config change in the last 4 hours", holds: (facts) => nothingChanged(facts) }],
    alertWords: [],
    checkFirst: (s) => [
      `nothing Suture reads of ${s.alert} is impaired (no metric abnormal, errors, latency and readiness included; no failing pod; no error class in its logs): run the alert's own query and see what it counts — a benign state (page cache, a by-design queue, a retired route a probe still checks) or a threshold inside normal behaviour`,
      "if the condition is real, it lies outside what Suture reads: the datastore's or the provider's own metrics, the clients' side; and ask whether a planned change explains it",
    ],
  },
];

/** Facts that show something impaired or suspect: a noisy alert is never named beside them. */
const IMPAIRED_OR_SUSPECT = ["pod.reason", "pod.last_termination", "pod.unschedulable", "security.signal", "log.secret_exposure", "quota.exceeded", "hpa.at_max"];

/** Rule fault classes that are one of the table's classes under another name. */
const ALIASES: Record<string, string> = {
  "stale-alert": "noisy-alert",
  "memory-leak": "memory-pressure",
  "memory-limit-too-tight": "memory-pressure",
  "disk-full-logs": "disk-full",
  "kafka-poison-pill": "consumer-lag",
  "credential-leak": "security-incident",
  "security-alert": "security-incident",
  "security-abuse": "security-incident",
  "dependency-service-missing": "dependency-down",
};

const classFor = (faultClass: string): CauseClass | undefined => CAUSE_CLASSES.find((c) => c.faultClass === (ALIASES[faultClass] ?? faultClass));

interface Scored {
  cls: CauseClass;
  score: number;
  facts: Evidence[];
}

function scoreClass(cls: CauseClass, facts: Evidence[], alertService: string): Scored {
  const cited: Evidence[] = [];
  let score = 0;
  if (cls.gate !== undefined && !cls.gate(facts, alertService)) return { cls, score: 0, facts: [] };
  for (const signal of cls.signals) {
    const fact = facts.find((f) => signal.test(f, alertService));
    if (fact === undefined) continue;
    score += signal.weight;
    cited.push(fact);
  }
  // The alert's words only add to a class something else points at, or name one weakly on their own.
  const words = facts.find((f) => f.key === "alert.text" && cls.alertWords.includes(String(f.value)));
  if (words !== undefined) {
    score += ALERT_WORD_WEIGHT;
    cited.push(words);
  }
  return { cls, score: Math.min(MAX_TABLE_SCORE, round2(score)), facts: cited };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const cite = (f: Evidence): { id: string; summary: string } => ({ id: f.id, summary: f.summary });
const against = (cls: CauseClass, facts: Evidence[], alertService: string): string[] => cls.expects.filter((e) => !e.holds(facts, alertService)).map((e) => `expected ${e.what}, not seen`);

/** The service the check-first lines are about: that of the strongest non-alert fact for the cause. */
function subjectOf(cited: Evidence[], alertService: string): Subject {
  const fact = cited.find((f) => !f.key.startsWith("alert."));
  return { service: fact?.service !== undefined && fact.service !== "" ? fact.service : alertService, alert: alertService, fact };
}

/** A hypothesis' class, or `unclassified` when a reasoner (a model) gave none. */
function named(faultClass: string): string {
  return faultClass.trim() !== "" ? faultClass : "unclassified";
}

/**
 * Whether diagnose escalated because nothing explained the alert well enough: no hypothesis, or a
 * proposal below the confidence to act (the only escalation that keeps a proposal). Escalations a
 * rule or a policy decided already say why; these need the likely cause in their reason.
 */
export function escalatedUnexplained(diagnosis: Pick<Diagnosis, "decision" | "chosen" | "proposal">): boolean {
  return diagnosis.decision === "escalate" && (diagnosis.chosen === null || diagnosis.proposal !== null);
}

/** What an escalation says when no evidence points anywhere. */
export const NO_CAUSE = "no evidence points to a cause";

/**
 * The most likely cause of an alert Suture escalates without acting on: the best hypothesis when
 * there is one (even below the confidence to act), else the class of the table the evidence
 * scores highest; with the evidence for and against it, what to check first, and up to two runners-up.
 */
export function likelyCause(evidence: Evidence[], hypotheses: Hypothesis[], alertService: string, chosen: Hypothesis | null = null): LikelyCause {
  const byId = new Map(evidence.map((e) => [e.id, e]));
  const scored = CAUSE_CLASSES.map((c) => scoreClass(c, evidence, alertService))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score);
  const top = chosen ?? hypotheses[0];
  if (top !== undefined) {
    const cited = top.evidenceIds.map((id) => byId.get(id)).filter((e): e is Evidence => e !== undefined);
    const cls = classFor(top.faultClass);
    const candidate = top.candidates[0];
    const checkFirst =
      cls !== undefined
        ? cls.checkFirst(subjectOf(cited, alertService))
        : [
            `confirm "${top.title}" from the evidence it cites (${top.evidenceIds.join(", ") || "none"})`,
            ...(candidate !== undefined ? [`if it holds, the remediation Suture would have proposed is ${candidate.call.tool} ${JSON.stringify(candidate.call.params)}`] : []),
          ];
    const runnersUp = [
      ...hypotheses.filter((h) => h.faultClass !== top.faultClass).map((h) => ({ faultClass: named(h.faultClass), score: round2(h.confidence) })),
      ...scored.filter((s) => s.cls.faultClass !== (ALIASES[top.faultClass] ?? top.faultClass)).map((s) => ({ faultClass: s.cls.faultClass, score: s.score })),
    ].filter((r, i, all) => all.findIndex((x) => x.faultClass === r.faultClass) === i);
    return {
      faultClass: named(top.faultClass),
      score: round2(Math.max(0, Math.min(1, top.confidence))),
      basis: "hypothesis",
      for: cited.map(cite),
      against: [...(cls !== undefined ? against(cls, evidence, alertService) : []), ...(top.inconsistencies ?? [])],
      checkFirst,
      runnersUp: runnersUp.slice(0, 2),
    };
  }
  const best = scored[0];
  if (best === undefined) {
    return {
      faultClass: "unknown",
      score: 0,
      basis: "none",
      for: [],
      against: [`${NO_CAUSE}: no recent change, no error class in the logs, no abnormal metric Suture can attribute`],
      checkFirst: [
        `${NO_CAUSE}: start from the alert's own query and confirm the signal is real (the service's dashboard, kubectl get pods)`,
        "widen the look beyond what Suture reads: feature flags, cloud consoles, third-party status pages",
      ],
      runnersUp: [],
    };
  }
  return {
    faultClass: best.cls.faultClass,
    score: best.score,
    basis: "evidence",
    for: best.facts.map(cite),
    against: against(best.cls, evidence, alertService),
    checkFirst: best.cls.checkFirst(subjectOf(best.facts, alertService)),
    runnersUp: scored.slice(1, 3).map((s) => ({ faultClass: s.cls.faultClass, score: s.score })),
  };
}

/** The table as rows (class, signals with weights, alert words), for docs and tests. */
export function causeClassTable(): Array<{ faultClass: string; signals: Array<{ weight: number; what: string }>; alertWords: string[] }> {
  return CAUSE_CLASSES.map((c) => ({ faultClass: c.faultClass, signals: c.signals.map((s) => ({ weight: s.weight, what: s.what })), alertWords: c.alertWords }));
}
