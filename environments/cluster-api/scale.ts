import type { V1LabelSelector } from "@kubernetes/client-node";
import type { KubeObject } from "./backend.js";
import { badRequest } from "./api-errors.js";
import { isRecord } from "./manifest.js";
import { formatLabelSelector } from "./selectors.js";

/** The `autoscaling/v1` Scale of a Deployment, ReplicaSet or StatefulSet, as `…/{name}/scale` serves it. */
export function scaleOf(object: KubeObject): KubeObject {
  const spec = isRecord(object["spec"]) ? object["spec"] : {};
  const status = isRecord(object["status"]) ? object["status"] : {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof spec["replicas"] === "number" ? spec["replicas"] : 1 },
    status: {
      replicas: typeof status["replicas"] === "number" ? status["replicas"] : 0,
      selector: formatLabelSelector(spec["selector"] as V1LabelSelector | undefined).replace("<none>", ""),
    },
  };
}

/** The object with the Scale's `spec.replicas`: what a write to the scale subresource changes. */
export function withScale(object: KubeObject, scale: unknown): KubeObject {
  const replicas = isRecord(scale) && isRecord(scale["spec"]) ? scale["spec"]["replicas"] : undefined;
  if (replicas === undefined) throw badRequest("Scale.spec.replicas is required");
  const spec = isRecord(object["spec"]) ? object["spec"] : {};
  return { ...object, spec: { ...spec, replicas } };
}
