import { isAnomalous } from "../../evidence/anomaly.js";
import { summarizeSeries } from "../../evidence/metrics.js";
import type { MetricName } from "../../environments/adapter.js";
import type { runScenario } from "../../app/scenario-run.js";

const MINUTE = 60_000;
/** Metrics that measure user harm (the ones verify judges recovery on). */
const HARM = new Set(["error_rate", "latency_p99_ms", "request_rate", "ready_replicas", "consumer_lag", "disk_usage_pct"]);
const FAILING = new Set(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "Error"]);

/**
 * Watches a run that verify closed as resolved for 30 more simulated minutes, looking every 5:
 * what came back (a harm signal abnormal again, a pod failing or restarted, a working set climbing
 * toward its limit again), one line per finding, empty when the repair held. Also reports a
 * resolution verify did not sample its settle window for.
 */
export async function relapsesAfter(name: string, run: Awaited<ReturnType<typeof runScenario>>): Promise<string[]> {
  if (run.state.outcome?.status !== "resolved") return [];
  const relapsed: string[] = [];
  const recoveredAt = run.env.now();
  const attempt = run.state.attempts.at(-1);
  if ((attempt?.samples?.length ?? 0) === 0) relapsed.push(`${name}: verify did not sample its settle window`);
  const watched = (run.state.context?.snapshot.signals ?? []).filter((s) => HARM.has(s.metric));
  const service = run.state.alert.service;
  const memoryAt = async (): Promise<number | undefined> => summarizeSeries(await run.env.queryMetric(service, "memory_mib", 5))?.current;
  // Pods a fix restarted fill their caches for a few minutes; a leak keeps climbing after that.
  let warm: { minute: number; mib: number } | undefined;
  for (let minute = 5; minute <= 30; minute += 5) {
    await run.env.advanceTo(recoveredAt + minute * MINUTE);
    for (const s of watched) {
      const current = summarizeSeries(await run.env.queryMetric(s.service, s.metric as MetricName, 5))?.current;
      if (current !== undefined && isAnomalous(s.metric, current, s.baseline))
        relapsed.push(`${name}: ${s.service} ${s.metric} ${current.toFixed(3)} vs ${s.baseline.toFixed(3)} ${minute} min after recovery`);
    }
    // A leak that came back: the working set climbing toward the limit again (a restart bought minutes, not a fix).
    const workload = await run.env.describeWorkload(service);
    const limit = workload.deployment.memoryLimitMib;
    const memory = await memoryAt();
    if (memory !== undefined && warm === undefined) warm = { minute, mib: memory };
    if (memory !== undefined && warm !== undefined && minute > warm.minute && limit > 0) {
      const perMinute = (memory - warm.mib) / (minute - warm.minute);
      if (memory - warm.mib > 0.1 * limit && perMinute > 0 && (limit - memory) / perMinute < 60) {
        relapsed.push(`${name}: ${service} memory ${warm.mib.toFixed(0)} → ${memory.toFixed(0)} MiB of ${limit} ${minute} min after recovery`);
      }
    }
    const pods = workload.pods.filter((p) => (p.reason !== undefined && FAILING.has(p.reason)) || (p.restarts > 0 && p.startedAt > recoveredAt));
    if (pods.length > 0) relapsed.push(`${name}: ${pods.length} ${service} pod(s) failing or restarted ${minute} min after recovery (${pods[0]?.reason ?? pods[0]?.lastTerminationReason ?? ""})`);
  }
  return relapsed;
}
