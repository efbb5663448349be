/** An Ingress spec as the API (client-node model or wire JSON) carries it: only the backends are read. */
interface IngressSpecLike {
  defaultBackend?: { service?: { name?: string } } | undefined;
  rules?: Array<{ http?: { paths?: Array<{ backend?: { service?: { name?: string } } }> } | undefined }> | undefined;
}

/** The Services an Ingress routes to (its default backend and every path's), each once, in the order they appear. */
export function ingressBackends(spec: IngressSpecLike | undefined): string[] {
  const names = [spec?.defaultBackend?.service?.name, ...(spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service?.name))];
  return [...new Set(names.filter((n): n is string => n !== undefined && n !== ""))];
}
