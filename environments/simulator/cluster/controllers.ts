import type { SimService, World } from "../world.js";
import type { ObservationSpec } from "../spec.js";
import { newPod, nodeName, replicaSetFor } from "./build.js";
import { quotaRefusal, updateQuotaStatus } from "./quota.js";
import { markUnschedulable, pickNode, startedContainerStatus } from "./scheduler.js";
import type { ClusterStore } from "./store.js";
import {
  APP_CONTAINER,
  ARCH_LABEL,
  CHANGE_CAUSE_ANNOTATION,
  CONTENT_HASH_ANNOTATION,
  podIp,
  secretsOf,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  ROLLED_OUT_AT_ANNOTATION,
  TEMPLATE_HASH_LABEL,
  appContainer,
  iso,
  matchesLabels,
  objectKey,
  parseMemoryMib,
  revisionOf,
  templateHash,
  type Deployment,
  type Endpoints,
  type KubeletRecord,
  type Pod,
  type ReplicaSet,
} from "./objects.js";

const MINUTE = 60_000;

/** What the controllers need to know about a workload beyond its objects (a Deployment made through the API has no simulated service). */
export interface WorkloadProfile {
  /** The simulated service, when the Deployment is one of the scenario's workloads. */
  sim?: SimService;
  name: string;
  namespace: string;
  workingSetMib: number;
  baselineMemoryMib: number;
}

/** The profile of a Deployment: its simulated service's, or a small default one. */
export function profileOf(world: World, d: Pick<Deployment, "metadata">): WorkloadProfile {
  const namespace = d.metadata.namespace ?? "default";
  const sim = world.state.services[d.metadata.name];
  if (sim !== undefined && sim.namespace === namespace) return { sim, name: sim.name, namespace, workingSetMib: sim.workingSetMib, baselineMemoryMib: sim.baselineMemoryMib };
  return { name: d.metadata.name, namespace, workingSetMib: 64, baselineMemoryMib: 64 };
}

/** A pod's container state as the simulator models it. */
export type PodState = "running" | "crashloop" | "imagepull";

/** The state of a pod's app container. */
export function podState(pod: Pod): PodState {
  const state = pod.status.containerStatuses?.[0]?.state;
  if (state?.running !== undefined) return "running";
  const reason = state?.waiting?.reason;
  if (reason === "ImagePullBackOff" || reason === "ErrImagePull") return "imagepull";
  if (reason === undefined && state?.terminated === undefined) return "running";
  return "crashloop";
}

/**
 * Deployment controller, rollout half: makes sure a ReplicaSet runs the Deployment's template.
 * A template equal to an older ReplicaSet's re-uses that ReplicaSet with the next revision (that
 * is how `kubectl rollout undo` works); a new template gets a new ReplicaSet. Returns the new one.
 */
export function syncRollout(world: World, d: Deployment): ReplicaSet {
  const owned = world.cluster.replicaSetsOf(d);
  const hash = templateHash(d.spec.template);
  const latest = owned[owned.length - 1];
  const maxRevision = latest === undefined ? 0 : revisionOf(latest);
  let rs = owned.find((r) => r.metadata.labels?.[TEMPLATE_HASH_LABEL] === hash);
  const cause = d.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
  if (rs !== undefined && rs === latest) return rs;
  const t = world.state.t;
  if (rs === undefined) {
    rs = world.cluster.put("ReplicaSet", replicaSetFor(d, d.spec.template, maxRevision + 1, t, cause));
    rs.metadata.creationTimestamp = iso(t);
  } else {
    const annotations = (rs.metadata.annotations ??= {});
    const history = annotations[REVISION_HISTORY_ANNOTATION];
    annotations[REVISION_HISTORY_ANNOTATION] = history === undefined ? String(revisionOf(rs)) : `${history},${revisionOf(rs)}`;
    annotations[REVISION_ANNOTATION] = String(maxRevision + 1);
    annotations[ROLLED_OUT_AT_ANNOTATION] = iso(t);
    if (cause !== undefined) annotations[CHANGE_CAUSE_ANNOTATION] = cause;
    else delete annotations[CHANGE_CAUSE_ANNOTATION];
    world.cluster.touch(rs);
    world.cluster.revisionsChanged();
  }
  (d.metadata.annotations ??= {})[REVISION_ANNOTATION] = String(revisionOf(rs));
  world.cluster.touch(d);
  // The event's random suffix is drawn and dropped: the simulator drew one here before ReplicaSets were objects.
  world.rng.suffix(7);
  const profile = profileOf(world, d);
  world.event(profile, "Normal", "ScalingReplicaSet", `deployment/${d.metadata.name}`, `Scaled up replica set ${rs.metadata.name} to ${d.spec.replicas ?? 1}`);
  return rs;
}

