import { KINDS, iso, objectKey, revisionOf, type ClusterState, type Deployment, type Kind, type KindMap, type Pod, type ReplicaSet } from "./objects.js";

/**
 * The simulated cluster's object store: get, list, put and remove by kind, with uid,
 * resourceVersion and creationTimestamp assigned the way the API server does. It keeps an index
 * of each Deployment's pods (the controllers and every read ask for it many times per tick); the
 * index is rebuilt after any Pod or ReplicaSet write and is never part of the saved state.
 */
export class ClusterStore {
  private podIndex: Map<string, Pod[]> | undefined;
  private replicaSetIndex: Map<string, ReplicaSet[]> | undefined;
  /** Writes per kind since this store was opened (not saved): lets a controller skip a pass when its inputs did not move. */
  private readonly writes = new Map<string, number>();

  constructor(
    readonly state: ClusterState,
    private readonly now: () => number,
  ) {
    // A world saved before a kind existed has no map for it.
    const objects = state.objects as Partial<ClusterState["objects"]>;
    for (const kind of KINDS) objects[kind] ??= {} as never;
  }

  /** One object, or undefined. */
  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined {
    return this.state.objects[kind][objectKey(namespace, name)];
  }

  /** Objects of a kind, in one namespace or all, in insertion order. */
  list<K extends Kind>(kind: K, namespace?: string): Array<KindMap[K]> {
    const all = Object.values(this.state.objects[kind]);
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** The uid the next created object gets (deterministic: the world is seeded and replayable). */
  nextUid(): string {
    const n = (this.state.created + 1).toString(16).padStart(12, "0");
    return `00000000-0000-4000-8000-${n}`;
  }

  /**
   * Stores an object (created or replaced): sets uid and creationTimestamp if new, a new
   * resourceVersion always. The object is kept by reference.
   */
  put<K extends Kind>(kind: K, object: KindMap[K]): KindMap[K] {
    const meta = object.metadata;
    const key = objectKey(meta.namespace, meta.name);
    const existing = this.state.objects[kind][key];
    if (existing === undefined) {
      if (meta.uid === "") {
        meta.uid = this.nextUid();
      }
      this.state.created += 1;
      if (meta.creationTimestamp === "") meta.creationTimestamp = iso(this.now());
    }
    this.touch(object);
    const byKey: Record<string, KindMap[K]> = this.state.objects[kind];
    byKey[key] = object;
    if (kind === "Pod" || kind === "ReplicaSet") this.podIndex = undefined;
    if (kind === "ReplicaSet") this.replicaSetIndex = undefined;
    return object;
  }

  /** Gives a changed object a new resourceVersion. */
  touch(object: { kind: string; metadata: { resourceVersion: string } }): void {
    this.writes.set(object.kind, (this.writes.get(object.kind) ?? 0) + 1);
    this.state.resourceVersion += 1;
    object.metadata.resourceVersion = String(this.state.resourceVersion);
  }

  /** Removes an object; returns it, or undefined if it did not exist. */
  remove<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined {
    const key = objectKey(namespace, name);
    const existing = this.state.objects[kind][key];
    if (existing === undefined) return undefined;
    delete this.state.objects[kind][key];
    this.writes.set(kind, (this.writes.get(kind) ?? 0) + 1);
    this.state.resourceVersion += 1;
    if (kind === "Pod" || kind === "ReplicaSet") this.podIndex = undefined;
    if (kind === "ReplicaSet") this.replicaSetIndex = undefined;
    return existing;
  }

  /** ReplicaSets a Deployment owns, oldest revision first. */
  replicaSetsOf(d: Deployment): ReplicaSet[] {
    if (this.replicaSetIndex === undefined) {
      const index = new Map<string, ReplicaSet[]>();
      for (const rs of Object.values(this.state.objects.ReplicaSet)) {
        const owner = rs.metadata.ownerReferences?.find((o) => o.kind === "Deployment");
        if (owner === undefined) continue;
        const list = index.get(owner.uid);
        if (list === undefined) index.set(owner.uid, [rs]);
        else list.push(rs);
      }
      for (const list of index.values()) list.sort((a, b) => revisionOf(a) - revisionOf(b));
      this.replicaSetIndex = index;
    }
    return this.replicaSetIndex.get(d.metadata.uid) ?? [];
  }

  /** Forgets the ReplicaSet order after a revision annotation changed in place. */
  revisionsChanged(): void {
    this.replicaSetIndex = undefined;
  }

  /** A text that changes whenever an object of one of these kinds is written or removed. */
  writesTo(kinds: readonly Kind[]): string {
    return kinds.map((k) => this.writes.get(k) ?? 0).join(",");
  }

  /** A number that changes with every write (the last resourceVersion), for caches of derived views. */
  get version(): number {
    return this.state.resourceVersion;
  }

  /** Pods a Deployment's ReplicaSets own, in the order they were (re)placed. */
  podsOf(d: Deployment): Pod[] {
    if (this.podIndex === undefined) this.podIndex = this.buildPodIndex();
    return this.podIndex.get(d.metadata.uid) ?? [];
  }

  /** Pods whose controller is the object with this uid (a StatefulSet's), by name. */
  podsOwnedBy(uid: string): Pod[] {
    return Object.values(this.state.objects.Pod)
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller === true) === true)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, undefined, { numeric: true }));
  }

  /** Replaces a Deployment's pods by `pods`, in that order: others are removed, new ones stored. */
  replacePods(d: Deployment, pods: Pod[]): Pod[] {
    const keep = new Set(pods.map((p) => p.metadata.name));
    const removed: Pod[] = [];
    for (const p of this.podsOf(d)) {
      delete this.state.objects.Pod[objectKey(p.metadata.namespace, p.metadata.name)];
      if (!keep.has(p.metadata.name)) removed.push(p);
    }
    for (const p of pods) {
      const key = objectKey(p.metadata.namespace, p.metadata.name);
      if (p.metadata.uid === "") this.put("Pod", p);
      else this.state.objects.Pod[key] = p;
    }
    if (removed.length > 0) {
      this.writes.set("Pod", (this.writes.get("Pod") ?? 0) + 1);
      this.state.resourceVersion += 1;
    }
    this.podIndex = undefined;
    return removed;
  }

  private buildPodIndex(): Map<string, Pod[]> {
    const rsOwner = new Map<string, string>();
    for (const rs of Object.values(this.state.objects.ReplicaSet)) {
      const owner = rs.metadata.ownerReferences?.find((o) => o.kind === "Deployment");
      if (owner !== undefined) rsOwner.set(rs.metadata.uid, owner.uid);
    }
    const index = new Map<string, Pod[]>();
    for (const pod of Object.values(this.state.objects.Pod)) {
      const rs = pod.metadata.ownerReferences?.find((o) => o.kind === "ReplicaSet");
      const deployment = rs === undefined ? undefined : rsOwner.get(rs.uid);
      if (deployment === undefined) continue;
      const list = index.get(deployment);
      if (list === undefined) index.set(deployment, [pod]);
      else list.push(pod);
    }
    return index;
  }
}
