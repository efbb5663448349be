import { parseAllDocuments, stringify } from "yaml";
import { IGNORED_MANIFEST_KINDS, MANIFEST_KINDS, parseManifests } from "./cluster/manifests.js";
import { CHANGE_CAUSE_ANNOTATION, REVISION_ANNOTATION, ROLLED_OUT_AT_ANNOTATION, objectKey, type Deployment, type Kind, type StatefulSet } from "./cluster/objects.js";
import { canonicalJson } from "../../domain/json.js";
import { imageBehaviourFromTemplate } from "./cluster/manifest-workloads.js";
import { defaultNamespace, EnvironmentSpecSchema, ImageSpecSchema, WorkloadSpecSchema } from "./spec.js";
import { initialState } from "./world.js";

/**
 * Converts an environment written with `services:` (the v1 form) into the manifest form: the
 * Kubernetes objects the build makes of each service (its Deployment or StatefulSet, Service and
 * ConfigMaps, and the spec's NetworkPolicies), as an SRE would write them, followed by the
 * environment's own manifests; each service's non-Kubernetes fields go to `workloads`. Faults,
 * observations and the other fields are kept as written. Images a service leaves to the
 * simulator are written as the tags it generated.
 */
export function convertEnvironment(raw: Record<string, unknown>): Record<string, unknown> {
  const spec = EnvironmentSpecSchema.parse(raw);
  if (spec.services.length === 0) throw new Error("environment.services is empty: the environment is already in the manifest form");
  const state = initialState(spec);
  const objects = state.cluster.objects;
  const declared = spec.manifests === undefined ? [] : parseManifests(spec.manifests, MANIFEST_KINDS, defaultNamespace(spec), undefined, IGNORED_MANIFEST_KINDS);
  const isDeclared = (kind: Kind, namespace: string, name: string): boolean =>
    declared.some((m) => m.kind === kind && (m.object.metadata.namespace ?? "") === namespace && m.object.metadata.name === name);
  const out: unknown[] = [];
  const seen = new Set<string>();
  type Raw = Record<string, unknown> & { metadata: Record<string, unknown> };
  const emit = (kind: Kind, namespace: string, name: string, clean: (o: Raw) => void): void => {
    const key = `${kind}/${objectKey(namespace, name)}`;
    if (seen.has(key) || isDeclared(kind, namespace, name)) return;
    const found = (objects[kind] as Record<string, unknown>)[objectKey(namespace, name)];
    if (found === undefined) return;
    seen.add(key);
    const o = structuredClone(found) as Raw;
    delete o.metadata["uid"];
    delete o.metadata["resourceVersion"];
    delete o.metadata["generation"];
    delete o["status"];
    clean(o);
    out.push(o);
  };
  for (const s of spec.services) {
    emit(s.kind, s.namespace, s.name, (o) => {
      delete o.metadata["creationTimestamp"];
      const annotations = { ...(o.metadata["annotations"] as Record<string, string> | undefined) };
      delete annotations[REVISION_ANNOTATION];
      delete annotations[ROLLED_OUT_AT_ANNOTATION];
      const cause = annotations[CHANGE_CAUSE_ANNOTATION];
      if (cause === "initial deploy" || cause?.startsWith("deploy ") === true) delete annotations[CHANGE_CAUSE_ANNOTATION];
      if (Object.keys(annotations).length > 0) o.metadata["annotations"] = annotations;
      else delete o.metadata["annotations"];
    });
    emit("Service", s.namespace, s.name, () => undefined);
    for (const c of s.configMaps) emit("ConfigMap", s.namespace, c.name, () => undefined);
  }
  for (const p of spec.networkPolicies) {
    const namespace = spec.services.find((s) => s.name === p.podSelector)?.namespace ?? defaultNamespace(spec);
    emit("NetworkPolicy", namespace, p.name, () => undefined);
  }
  const own = out.map((o) => stringify(o, { lineWidth: 0 }));
  const theirs = spec.manifests === undefined ? [] : parseAllDocuments(spec.manifests).map((d) => stringify(d.toJSON(), { lineWidth: 0 }));
  const workloads: Record<string, unknown> = {};
  const rawServices = (raw["services"] ?? []) as Array<Record<string, unknown>>;
  const fields = Object.keys(WorkloadSpecSchema.shape);
  for (const r of rawServices) {
    const entry = Object.fromEntries(Object.entries(r).filter(([k]) => fields.includes(k)));
    // A manifest workload's image runs its template by default; a v1 service's image has fixed defaults. Say so where they differ.
    const s = spec.services.find((x) => x.name === r["name"]);
    const built = s === undefined ? undefined : (objects[s.kind] as Record<string, Deployment | StatefulSet>)[objectKey(s.namespace, s.name)];
    if (s !== undefined && built !== undefined && entry["imageBehaviour"] === undefined) {
      const v1 = ImageSpecSchema.parse({});
      if (canonicalJson(v1) !== canonicalJson(imageBehaviourFromTemplate(built.spec.template))) entry["imageBehaviour"] = v1;
    }
    if (Object.keys(entry).length > 0) workloads[String(r["name"])] = entry;
  }
  const env: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "services" || k === "networkPolicies" || k === "manifests") continue;
    if (k === "faults" || k === "observations") {
      env["manifests"] = [...own, ...theirs].join("---\n");
      if (Object.keys(workloads).length > 0) env["workloads"] = workloads;
    }
    env[k] = v;
  }
  if (env["manifests"] === undefined) {
    env["manifests"] = [...own, ...theirs].join("---\n");
    if (Object.keys(workloads).length > 0) env["workloads"] = workloads;
  }
  return env;
}
