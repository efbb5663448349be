import { KubeApiError, type KubeObject, type ObjectChange, type ResourceType } from "../../cluster-api/backend.js";
import { apiVersionOf, SIM_RESOURCE_TYPES } from "../kinds.js";
import type { World } from "../world.js";
import { profileOf, syncRollout } from "./controllers.js";
import { redactSecret } from "./manifests.js";
import { semanticJson, iso, KINDS, matchesLabels, objectKey, type ConfigMap, type Deployment, type Kind, type KindMap } from "./objects.js";

/** Who made a write, as the ConfigMap history records it. */
export type Actor = string;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A stored kind from an API kind name, or a 404 like the API server's for an unknown resource. */
export function kindOf(kind: string): Kind {
  const found = KINDS.find((k) => k === kind);
  if (found === undefined) throw new KubeApiError(404, "NotFound", `the server could not find the requested resource (kind ${kind})`);
  return found;
}

/** The resource type of a stored kind. */
export function typeOf(kind: Kind): ResourceType {
  const type = SIM_RESOURCE_TYPES.find((t) => t.kind === kind);
  if (type === undefined) throw new Error(`no resource type for ${kind}`);
  return type;
}

/** An object as the API serves it. Its timestamps are strings, as on the wire; client-node's types say Date. */
export function served<K extends Kind>(object: KindMap[K]): KubeObject {
  return structuredClone(object) as unknown as KubeObject;
}

function invalid(kind: Kind, name: string, message: string): KubeApiError {
  return new KubeApiError(422, "Invalid", `${kind} "${name}" is invalid: ${message}`, { name, kind });
}

function notFound(kind: Kind, name: string): KubeApiError {
  return new KubeApiError(404, "NotFound", `${typeOf(kind).plural}${typeOf(kind).group === "" ? "" : `.${typeOf(kind).group}`} "${name}" not found`, { name, kind: typeOf(kind).plural });
}

/** Checks the fields the simulator relies on; throws 422 Invalid like the API server's validation. */
function validate(world: World, kind: Kind, object: KindMap[Kind]): void {
  const name = object.metadata.name;
  if (typeof name !== "string" || name.length === 0 || name.length > 253 || !DNS_SUBDOMAIN.test(name))
    throw invalid(kind, String(name), "metadata.name: Invalid value: a lowercase RFC 1123 subdomain is required");
  const type = typeOf(kind);
  if (type.namespaced) {
    const namespace = object.metadata.namespace;
    if (namespace === undefined || namespace === "") throw invalid(kind, name, "metadata.namespace: Required value");
    if (kind !== "Event" && world.cluster.get("Namespace", undefined, namespace) === undefined)
      throw new KubeApiError(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
  }
  if (kind === "Deployment") {
    const d = object as Deployment;
    const containers = d.spec?.template?.spec?.containers;
    if (!Array.isArray(containers) || containers.length === 0) throw invalid(kind, name, "spec.template.spec.containers: Required value");
    for (const [i, c] of containers.entries()) {
      if (typeof c.name !== "string" || c.name === "") throw invalid(kind, name, `spec.template.spec.containers[${i}].name: Required value`);
      if (typeof c.image !== "string" || c.image === "") throw invalid(kind, name, `spec.template.spec.containers[${i}].image: Required value`);
    }
    const replicas = d.spec.replicas;
    if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) throw invalid(kind, name, "spec.replicas: Invalid value: must be greater than or equal to 0");
    if (!matchesLabels(d.spec.selector, d.spec.template.metadata?.labels) || Object.keys(d.spec.selector?.matchLabels ?? {}).length === 0) {
      throw invalid(kind, name, "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`");
    }
  }
  if (kind === "Service") {
    const svc = object as KindMap["Service"];
    for (const [i, p] of (svc.spec?.ports ?? []).entries()) {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw invalid(kind, name, `spec.ports[${i}].port: Invalid value: ${String(p.port)}: must be between 1 and 65535, inclusive`);
      const target = p.targetPort;
      if (typeof target === "number" && (!Number.isInteger(target) || target < 1 || target > 65535)) {
        throw invalid(kind, name, `spec.ports[${i}].targetPort: Invalid value: ${target}: must be between 1 and 65535, inclusive`);
      }
    }
  }
  if (kind === "NetworkPolicy" && (object as KindMap["NetworkPolicy"]).spec === undefined) throw invalid(kind, name, "spec: Required value");
  if (kind === "ConfigMap") {
    for (const [k, v] of Object.entries((object as ConfigMap).data ?? {})) if (typeof v !== "string") throw invalid(kind, name, `data[${k}]: Invalid value: must be a string`);
  }
}

/** Records a ConfigMap's data as its next version. */
function recordConfigVersion(world: World, cm: ConfigMap, actor: Actor): void {
  const key = objectKey(cm.metadata.namespace, cm.metadata.name);
  const history = (world.state.configHistory[key] ??= []);
  const version = (history[history.length - 1]?.version ?? 0) + 1;
  history.push({ version, data: { ...(cm.data ?? {}) }, updatedAt: world.state.t, changedBy: actor });
}

/** Deletes an object and what it owns (background cascading deletion, done at once). */
function removeCascading(world: World, kind: Kind, namespace: string | undefined, name: string): void {
  const removed = world.cluster.remove(kind, namespace, name);
  if (removed === undefined) return;
  const uid = removed.metadata.uid;
  if (kind === "Pod") delete world.state.kubelet[objectKey(namespace, name)];
  // The endpoints controller drops a Service's Endpoints with it.
  if (kind === "Service") world.cluster.remove("Endpoints", namespace, name);
  if (kind === "Deployment" || kind === "ReplicaSet" || kind === "StatefulSet") {
    const childKind: Kind = kind === "Deployment" ? "ReplicaSet" : "Pod";
    for (const child of world.cluster.list(childKind, namespace)) {
      if (child.metadata.ownerReferences?.some((o) => o.uid === uid) === true) removeCascading(world, childKind, namespace, child.metadata.name);
    }
  }
  if (kind === "Namespace") {
    for (const k of KINDS) {
      if (!typeOf(k).namespaced) continue;
      for (const o of world.cluster.list(k, name)) removeCascading(world, k, name, o.metadata.name);
    }
  }
}

