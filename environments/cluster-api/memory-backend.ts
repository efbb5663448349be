import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { KubeApiError, type ClusterBackend, type KubeObject, type ObjectChange, type PodLogOptions, type ResourceType, type WriteOptions } from "./backend.js";
import { alreadyExists, badRequest, invalid, notFound } from "./api-errors.js";
import { parseManifest, isRecord } from "./manifest.js";
import { RESOURCE_TYPES, apiVersionOf, qualifiedPlural, typeOfKind } from "./resource-types.js";

/** What Kubernetes accepts as most objects' names: a lowercase RFC 1123 subdomain. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Options of a {@link MemoryClusterBackend}. */
export interface MemoryBackendOptions {
  /** The types served (default {@link RESOURCE_TYPES}). */
  types?: readonly ResourceType[];
  /** The clock creationTimestamps and log timestamps come from (default: the wall clock). */
  now?: () => Date;
}

/** One line of a seeded pod log, with the time it was written (for `timestamps` and `sinceSeconds`). */
interface LogLine {
  at: Date;
  text: string;
}

/** A seeded container log: the current one and the previous (terminated) one. */
interface ContainerLogs {
  current: LogLine[];
  previous?: LogLine[];
}

/**
 * A {@link ClusterBackend} that holds objects as given, with no controllers: a Deployment's
 * change does not roll out ReplicaSets or Pods. It assigns what the API server assigns (uid,
 * resourceVersion from one cluster-wide counter, generation bumped when `spec` changes,
 * creationTimestamp) and refuses what Kubernetes refuses (duplicates, missing objects, objects
 * obviously invalid). Pod logs are seeded with {@link MemoryClusterBackend.setPodLog}.
 */
export class MemoryClusterBackend implements ClusterBackend {
  private readonly served: readonly ResourceType[];
  private readonly now: () => Date;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly logs = new Map<string, ContainerLogs>();
  private lastResourceVersion = 0;

  constructor(options: MemoryBackendOptions = {}) {
    this.served = options.types ?? RESOURCE_TYPES;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * A backend holding the objects of a multi-document YAML manifest (`kind: List` documents
   * included). Objects keep the uid, creationTimestamp, generation and status they are given, so
   * ownerReferences in the manifest still point at their owners.
   */
  static fromManifests(yamlText: string, options: MemoryBackendOptions = {}): MemoryClusterBackend {
    const backend = new MemoryClusterBackend(options);
    for (const object of parseManifest(yamlText)) backend.load(object);
    return backend;
  }

  /** Stores one object as given (keeping its uid, creationTimestamp and generation), as a create would. */
  load(object: KubeObject): KubeObject {
    return this.create(object, { dryRun: false }, true);
  }

  /** {@inheritDoc ClusterBackend.types} */
  types(): ResourceType[] {
    return [...this.served];
  }

  /** {@inheritDoc ClusterBackend.list} */
  list(type: ResourceType, namespace: string | undefined): KubeObject[] {
    const stored = [...(this.objects.get(typeKey(type))?.entries() ?? [])];
    return stored
      .filter(([, object]) => namespace === undefined || !type.namespaced || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => structuredClone(object));
  }

  /** {@inheritDoc ClusterBackend.get} */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const object = this.objects.get(typeKey(type))?.get(objectKey(type, namespace, name));
    return object === undefined ? undefined : structuredClone(object);
  }

  /** {@inheritDoc ClusterBackend.apply} */
  apply(change: ObjectChange, options: WriteOptions): KubeObject {
    switch (change.verb) {
      case "create":
        return this.create(change.object, options, false);
      case "update":
        return this.update(change.object, options);
      case "delete":
        return this.delete(change.type, change.namespace, change.name, options);
    }
  }

  /** {@inheritDoc ClusterBackend.latestResourceVersion} */
  latestResourceVersion(): string {
    return String(this.lastResourceVersion);
  }

  /** {@inheritDoc ClusterBackend.podLog} */
  podLog(namespace: string, pod: string, options: PodLogOptions): string {
    const container = this.containerOf(namespace, pod, options.container);
    const logs = this.logs.get(logKey(namespace, pod, container));
    let lines = options.previous === true ? logs?.previous : (logs?.current ?? []);
    if (lines === undefined) throw badRequest(`previous terminated container "${container}" in pod "${pod}" not found`);
    if (options.sinceSeconds !== undefined) {
      const since = this.now().getTime() - options.sinceSeconds * 1000;
      lines = lines.filter((line) => line.at.getTime() >= since);
    }
    if (options.tailLines !== undefined) lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    return lines.map((line) => (options.timestamps === true ? `${line.at.toISOString()} ${line.text}\n` : `${line.text}\n`)).join("");
  }

  /**
   * Seeds the log of one container of a pod (`previous`: of its last terminated instance, what
   * `kubectl logs --previous` shows). Each line is stamped with the backend's clock.
   */
  setPodLog(namespace: string, pod: string, container: string, text: string, options: { previous?: boolean } = {}): void {
    const at = this.now();
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    const key = logKey(namespace, pod, container);
    const logs = this.logs.get(key) ?? { current: [] };
    const stamped = lines.map((line) => ({ at, text: line }));
    if (options.previous === true) logs.previous = stamped;
    else logs.current = stamped;
    this.logs.set(key, logs);
  }