function backoffMs(restarts: number, ranForMs: number): number {
  // Kubernetes doubles the restart back-off up to 5 minutes, and resets it after 10 minutes of running.
  if (ranForMs > 10 * MINUTE) return 10_000;
  return Math.min(300_000, 10_000 * 2 ** Math.min(5, Math.max(0, restarts - 1)));
}

/** Whether the cluster's nodes are only the simulator's default ones (no capacity, none cordoned or tainted): pods go to the node of their architecture. */
function defaultNodes(world: World): boolean {
  return world.cluster.list("Node").every((n) => n.status?.allocatable === undefined && n.spec?.unschedulable !== true && (n.spec?.taints ?? []).length === 0);
}

/** Records the content of each Secret the container reads as it starts (env from Secrets is fixed for the container's life). */
function captureSecrets(world: World, pod: Pod, record: KubeletRecord): void {
  const names = secretsOf(pod.spec);
  if (names.length === 0) return;
  record.secrets = Object.fromEntries(names.map((n) => [n, world.cluster.get("Secret", pod.metadata.namespace, n)?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] ?? ""]));
}

/**
 * Binds a pod to a node, or leaves it Pending with a FailedScheduling event when none fits.
 * Returns whether it is bound.
 */
export function bindPod(world: World, profile: Pick<WorkloadProfile, "name" | "namespace">, pod: Pod): boolean {
  const legacy = defaultNodes(world);
  if (legacy && pod.spec.nodeName !== undefined) return true;
  const placed = legacy ? { node: nodeName(pod.spec.nodeSelector?.[ARCH_LABEL] ?? "amd64") } : pickNode(world.cluster, pod.spec, pod);
  if ("node" in placed) {
    const wasPending = pod.spec.nodeName === undefined;
    pod.spec.nodeName = placed.node;
    if (wasPending) {
      const t = world.state.t;
      pod.status = { ...pod.status, phase: "Running", podIP: podIp(pod.metadata.name), hostIP: "10.0.0.10", startTime: iso(t), containerStatuses: [startedContainerStatus(pod, t)] };
      delete pod.status.conditions;
      const record = world.kubelet(pod);
      record.startedAt = t;
      record.backoffUntil = 0;
      captureSecrets(world, pod, record);
      world.event(profile, "Normal", "Scheduled", `pod/${pod.metadata.name}`, `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${placed.node}`, "default-scheduler");
    }
    return true;
  }
  markUnschedulable(pod, placed.message, world.state.t);
  world.event(profile, "Warning", "FailedScheduling", `pod/${pod.metadata.name}`, placed.message, "default-scheduler");
  return false;
}

/**
 * Admits a new pod of a controller: quota admission (a refusal is a FailedCreate event on the
 * owner), then its kubelet record (the Secrets it reads) and the scheduler. Returns whether it
 * was admitted; the caller stores it.
 */
export function admitPod(world: World, profile: WorkloadProfile, pod: Pod, owner: string, component: string): boolean {
  // Admission sees the pod as the controller sends it: named by its generateName prefix (a StatefulSet's pods by their own name).
  const controller = pod.metadata.ownerReferences?.[0];
  const shownName = controller?.kind === "ReplicaSet" ? `${controller.name}-` : pod.metadata.name;
  const refusal = quotaRefusal(world.cluster, pod.metadata.namespace ?? "", shownName, pod.spec);
  if (refusal !== undefined) {
    world.event(profile, "Warning", "FailedCreate", owner, `Error creating: ${refusal}`, component);
    return false;
  }
  const record: KubeletRecord = { startedAt: world.state.t, backoffUntil: 0, memoryMib: profile.baselineMemoryMib * 0.5 };
  world.state.kubelet[objectKey(pod.metadata.namespace, pod.metadata.name)] = record;
  captureSecrets(world, pod, record);
  bindPod(world, profile, pod);
  return true;
}

