import type { V1ConfigMap, V1PodTemplateSpec } from "@kubernetes/client-node";
import type { ConfigMapState } from "../adapter.js";
import { callOrMissing } from "./api-errors.js";
import type { AdapterContext } from "./context.js";

/** The ConfigMaps a pod template uses: `envFrom`, `env[].valueFrom.configMapKeyRef`, volumes (plain and projected). */
export function configMapsReferenced(template: V1PodTemplateSpec | undefined): string[] {
  const names = new Set<string>();
  const spec = template?.spec;
  for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const source of container.envFrom ?? []) if (source.configMapRef?.name !== undefined) names.add(source.configMapRef.name);
    for (const variable of container.env ?? []) if (variable.valueFrom?.configMapKeyRef?.name !== undefined) names.add(variable.valueFrom.configMapKeyRef.name);
  }
  for (const volume of spec?.volumes ?? []) {
    if (volume.configMap?.name !== undefined) names.add(volume.configMap.name);
    for (const source of volume.projected?.sources ?? []) if (source.configMap?.name !== undefined) names.add(source.configMap.name);
  }
  return [...names].sort();
}

/** Reads one ConfigMap (undefined when it does not exist). */
export function readConfigMap(context: AdapterContext, namespace: string, name: string): Promise<V1ConfigMap | undefined> {
  return callOrMissing({ verb: "get", group: "", resource: "configmaps", namespace, name }, () => context.apis.core.readNamespacedConfigMap({ name, namespace }));
}

/** Records a ConfigMap's data in the history (a new version only when it changed); returns the current version. */
export function observeConfigMap(context: AdapterContext, cm: V1ConfigMap): Promise<number> {
  return context.configHistory.observe({
    namespace: cm.metadata?.namespace ?? context.defaultNamespace,
    name: cm.metadata?.name ?? "",
    resourceVersion: cm.metadata?.resourceVersion ?? "",
    data: { ...(cm.data ?? {}) },
    observedAt: context.clock.now(),
  });
}

/**
 * A ConfigMap as the contract describes it. Reading it records it, so the history holds every
 * version Suture has seen (`changedBy` only when the history's source knows: Kubernetes does not say).
 */
export async function configMapState(context: AdapterContext, cm: V1ConfigMap): Promise<ConfigMapState> {
  const namespace = cm.metadata?.namespace ?? context.defaultNamespace;
  const name = cm.metadata?.name ?? "";
  const version = await observeConfigMap(context, cm);
  const versions = await context.configHistory.versions(namespace, name);
  const current = versions.find((v) => v.version === version);
  return {
    name,
    data: { ...(cm.data ?? {}) },
    ...(cm.metadata?.annotations !== undefined ? { annotations: { ...cm.metadata.annotations } } : {}),
    version,
    updatedAt: current?.observedAt ?? context.clock.now(),
    history: versions.map((v) => ({ version: v.version, data: v.data, updatedAt: v.observedAt, ...(v.changedBy !== undefined ? { changedBy: v.changedBy } : {}) })),
  };
}

/** The referenced ConfigMaps of a template that exist, each recorded and described. */
export async function configMapsOf(context: AdapterContext, namespace: string, template: V1PodTemplateSpec | undefined): Promise<ConfigMapState[]> {
  const states: ConfigMapState[] = [];
  for (const name of configMapsReferenced(template)) {
    // A missing ConfigMap shows up as the pods' failure events; there is nothing to describe.
    const cm = await readConfigMap(context, namespace, name);
    if (cm !== undefined) states.push(await configMapState(context, cm));
  }
  return states;
}