/**
 * Makes a change to the cluster's objects: the one write path for the API server and for the
 * simulator's own operations and faults. Validates (422), checks existence (404, 409), assigns
 * identity on create, bumps generation when the spec changes, keeps status (the controllers own
 * it), records ConfigMap versions, and lets the Deployment controller see a Deployment write at
 * once (its new ReplicaSet and revision appear with the write; pods follow on the next tick).
 */
export function writeObject<K extends Kind>(
  world: World,
  kind: K,
  change: { verb: "create" | "update"; object: KindMap[K] } | { verb: "delete"; namespace: string | undefined; name: string },
  dryRun: boolean,
  actor: Actor,
): KindMap[K] {
  const store = world.cluster;
  if (change.verb === "delete") {
    const existing = store.get(kind, change.namespace, change.name);
    if (existing === undefined) throw notFound(kind, change.name);
    if (!dryRun) removeCascading(world, kind, change.namespace, change.name);
    return existing;
  }
  // A Secret's values are never stored: its content hash stands for them.
  const object = kind === "Secret" ? (redactSecret(change.object) as unknown as KindMap[K]) : change.object;
  object.apiVersion = apiVersionOf(typeOf(kind));
  object.kind = kind;
  if (!typeOf(kind).namespaced) delete object.metadata.namespace;
  validate(world, kind, object);
  const { namespace, name } = object.metadata;
  const existing = store.get(kind, namespace, name);
  if (change.verb === "create") {
    if (existing !== undefined) throw new KubeApiError(409, "AlreadyExists", `${typeOf(kind).plural} "${name}" already exists`, { name, kind: typeOf(kind).plural });
    if ("spec" in object && object.spec !== undefined) object.metadata.generation = 1;
    if (dryRun) {
      const preview = structuredClone(object);
      preview.metadata.uid = store.nextUid();
      preview.metadata.resourceVersion = String(store.state.resourceVersion + 1);
      if (preview.metadata.creationTimestamp === "") preview.metadata.creationTimestamp = iso(world.state.t);
      return preview;
    }
    const stored = store.put(kind, object);
    if (kind === "ConfigMap") recordConfigVersion(world, stored, actor);
    if (kind === "Deployment") syncRollout(world, stored as Deployment);
    return stored;
  }
  if (existing === undefined) throw notFound(kind, name);
  object.metadata.uid = existing.metadata.uid;
  object.metadata.creationTimestamp = existing.metadata.creationTimestamp;
  if ("status" in existing) (object as { status?: unknown }).status = structuredClone((existing as { status?: unknown }).status);
  const specChanged = "spec" in object && semanticJson((object as { spec?: unknown }).spec) !== semanticJson((existing as { spec?: unknown }).spec);
  if (existing.metadata.generation !== undefined) object.metadata.generation = existing.metadata.generation + (specChanged ? 1 : 0);
  if (kind === "Deployment") {
    const before = existing as Deployment;
    const after = object as Deployment;
    if (semanticJson(before.spec.selector) !== semanticJson(after.spec.selector)) throw invalid(kind, name, "spec.selector: Invalid value: field is immutable");
  }
  if (kind === "Pod" && specChanged) throw invalid(kind, name, "spec: Forbidden: pod updates may not change fields other than image, activeDeadlineSeconds, tolerations");
  if (dryRun) {
    const preview = structuredClone(object);
    preview.metadata.resourceVersion = String(store.state.resourceVersion + 1);
    return preview;
  }
  const stored = store.put(kind, object);
  if (kind === "ConfigMap") recordConfigVersion(world, stored, actor);
  if (kind === "Deployment") {
    const d = stored as Deployment;
    const rs = syncRollout(world, d);
    const from = (existing as Deployment).spec.replicas ?? 1;
    const to = d.spec.replicas ?? 1;
    if (to !== from) {
      world.event(profileOf(world, d), "Normal", "ScalingReplicaSet", `deployment/${name}`, `Scaled ${to > from ? "up" : "down"} replica set ${rs.metadata.name} to ${to} from ${from}`);
    }
  }
  return stored;
}

/**
 * A change as the API server sends it, made to the cluster: the object is copied through JSON
 * (timestamps become strings), server-owned metadata is cleared, then {@link writeObject}.
 */
export function applyChange(world: World, change: ObjectChange, dryRun: boolean, actor: Actor): KubeObject {
  if (change.verb === "delete") {
    const kind = kindOf(change.type.kind);
    return served(writeObject(world, kind, { verb: "delete", namespace: typeOf(kind).namespaced ? change.namespace : undefined, name: change.name }, dryRun, actor));
  }
  const kind = kindOf(change.object.kind);
  // Through JSON: a deep copy with every Date as its RFC 3339 string, the shape the world stores.
  const object = JSON.parse(JSON.stringify(change.object)) as KindMap[typeof kind];
  if (typeof object.metadata !== "object" || object.metadata === null) throw invalid(kind, "", "metadata: Required value");
  object.metadata.uid = "";
  object.metadata.resourceVersion = "";
  object.metadata.creationTimestamp = "";
  return served(writeObject(world, kind, { verb: change.verb, object }, dryRun, actor));
}