/** Creates a pod of a ReplicaSet with its kubelet record, through quota admission and the scheduler; undefined when a quota refuses it. */
function startPod(world: World, profile: WorkloadProfile, rs: ReplicaSet): Pod | undefined {
  const pod = newPod(world.rng, rs, world.state.t);
  if (!admitPod(world, profile, pod, `replicaset/${rs.metadata.name}`, "replicaset-controller")) return undefined;
  // Stored at once when capacity or quota is counted, so the next pod of the same pass sees it.
  if (!defaultNodes(world) || world.cluster.list("ResourceQuota", pod.metadata.namespace).length > 0) world.cluster.put("Pod", pod);
  return pod;
}

/** Why a template's pods do not become ready on their own (they cannot start, or fail readiness), or undefined. */
function neverReady(world: World, spec: Pod["spec"]): string | undefined {
  const failure = world.startFailure(spec);
  if (failure !== undefined) return failure.state;
  return world.readinessFailure(spec);
}

/**
 * Deployment and ReplicaSet controllers, pod half: keeps the desired replicas on the new
 * ReplicaSet. A new ReplicaSet whose pods cannot start, never become ready or cannot be
 * scheduled stalls the rolling update where maxSurge and maxUnavailable (25%, rounded up) leave
 * it: ceil(n/4)+1 new pods, n-ceil(n/4) old ones, taken from the newest older ReplicaSet that
 * can start. A new pod a ResourceQuota refuses is not created (FailedCreate), and the old pods
 * stay until new ones are ready.
 */
function reconcilePods(world: World, profile: WorkloadProfile, d: Deployment, newRs: ReplicaSet): void {
  if (!defaultNodes(world) || world.cluster.list("ResourceQuota", d.metadata.namespace).length > 0) {
    reconcileRolling(world, profile, d, newRs);
    return;
  }
  const desired = d.spec.replicas ?? 1;
  const pods = world.cluster.podsOf(d);
  const isNew = (p: Pod): boolean => p.metadata.ownerReferences?.[0]?.uid === newRs.metadata.uid;
  const currentPods = pods.filter(isNew);
  const unschedulable = currentPods.some((p) => p.spec.nodeName === undefined);
  const failure = neverReady(world, newRs.spec.template.spec) ?? (unschedulable ? "unschedulable" : undefined);
  let wantCurrent = desired;
  let wantOld = 0;
  if (failure !== undefined && desired > 0) {
    const quarter = Math.ceil(desired / 4);
    wantOld = Math.max(0, desired - quarter);
    wantCurrent = Math.min(desired, quarter + 1);
  }
  const oldPods = pods.filter((p) => !isNew(p)).slice(0, wantOld);
  if (oldPods.length < wantOld) {
    const newRevision = revisionOf(newRs);
    const fallback = world.cluster
      .replicaSetsOf(d)
      .filter((r) => revisionOf(r) < newRevision && world.startFailure(r.spec.template.spec) === undefined)
      .pop();
    while (oldPods.length < wantOld && fallback !== undefined) {
      const pod = startPod(world, profile, fallback);
      if (pod === undefined) break;
      oldPods.push(pod);
    }
  }
  const keptCurrent = currentPods.slice(0, wantCurrent);
  let refused = false;
  while (keptCurrent.length < wantCurrent) {
    const pod = startPod(world, profile, newRs);
    if (pod === undefined) {
      refused = true;
      break;
    }
    keptCurrent.push(pod);
  }
  if (refused) {
    // A quota holds the rollout back: old pods go only as new ones are ready.
    const keepOld = desired - keptCurrent.filter((p) => p.status.containerStatuses?.[0]?.ready === true).length;
    for (const p of pods.filter((x) => !isNew(x) && !oldPods.includes(x))) if (oldPods.length < keepOld) oldPods.push(p);
  }
  const next = [...oldPods, ...keptCurrent];
  const unchanged = next.length === pods.length && next.every((p, i) => p === pods[i]);
  if (unchanged) return;
  for (const gone of world.cluster.replacePods(d, next)) delete world.state.kubelet[objectKey(gone.metadata.namespace, gone.metadata.name)];
  for (const rs of world.cluster.replicaSetsOf(d)) {
    const count = next.filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid).length;
    if (rs.spec.replicas !== count) {
      rs.spec.replicas = count;
      world.cluster.touch(rs);
    }
  }
}

