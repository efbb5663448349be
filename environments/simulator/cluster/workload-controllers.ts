import type { World } from "../world.js";
import { statefulPod, statefulRevision } from "./build.js";
import { admitPod, profileOf, runKubelet } from "./controllers.js";
import { CONTROLLER_REVISION_LABEL, appContainer, objectKey, parseCpuCores, type Deployment, type HorizontalPodAutoscaler, type Pod, type StatefulSet } from "./objects.js";
import { writeObject } from "./writes.js";

const MINUTE = 60_000;

function isReady(p: Pod): boolean {
  return p.status.containerStatuses?.[0]?.ready === true;
}

/**
 * The StatefulSet controller (OrderedReady, RollingUpdate): pods `<name>-0..n-1`, created in
 * order, each only once the one before is Running and Ready; an update replaces pods from the
 * highest ordinal down, one at a time, and goes on only once the replaced pod is Running and
 * Ready, so a bad revision leaves pod n-1 failing and the others on the old revision.
 */
export function runStatefulSet(world: World, sts: StatefulSet): void {
  const profile = profileOf(world, sts);
  const namespace = sts.metadata.namespace ?? "default";
  const desired = sts.spec.replicas ?? 1;
  const updateRevision = statefulRevision(sts);
  let pods = world.cluster.podsOwnedBy(sts.metadata.uid);
  const byOrdinal = new Map(pods.map((p) => [Number(p.metadata.name.slice(sts.metadata.name.length + 1)), p]));
  // Scale down from the highest ordinal.
  for (const [ordinal, pod] of byOrdinal) {
    if (ordinal < desired) continue;
    world.cluster.remove("Pod", namespace, pod.metadata.name);
    delete world.state.kubelet[objectKey(namespace, pod.metadata.name)];
    byOrdinal.delete(ordinal);
    world.event(profile, "Normal", "SuccessfulDelete", `statefulset/${sts.metadata.name}`, `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`, "statefulset-controller");
  }
  // Create missing ordinals in order, each after the previous one is ready.
  for (let i = 0; i < desired; i++) {
    const pod = byOrdinal.get(i);
    if (pod !== undefined) {
      if (!isReady(pod)) break;
      continue;
    }
    const created = statefulPod(sts, i, world.state.t);
    if (admitPod(world, profile, created, `statefulset/${sts.metadata.name}`, "statefulset-controller")) {
      world.cluster.put("Pod", created);
      world.event(
        profile,
        "Normal",
        "SuccessfulCreate",
        `statefulset/${sts.metadata.name}`,
        `create Pod ${created.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
        "statefulset-controller",
      );
    }
    break;
  }
  // Rolling update: the highest ordinal not on the update revision, once every other pod is ready.
  pods = world.cluster.podsOwnedBy(sts.metadata.uid);
  if (sts.spec.updateStrategy?.type !== "OnDelete" && pods.length === desired) {
    const partition = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const stale = [...pods].reverse().find((p) => p.metadata.labels?.[CONTROLLER_REVISION_LABEL] !== updateRevision && Number(p.metadata.name.slice(sts.metadata.name.length + 1)) >= partition);
    const othersReady = pods.every((p) => p === stale || isReady(p));
    if (stale !== undefined && othersReady) {
      world.cluster.remove("Pod", namespace, stale.metadata.name);
      delete world.state.kubelet[objectKey(namespace, stale.metadata.name)];
      const ordinal = Number(stale.metadata.name.slice(sts.metadata.name.length + 1));
      const replacement = statefulPod(sts, ordinal, world.state.t);
      if (admitPod(world, profile, replacement, `statefulset/${sts.metadata.name}`, "statefulset-controller")) world.cluster.put("Pod", replacement);
      world.event(
        profile,
        "Normal",
        "SuccessfulDelete",
        `statefulset/${sts.metadata.name}`,
        `delete Pod ${stale.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
        "statefulset-controller",
      );
    }
  }
  pods = world.cluster.podsOwnedBy(sts.metadata.uid);
  runKubelet(world, profile, pods);
  // Status.
  const ready = pods.filter(isReady).length;
  const updated = pods.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_LABEL] === updateRevision).length;
  const previous = sts.status?.currentRevision ?? updateRevision;
  const currentRevision = updated === desired && ready === desired ? updateRevision : previous;
  const current = pods.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_LABEL] === currentRevision).length;
  const status = {
    ...(sts.status ?? {}),
    observedGeneration: sts.metadata.generation ?? 1,
    replicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    currentRevision,
    updateRevision,
  };
  if (JSON.stringify(status) !== JSON.stringify(sts.status ?? {})) {
    sts.status = status;
    world.cluster.touch(sts);
  }
}

/** Tolerance within which the HPA leaves replicas alone (kube-controller-manager's default 10%). */
const HPA_TOLERANCE = 0.1;
/** How long a lower recommendation must hold before the HPA scales down (default 5 minutes). */
const SCALE_DOWN_STABILIZATION_MS = 5 * MINUTE;

/** CPU utilization (percent of request) of the target's pods, from the simulated load; undefined when nothing can be measured. */
function cpuUtilization(world: World, target: Deployment | StatefulSet, pods: Pod[]): { utilization: number; averageCores: number } | undefined {
  const ready = pods.filter(isReady);
  if (ready.length === 0) return undefined;
  const container = appContainer(target.spec.template.spec);
  const request = parseCpuCores(container?.resources?.requests?.cpu);
  const limit = parseCpuCores(container?.resources?.limits?.cpu) ?? Infinity;
  if (request === undefined || request <= 0) return undefined;
  const sim = profileOf(world, target).sim;
  const demandCores = sim === undefined ? 0 : sim.baseline.requestRate * sim.loadFactor * sim.cpuPerRequest;
  const averageCores = Math.min(limit, demandCores / ready.length);
  return { utilization: Math.round((100 * averageCores) / request), averageCores };
}

