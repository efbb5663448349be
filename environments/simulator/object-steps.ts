import { createHash } from "node:crypto";
import { applyPatch, PATCH_CONTENT_TYPES } from "../cluster-api/patch.js";
import { APPLY_KINDS, parseManifests } from "./cluster/manifests.js";
import { CHANGE_CAUSE_ANNOTATION, CONTENT_HASH_ANNOTATION, ROTATED_AT_ANNOTATION, ROTATED_BY_ANNOTATION, iso, type Kind, type KindMap } from "./cluster/objects.js";
import { kindOf, typeOf, writeObject } from "./cluster/writes.js";
import type { ObjectStep } from "./spec.js";
import type { World } from "./world.js";

/**
 * Generic fault steps: changes to the cluster's objects made the way `kubectl patch`, `delete`,
 * `apply`, `cordon` and a secret rotation make them, through the one write path the API server
 * uses. Controllers react to them as they do to any API write; nothing here touches a signal.
 */

/** The namespace of an object reference (cluster-scoped kinds have none; a namespaced one defaults to the first service's). */
function namespaceOf(world: World, kind: Kind, namespace: string | undefined): string | undefined {
  if (!typeOf(kind).namespaced) return undefined;
  return namespace ?? Object.values(world.state.services)[0]?.namespace ?? "default";
}

/** The object a step names, or an error listing the objects of its kind. */
function target(world: World, ref: { kind: string; name: string; namespace?: string | undefined }): { kind: Kind; namespace: string | undefined; object: KindMap[Kind] } {
  const kind = kindOf(ref.kind);
  const namespace = namespaceOf(world, kind, ref.namespace);
  const object = world.cluster.get(kind, namespace, ref.name);
  if (object === undefined) {
    const known = world.cluster.list(kind, namespace).map((o) => o.metadata.name);
    throw new Error(`fault step: ${ref.kind} ${namespace === undefined ? "" : `${namespace}/`}${ref.name} does not exist; known: ${known.join(", ") || "none"}`);
  }
  return { kind, namespace, object };
}

/** Applies one generic step to the world. */
export function applyObjectStep(world: World, step: ObjectStep): void {
  const actor = step.changedBy ?? "kubectl";
  switch (step.kind) {
    case "patch": {
      const { kind, object } = target(world, step.object);
      const patched = applyPatch(PATCH_CONTENT_TYPES[step.patchType], structuredClone(object), step.patch) as KindMap[Kind];
      if (step.changeCause !== undefined) (patched.metadata.annotations ??= {})[CHANGE_CAUSE_ANNOTATION] = step.changeCause;
      writeObject(world, kind, { verb: "update", object: patched }, false, actor);
      return;
    }
    case "delete": {
      const { kind, namespace } = target(world, step.object);
      writeObject(world, kind, { verb: "delete", namespace, name: step.object.name }, false, actor);
      return;
    }
    case "apply": {
      const namespace = Object.values(world.state.services)[0]?.namespace ?? "default";
      for (const m of parseManifests(step.manifest, APPLY_KINDS, namespace)) {
        const existing = world.cluster.get(m.kind, m.object.metadata.namespace, m.object.metadata.name);
        if (step.changeCause !== undefined) (m.object.metadata.annotations ??= {})[CHANGE_CAUSE_ANNOTATION] = step.changeCause;
        writeObject(world, m.kind, { verb: existing === undefined ? "create" : "update", object: m.object }, false, actor);
      }
      return;
    }
    case "cordon": {
      const { object } = target(world, { kind: "Node", name: step.node });
      const node = structuredClone(object) as KindMap["Node"];
      node.spec = { ...(node.spec ?? {}), unschedulable: true };
      node.spec.taints = [
        ...(node.spec.taints ?? []).filter((t) => t.key !== "node.kubernetes.io/unschedulable"),
        { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: iso(world.state.t) },
      ];
      writeObject(world, "Node", { verb: "update", object: node }, false, actor);
      world.event({ name: step.node, namespace: "default" }, "Normal", "NodeNotSchedulable", `node/${step.node}`, `Node ${step.node} status is now: NodeNotSchedulable`, "kubelet");
      return;
    }
    case "rotate-secret": {
      const { object } = target(world, { kind: "Secret", name: step.secret, ...(step.namespace !== undefined ? { namespace: step.namespace } : {}) });
      const secret = structuredClone(object) as KindMap["Secret"];
      const before = secret.metadata.annotations?.[CONTENT_HASH_ANNOTATION] ?? "";
      // New content the simulator never sees: only its hash changes.
      const next = `sha256:${createHash("sha256").update(`${before}\u0000rotated@${world.state.t}`).digest("hex")}`;
      secret.metadata.annotations = { ...(secret.metadata.annotations ?? {}), [CONTENT_HASH_ANNOTATION]: next, [ROTATED_BY_ANNOTATION]: actor, [ROTATED_AT_ANNOTATION]: iso(world.state.t) };
      writeObject(world, "Secret", { verb: "update", object: secret }, false, actor);
      return;
    }
  }
}