/**
 * The rolling update step by step, as the Deployment controller does it where capacity counts
 * (declared nodes, a quota): the new ReplicaSet grows within maxSurge (25%, rounded up), old
 * pods go only while maxUnavailable (25%, rounded down) allows, counting new pods that are
 * wanted but not ready (Pending, refused by a quota, crashing) as unavailable.
 */
function reconcileRolling(world: World, profile: WorkloadProfile, d: Deployment, newRs: ReplicaSet): void {
  const desired = d.spec.replicas ?? 1;
  const pods = world.cluster.podsOf(d);
  const isNew = (p: Pod): boolean => p.metadata.ownerReferences?.[0]?.uid === newRs.metadata.uid;
  const ready = (p: Pod): boolean => p.status.containerStatuses?.[0]?.ready === true;
  const oldPods = pods.filter((p) => !isNew(p));
  const keptNew = pods.filter(isNew).slice(0, desired);
  const surge = Math.ceil(desired / 4);
  const maxUnavailable = Math.floor(desired / 4);
  const room = Math.max(0, desired + surge - (keptNew.length + oldPods.length));
  const newTarget = Math.min(desired, keptNew.length + room);
  while (keptNew.length < newTarget) {
    const pod = startPod(world, profile, newRs);
    if (pod === undefined) break;
    keptNew.push(pod);
  }
  const newReady = keptNew.filter(ready).length;
  let keptOld: Pod[];
  if (newReady >= desired) {
    keptOld = [];
  } else {
    const total = keptNew.length + oldPods.length;
    const removable = Math.max(0, total - (desired - maxUnavailable) - (newTarget - newReady));
    // Unready old pods go first.
    const order = [...oldPods.filter(ready), ...oldPods.filter((p) => !ready(p))];
    keptOld = order.slice(0, Math.max(0, order.length - removable));
    keptOld = oldPods.filter((p) => keptOld.includes(p));
  }
  const next = [...keptOld, ...keptNew];
  const unchanged = next.length === pods.length && next.every((p, i) => p === pods[i]);
  if (unchanged) return;
  for (const gone of world.cluster.replacePods(d, next)) delete world.state.kubelet[objectKey(gone.metadata.namespace, gone.metadata.name)];
  for (const rs of world.cluster.replicaSetsOf(d)) {
    const count = rs === newRs ? newTarget : next.filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid).length;
    if (rs.spec.replicas !== count) {
      rs.spec.replicas = count;
      world.cluster.touch(rs);
    }
  }
}

function podMemory(world: World, profile: WorkloadProfile, pod: Pod, record: KubeletRecord): number {
  const t = world.state.t;
  const ageMin = (t - record.startedAt) / MINUTE;
  const warm = profile.workingSetMib * Math.min(1, 0.6 + 0.4 * (ageMin / 2));
  const image = world.image(appContainer(pod.spec)?.image ?? "");
  const leak = image?.leakMibPerMin ?? 0;
  const leakFrom = Math.max(record.startedAt, image?.leakFrom ?? t);
  const leaked = leak > 0 && t > leakFrom ? (leak * (t - leakFrom)) / MINUTE : 0;
  return warm * world.rng.jitter(0.02) + leaked;
}