  private create(object: KubeObject, options: WriteOptions, keepIdentity: boolean): KubeObject {
    const type = this.typeOf(object);
    const candidate = withGeneratedName(structuredClone(object));
    const name = this.validate(type, candidate);
    const namespace = type.namespaced ? candidate.metadata.namespace : undefined;
    if (!type.namespaced) delete candidate.metadata.namespace;
    if (this.get(type, namespace, name) !== undefined) throw alreadyExists(type, name);
    const metadata = candidate.metadata;
    candidate.metadata = {
      ...metadata,
      uid: keepIdentity && metadata.uid !== undefined ? metadata.uid : randomUUID(),
      creationTimestamp: keepIdentity && metadata.creationTimestamp !== undefined ? metadata.creationTimestamp : this.timestamp(),
      generation: keepIdentity && metadata.generation !== undefined ? metadata.generation : 1,
    };
    delete candidate.metadata.resourceVersion;
    return this.store(type, candidate, options);
  }

  private update(object: KubeObject, options: WriteOptions): KubeObject {
    const type = this.typeOf(object);
    const candidate = structuredClone(object);
    const name = this.validate(type, candidate);
    const namespace = type.namespaced ? candidate.metadata.namespace : undefined;
    const current = this.get(type, namespace, name);
    if (current === undefined) throw notFound(type, name);
    const specChanged = !isDeepStrictEqual(current["spec"], candidate["spec"]);
    candidate.metadata = {
      ...candidate.metadata,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
    };
    if (!type.namespaced) delete candidate.metadata.namespace;
    return this.store(type, candidate, options);
  }

  private delete(type: ResourceType, namespace: string | undefined, name: string, options: WriteOptions): KubeObject {
    const current = this.get(type, namespace, name);
    if (current === undefined) throw notFound(type, name);
    if (!options.dryRun) this.objects.get(typeKey(type))?.delete(objectKey(type, namespace, name));
    return current;
  }

  /** Gives the object the next resourceVersion and keeps it, unless this is a dry run. */
  private store(type: ResourceType, object: KubeObject, options: WriteOptions): KubeObject {
    if (options.dryRun) return object;
    object.metadata.resourceVersion = String(++this.lastResourceVersion);
    const key = typeKey(type);
    const ofType = this.objects.get(key) ?? new Map<string, KubeObject>();
    ofType.set(objectKey(type, object.metadata.namespace, object.metadata.name ?? ""), object);
    this.objects.set(key, ofType);
    return structuredClone(object);
  }

  private typeOf(object: KubeObject): ResourceType {
    const type = typeOfKind(this.served, object.apiVersion, object.kind);
    if (type === undefined) throw badRequest(`no kind "${object.kind}" is registered for version "${object.apiVersion}"`);
    return type;
  }

  /** The object's name, after the checks Kubernetes would refuse it for (422 Invalid). */
  private validate(type: ResourceType, object: KubeObject): string {
    const name = object.metadata.name;
    if (typeof name !== "string" || name === "") throw invalid(type, "", "metadata.name: Required value: name or generateName is required");
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      throw invalid(
        type,
        name,
        `metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      );
    }
    if (type.namespaced && (object.metadata.namespace ?? "") === "") throw invalid(type, name, "metadata.namespace: Required value");
    const spec = object["spec"];
    const replicas = isRecord(spec) ? spec["replicas"] : undefined;
    if (replicas !== undefined && replicas !== null && (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)) {
      throw invalid(type, name, `spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
    }
    return name;
  }

  /** The container a log request means: the one named, or the pod's only container. */
  private containerOf(namespace: string, podName: string, requested: string | undefined): string {
    const podType = this.served.find((t) => t.group === "" && t.plural === "pods");
    const pod = podType === undefined ? undefined : this.get(podType, namespace, podName);
    if (podType === undefined || pod === undefined) throw new KubeApiError(404, "NotFound", `pods "${podName}" not found`, { name: podName, kind: "pods" });
    const names = containerNames(pod);
    if (requested !== undefined) {
      if (!names.includes(requested)) throw new KubeApiError(404, "NotFound", `container ${requested} is not valid for pod ${podName}`, { name: podName, kind: "pods" });
      return requested;
    }
    const [only, ...others] = names;
    if (only === undefined) throw badRequest(`pod ${podName} has no containers`);
    if (others.length > 0) throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${names.join(" ")}]`);
    return only;
  }

  /**
   * Now as Kubernetes stamps creationTimestamp: RFC 3339 with second precision. On the wire it is
   * a string; client-node's `V1ObjectMeta` types the field as the Date it deserializes into.
   */
  private timestamp(): Date {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z") as unknown as Date;
  }
}

/** The names of a pod's containers (init containers too, as `kubectl logs -c` accepts them). */
function containerNames(pod: KubeObject): string[] {
  const spec = pod["spec"];
  if (!isRecord(spec)) return [];
  const named = (list: unknown): string[] => (Array.isArray(list) ? list.flatMap((c: unknown) => (isRecord(c) && typeof c["name"] === "string" ? [c["name"]] : [])) : []);
  return [...named(spec["containers"]), ...named(spec["initContainers"])];
}

/** `generateName` + five random characters, as the API server names an object created without a name. */
function withGeneratedName(object: KubeObject): KubeObject {
  const prefix = object.metadata.generateName;
  if ((object.metadata.name ?? "") === "" && typeof prefix === "string" && prefix !== "") {
    object.metadata.name = `${prefix}${randomUUID().replace(/-/g, "").slice(0, 5)}`;
  }
  return object;
}

function typeKey(type: ResourceType): string {
  return `${apiVersionOf(type)}/${qualifiedPlural(type)}`;
}

function objectKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return type.namespaced ? `${namespace ?? ""}/${name}` : name;
}

function logKey(namespace: string, pod: string, container: string): string {
  return `${namespace}/${pod}/${container}`;
}