/**
 * The HorizontalPodAutoscaler controller (autoscaling/v2, CPU utilization): scales its target
 * between minReplicas and maxReplicas toward the target utilization, scales down only after the
 * stabilization window, sets back a target scaled past its bounds, and reports ScalingLimited
 * (TooManyReplicas / TooFewReplicas) when the bounds hold it.
 */
export function runHpa(world: World, hpa: HorizontalPodAutoscaler): void {
  const namespace = hpa.metadata.namespace ?? "default";
  const ref = hpa.spec.scaleTargetRef;
  const kind = ref.kind === "StatefulSet" ? "StatefulSet" : "Deployment";
  const target = world.cluster.get(kind, namespace, ref.name);
  const t = world.state.t;
  const conditions: NonNullable<NonNullable<HorizontalPodAutoscaler["status"]>["conditions"]> = [];
  const previous = hpa.status?.conditions ?? [];
  const condition = (type: string, status: string, reason: string, message: string): void => {
    const before = previous.find((c) => c.type === type);
    conditions.push({ type, status, reason, message, lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : new Date(t).toISOString() });
  };
  const profile = { name: ref.name, namespace };
  if (target === undefined) {
    condition("AbleToScale", "False", "FailedGetScale", `the HPA controller was unable to get the target's current scale: ${kind.toLowerCase()}s.apps "${ref.name}" not found`);
    setHpaStatus(world, hpa, { ...(hpa.status ?? {}), desiredReplicas: hpa.status?.desiredReplicas ?? 0, conditions });
    return;
  }
  const pods = kind === "StatefulSet" ? world.cluster.podsOwnedBy(target.metadata.uid) : world.cluster.podsOf(target);
  const current = target.spec.replicas ?? 1;
  const min = hpa.spec.minReplicas ?? 1;
  const max = hpa.spec.maxReplicas;
  const metric = (hpa.spec.metrics ?? []).find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  const targetUtilization = metric?.resource?.target.averageUtilization ?? 80;
  const measured = cpuUtilization(world, target, pods);
  let raw = current;
  if (measured !== undefined) {
    const ratio = measured.utilization / targetUtilization;
    const readyCount = pods.filter(isReady).length;
    raw = Math.abs(ratio - 1) <= HPA_TOLERANCE ? current : Math.ceil(readyCount * ratio);
  }
  // Scale-down stabilization: the highest recommendation of the window.
  const history = ((world.state.hpaRecommendations ??= {})[objectKey(namespace, hpa.metadata.name)] ??= []);
  history.push({ t, replicas: raw });
  while (history.length > 0 && (history[0]?.t ?? t) < t - SCALE_DOWN_STABILIZATION_MS) history.shift();
  const stabilized = raw < current ? Math.min(current, Math.max(...history.map((h) => h.replicas))) : raw;
  const desired = Math.max(min, Math.min(max, stabilized));
  condition(
    "AbleToScale",
    "True",
    desired === current ? "ReadyForNewScale" : "SucceededRescale",
    desired === current ? "recommended size matches current size" : `the HPA controller was able to update the target scale to ${desired}`,
  );
  if (measured === undefined)
    condition("ScalingActive", "False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count: did not receive metrics for targeted pods (pods might be unready)");
  else condition("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)");
  if (stabilized > max) condition("ScalingLimited", "True", "TooManyReplicas", "the desired replica count is more than the maximum replica count");
  else if (stabilized < min) condition("ScalingLimited", "True", "TooFewReplicas", "the desired replica count is less than the minimum replica count");
  else condition("ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range");
  let lastScaleTime = hpa.status?.lastScaleTime;
  if (desired !== current) {
    const changed = structuredClone(target);
    changed.spec.replicas = desired;
    writeObject(world, kind, { verb: "update", object: changed }, false, "horizontal-pod-autoscaler");
    lastScaleTime = new Date(t).toISOString();
    const why =
      desired > current
        ? "cpu resource utilization (percentage of request) above target"
        : desired < current && stabilized >= min && current <= max
          ? "All metrics below target"
          : current > max
            ? "Current number of replicas above Spec.MaxReplicas"
            : "Current number of replicas below Spec.MinReplicas";
    world.event(profile, "Normal", "SuccessfulRescale", `horizontalpodautoscaler/${hpa.metadata.name}`, `New size: ${desired}; reason: ${why}`, "horizontal-pod-autoscaler");
  }
  setHpaStatus(world, hpa, {
    ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
    currentReplicas: current,
    desiredReplicas: desired,
    currentMetrics:
      measured === undefined
        ? []
        : [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: measured.utilization, averageValue: `${Math.round(measured.averageCores * 1000)}m` } } }],
    conditions,
  });
}

function setHpaStatus(world: World, hpa: HorizontalPodAutoscaler, status: NonNullable<HorizontalPodAutoscaler["status"]>): void {
  if (JSON.stringify(status) === JSON.stringify(hpa.status ?? {})) return;
  hpa.status = status;
  world.cluster.touch(hpa);
}

/** The StatefulSet and HorizontalPodAutoscaler controllers, once each (before the Deployment controllers, so a rescale rolls out in the same tick). */
export function runWorkloadControllers(world: World): void {
  for (const hpa of world.cluster.list("HorizontalPodAutoscaler")) runHpa(world, hpa);
  for (const sts of world.cluster.list("StatefulSet")) runStatefulSet(world, sts);
}