/** Writes a pod's container status for a state; gives the pod a new resourceVersion if it changed. */
function setPodState(world: World, pod: Pod, state: PodState, record: KubeletRecord, ready = true, waiting?: { reason: string; message: string }): void {
  const cs = pod.status.containerStatuses?.[0];
  if (cs === undefined) return;
  const before = cs.state?.running !== undefined ? "running" : (cs.state?.waiting?.reason ?? "");
  // Most ticks change nothing: a running container that keeps running.
  // (The start time only moves when a container starts again, which is a change of state.)
  if (state === "running" && before === "running") {
    const readyChanged = cs.ready !== ready;
    cs.ready = ready;
    if (setPodConditions(world, pod, ready) || readyChanged) world.cluster.touch(pod);
    return;
  }
  const image = cs.image;
  if (state === "running") {
    cs.state = { running: { startedAt: iso(record.startedAt) } };
  } else if (state === "crashloop" && waiting !== undefined) {
    cs.state = { waiting };
  } else if (state === "crashloop") {
    cs.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off restarting failed container=${APP_CONTAINER} pod=${pod.metadata.name}` } };
  } else {
    // The kubelet alternates between pulling (ErrImagePull) and backing off (ImagePullBackOff).
    const flip = Math.floor(world.state.t / 60_000) % 2 === 0;
    cs.state = { waiting: { reason: flip ? "ImagePullBackOff" : "ErrImagePull", message: `Back-off pulling image "${image}"` } };
  }
  cs.ready = state === "running" && ready;
  cs.started = state === "running";
  pod.status.phase = state === "imagepull" ? "Pending" : "Running";
  const after = cs.state.running !== undefined ? "running" : (cs.state.waiting?.reason ?? "");
  const conditionsChanged = setPodConditions(world, pod, cs.ready);
  if (after !== before || conditionsChanged) world.cluster.touch(pod);
}

/**
 * Keeps the pod's conditions as the kubelet reports them: scheduled and initialized, and Ready /
 * ContainersReady following the container (what `kubectl get` READY and clients read).
 * Returns whether they changed.
 */
function setPodConditions(world: World, pod: Pod, ready: boolean): boolean {
  const status = ready ? "True" : "False";
  const current = pod.status.conditions?.find((c) => c.type === "Ready")?.status;
  if (current === status) return false;
  const since = iso(world.state.t);
  const scheduled = pod.status.conditions?.find((c) => c.type === "PodScheduled")?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? since;
  pod.status.conditions = [
    { type: "PodScheduled", status: "True", lastTransitionTime: scheduled },
    { type: "Initialized", status: "True", lastTransitionTime: scheduled },
    { type: "ContainersReady", status, lastTransitionTime: since, ...(ready ? {} : { reason: "ContainersNotReady" }) },
    { type: "Ready", status, lastTransitionTime: since, ...(ready ? {} : { reason: "ContainersNotReady" }) },
  ];
  return true;
}

/** Records a container's termination. */
function terminated(world: World, pod: Pod, reason: string, record: KubeletRecord, exitCode?: number, message?: string): void {
  const cs = pod.status.containerStatuses?.[0];
  if (cs === undefined) return;
  cs.restartCount += 1;
  cs.lastState = {
    terminated: { reason, exitCode: exitCode ?? (reason === "OOMKilled" ? 137 : 1), ...(message !== undefined ? { message } : {}), startedAt: iso(record.startedAt), finishedAt: iso(world.state.t) },
  };
}

/** The kubelet: starts containers or fails them (image pull, crash), OOM-kills at the limit, backs off restarts. */
export function runKubelet(world: World, profile: WorkloadProfile, pods: Pod[]): void {
  const t = world.state.t;
  const sim = profile.sim;
  const scripted = scriptedPods(world, profile, pods);
  for (const pod of pods) {
    const script = scripted.get(pod);
    if (script !== undefined) {
      applyScriptedPod(world, pod, script);
      continue;
    }
    // A pod no node took waits for the scheduler; the scheduler tries again every tick.
    if (pod.spec.nodeName === undefined && !bindPod(world, profile, pod)) continue;
    const record = world.kubelet(pod);
    const container = appContainer(pod.spec);
    const image = container?.image ?? "";
    let state = podState(pod);
    const cannotStart = world.startFailure(pod.spec, pod.status.podIP);
    if (cannotStart !== undefined) {
      if (state === "running") {
        state = cannotStart.state;
        record.backoffUntil = t + 10_000;
      }
      let waiting: { reason: string; message: string } | undefined;
      if (cannotStart.state === "crashloop" && t >= record.backoffUntil) {
        terminated(world, pod, cannotStart.reason ?? "Error", record, cannotStart.exitCode, cannotStart.waitingReason !== undefined ? cannotStart.event?.message : undefined);
        record.backoffUntil = t + backoffMs(pod.status.containerStatuses?.[0]?.restartCount ?? 0, 0);
        if (cannotStart.event !== undefined) world.event(profile, "Warning", cannotStart.event.reason, `pod/${pod.metadata.name}`, cannotStart.event.message);
        if (cannotStart.liveness === true) {
          world.event(profile, "Normal", "Killing", `pod/${pod.metadata.name}`, `Container ${APP_CONTAINER} failed liveness probe, will be restarted`);
          if (sim !== undefined) world.log(sim, "info", cannotStart.log, pod.metadata.name);
        } else if (cannotStart.waitingReason !== undefined) {
          // The container never started: no log, the runtime's error is the waiting message.
          waiting = { reason: cannotStart.waitingReason, message: cannotStart.event?.message ?? cannotStart.log };
        } else if (sim !== undefined) {
          world.log(sim, "fatal", cannotStart.log, pod.metadata.name, cannotStart.exitCode !== undefined);
        }
      }
      setPodState(world, pod, state, record, true, waiting);
      if (cannotStart.state === "crashloop") {
        world.event(profile, "Warning", "BackOff", `pod/${pod.metadata.name}`, `Back-off restarting failed container app in pod ${pod.metadata.name}`);
      } else {
        world.event(
          profile,
          "Warning",
          "Failed",
          `pod/${pod.metadata.name}`,
          `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`,
        );
        world.event(profile, "Warning", "BackOff", `pod/${pod.metadata.name}`, `Back-off pulling image "${image}"`);
      }
      continue;
    }
    if (state === "crashloop" || state === "imagepull") {
      if (t < record.backoffUntil) {
        world.event(profile, "Warning", "BackOff", `pod/${pod.metadata.name}`, `Back-off restarting failed container app in pod ${pod.metadata.name}`);
        continue;
      }
      state = "running";
      record.startedAt = t;
      captureSecrets(world, pod, record);
    }
    const unready = world.readinessFailure(pod.spec, pod.status.podIP);
    if (unready !== undefined) world.event(profile, "Warning", "Unhealthy", `pod/${pod.metadata.name}`, unready);
    const limit = parseMemoryMib(container?.resources?.limits?.memory) ?? Infinity;
    record.memoryMib = podMemory(world, profile, pod, record);
    if (record.memoryMib >= limit) {
      const ranFor = t - record.startedAt;
      record.memoryMib = limit;
      terminated(world, pod, "OOMKilled", record);
      state = "crashloop";
      record.backoffUntil = t + backoffMs(pod.status.containerStatuses?.[0]?.restartCount ?? 0, ranFor);
    } else if (record.memoryMib > limit * 0.9 && world.rng.chance(0.3) && sim !== undefined) {
      world.log(sim, "warn", `heap usage at ${Math.round((100 * record.memoryMib) / limit)}% of container memory limit`, pod.metadata.name);
    }
    setPodState(world, pod, state, record, unready === undefined);
  }
}

/** One pod as a scenario scripts it (`observations.<service>.pods`). */
type ScriptedPod = NonNullable<ObservationSpec["pods"]>[number];

/**
 * The workload's pods a scenario scripted — states no fault produces, such as a pod the scheduler
 * cannot place for a reason the simulator does not model — each matched by name, else in name
 * order. They are what the API server serves (kubectl and the adapter read the same), and the
 * kubelet leaves them as scripted.
 */
function scriptedPods(world: World, profile: WorkloadProfile, pods: Pod[]): Map<Pod, ScriptedPod> {
  const script = profile.sim !== undefined ? world.state.observations[profile.sim.name]?.pods : undefined;
  const matched = new Map<Pod, ScriptedPod>();
  if (script === undefined) return matched;
  const ordered = [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  // Named ones first (a StatefulSet's pods have stable names), then the rest in order.
  const rest: ScriptedPod[] = [];
  for (const scripted of script) {
    const pod = ordered.find((p) => p.metadata.name === scripted.name);
    if (pod !== undefined && !matched.has(pod)) matched.set(pod, scripted);
    else rest.push(scripted);
  }
  const free = ordered.filter((p) => !matched.has(p));
  rest.forEach((scripted, i) => {
    const pod = free[i];
    if (pod !== undefined) matched.set(pod, scripted);
  });
  return matched;
}

/** A pod's status as scripted: phase, readiness, the reason it waits (or cannot be placed), restarts and its last termination. */
function applyScriptedPod(world: World, pod: Pod, scripted: ScriptedPod): void {
  const before = JSON.stringify(pod.status);
  if (scripted.createdAtMinutes !== undefined) {
    // A pod the scenario says was created then (a replacement on a new node): its age, and every condition, count from there.
    const created = iso(world.state.t0 + scripted.createdAtMinutes * MINUTE);
    if (pod.metadata.creationTimestamp !== created) {
      pod.metadata.creationTimestamp = created;
      pod.status.conditions = [];
    }
  }
  const since =
    scripted.createdAtMinutes !== undefined
      ? (pod.metadata.creationTimestamp ?? iso(world.state.t))
      : (pod.status.conditions?.find((c) => c.type === "PodScheduled")?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? iso(world.state.t));
  if (scripted.phase === "Pending" && scripted.reason === "Unschedulable") {
    delete pod.spec.nodeName;
    pod.status = {
      phase: "Pending",
      qosClass: pod.status.qosClass ?? "Burstable",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "no node can take this pod (scripted by the scenario; its events say why)", lastTransitionTime: since }],
    };
  } else {
    const cs = pod.status.containerStatuses?.[0];
    pod.status.phase = scripted.phase;
    if (cs !== undefined) {
      cs.ready = scripted.ready;
      cs.restartCount = scripted.restarts;
      if (scripted.reason !== undefined) cs.state = { waiting: { reason: scripted.reason } };
      else if (cs.state?.running === undefined || scripted.createdAtMinutes !== undefined) cs.state = { running: { startedAt: since } };
      if (scripted.lastTerminationReason !== undefined) cs.lastState = { terminated: { reason: scripted.lastTerminationReason, exitCode: scripted.lastTerminationReason === "OOMKilled" ? 137 : 1 } };
    }
    const ready = scripted.ready ? "True" : "False";
    pod.status.conditions = [
      { type: "PodScheduled", status: "True", lastTransitionTime: since },
      { type: "Initialized", status: "True", lastTransitionTime: since },
      { type: "ContainersReady", status: ready, lastTransitionTime: since },
      { type: "Ready", status: ready, lastTransitionTime: since },
    ];
  }
  if (JSON.stringify(pod.status) !== before) world.cluster.touch(pod);
}

/** ReplicaSet and Deployment status from their pods. */
function updateStatus(world: World, d: Deployment, newRs: ReplicaSet): void {
  const pods = world.cluster.podsOf(d);
  for (const rs of world.cluster.replicaSetsOf(d)) {
    const mine = pods.filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid);
    const ready = mine.filter((p) => p.status.containerStatuses?.[0]?.ready === true).length;
    const status = (rs.status ??= { replicas: 0 });
    if (status.replicas !== mine.length || status.readyReplicas !== ready) {
      status.replicas = mine.length;
      status.readyReplicas = ready;
      status.availableReplicas = ready;
      world.cluster.touch(rs);
    }
  }
  const ready = pods.filter((p) => p.status.containerStatuses?.[0]?.ready === true).length;
  const updated = pods.filter((p) => p.metadata.ownerReferences?.[0]?.uid === newRs.metadata.uid).length;
  const status = (d.status ??= {});
  if (status.replicas !== pods.length || status.readyReplicas !== ready || status.updatedReplicas !== updated || status.observedGeneration !== d.metadata.generation) {
    status.replicas = pods.length;
    status.readyReplicas = ready;
    status.availableReplicas = ready;
    status.updatedReplicas = updated;
    status.unavailableReplicas = Math.max(0, (d.spec.replicas ?? 1) - ready);
    if (d.metadata.generation !== undefined) status.observedGeneration = d.metadata.generation;
    world.cluster.touch(d);
  }
}

/** The kinds the endpoints controller reads. */
const ENDPOINT_INPUTS = ["Pod", "Service", "Endpoints"] as const;
/** The writes to {@link ENDPOINT_INPUTS} each store's Endpoints were last built at. */
const endpointInputs = new WeakMap<ClusterStore, string>();

/** What each Endpoints object was last built from (ready and not-ready pods, ports), so an unchanged one is not rebuilt every tick. */
const endpointSignatures = new WeakMap<Endpoints, string>();

/** The endpoints controller: each Service's Endpoints list the ready (and not-ready) pods its selector picks. */
function updateEndpoints(world: World): void {
  // Endpoints follow Pods and Services only; most ticks change neither.
  const inputs = world.cluster.writesTo(ENDPOINT_INPUTS);
  if (endpointInputs.get(world.cluster) === inputs) return;
  endpointInputs.set(world.cluster, inputs);
  const podsByNamespace = new Map<string, Pod[]>();
  for (const pod of world.cluster.list("Pod")) {
    const namespace = pod.metadata.namespace ?? "";
    const list = podsByNamespace.get(namespace);
    if (list === undefined) podsByNamespace.set(namespace, [pod]);
    else list.push(pod);
  }
  for (const svc of world.cluster.list("Service")) {
    const selector = svc.spec.selector;
    if (selector === undefined) continue;
    const namespace = svc.metadata.namespace;
    const pods = (podsByNamespace.get(namespace ?? "") ?? []).filter((p) => matchesLabels({ matchLabels: selector }, p.metadata.labels));
    const address = (p: Pod) => ({ ip: p.status.podIP ?? "", nodeName: p.spec.nodeName, targetRef: { kind: "Pod", name: p.metadata.name, namespace, uid: p.metadata.uid } });
    const readyPods = pods.filter((p) => p.status.containerStatuses?.[0]?.ready === true);
    const notReadyPods = pods.filter((p) => p.status.containerStatuses?.[0]?.ready !== true);
    const ports = (svc.spec.ports ?? []).map((port) => {
      const target = port.targetPort ?? port.port;
      const named = typeof target === "string" ? appContainer(pods[0]?.spec ?? { containers: [] })?.ports?.find((p) => p.name === target)?.containerPort : target;
      return { ...(port.name !== undefined ? { name: port.name } : {}), port: named ?? port.port, protocol: port.protocol ?? "TCP" };
    });
    const existing = world.cluster.get("Endpoints", namespace, svc.metadata.name);
    const signature = `${readyPods.map((p) => p.metadata.uid).join(",")}|${notReadyPods.map((p) => p.metadata.uid).join(",")}|${ports.map((p) => `${p.name ?? ""}:${p.port}`).join(",")}`;
    if (existing !== undefined && endpointSignatures.get(existing) === signature) continue;
    const ready = readyPods.map(address);
    const notReady = notReadyPods.map(address);
    const subsets = pods.length === 0 ? [] : [{ ...(ready.length > 0 ? { addresses: ready } : {}), ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}), ports }];
    if (existing === undefined) {
      const ep: Endpoints = {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name: svc.metadata.name, namespace, uid: "", resourceVersion: "", creationTimestamp: "", labels: { ...(svc.metadata.labels ?? {}) } },
        subsets,
      };
      world.cluster.put("Endpoints", ep);
      endpointSignatures.set(ep, signature);
    } else {
      if (JSON.stringify(existing.subsets) !== JSON.stringify(subsets)) {
        existing.subsets = subsets;
        world.cluster.touch(existing);
      }
      endpointSignatures.set(existing, signature);
    }
  }
}

/** Runs every controller once: rollouts, pods, kubelet, statuses, endpoints. */
export function runControllers(world: World): void {
  for (const d of world.cluster.list("Deployment")) {
    const profile = profileOf(world, d);
    const newRs = syncRollout(world, d);
    reconcilePods(world, profile, d, newRs);
    runKubelet(world, profile, world.cluster.podsOf(d));
    updateStatus(world, d, newRs);
  }
  updateEndpoints(world);
  updateQuotaStatus(world.cluster);
}
