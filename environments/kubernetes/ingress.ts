/** An Ingress spec as the API (client-node model or wire JSON) carries it: only the backends are read. */
interface IngressSpecLike {
  defaultBackend?: { service?: { name?: string } } | undefined;
  rules?:
    Array<{ host?: string | undefined; http?: { paths?: Array<{ path?: string | undefined; pathType?: string | undefined; backend?: { service?: { name?: string } } }> } | undefined }> | undefined;
}

/** The Services an Ingress routes to (its default backend and every path's), each once, in the order they appear. */
export function ingressBackends(spec: IngressSpecLike | undefined): string[] {
  const names = [spec?.defaultBackend?.service?.name, ...(spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service?.name))];
  return [...new Set(names.filter((n): n is string => n !== undefined && n !== ""))];
}

/** Whether an Ingress rule's host (exact, or a `*.` wildcard covering one label) serves `host`. */
function hostMatches(ruleHost: string | undefined, host: string): boolean {
  if (ruleHost === undefined || ruleHost === "") return false;
  if (ruleHost.startsWith("*.")) return host.endsWith(ruleHost.slice(1)) && !host.slice(0, host.length - ruleHost.length + 1).includes(".");
  return ruleHost.toLowerCase() === host.toLowerCase();
}

/**
 * The Service an Ingress sends a request for `host` + `path` to, as its controller routes it: the
 * rules for that host, the longest path that matches (`Exact` equal, otherwise a prefix on path
 * segments); undefined when no rule of the Ingress serves that host.
 */
export function ingressBackendFor(spec: IngressSpecLike | undefined, host: string, path: string): string | undefined {
  const rules = (spec?.rules ?? []).filter((r) => hostMatches(r.host, host));
  if (rules.length === 0) return undefined;
  const segmentPrefix = (prefix: string): boolean => prefix === "/" || path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
  const paths = rules
    .flatMap((r) => r.http?.paths ?? [])
    .filter((p) => {
      const candidate = p.path ?? "/";
      return p.pathType === "Exact" ? path === candidate : segmentPrefix(candidate);
    })
    .sort((a, b) => (b.path ?? "/").length - (a.path ?? "/").length);
  return paths[0]?.backend?.service?.name ?? spec?.defaultBackend?.service?.name;
}

/** One Ingress route a probed URL takes, as `{ route }`, or why there is not exactly one Service (`{ reason }`). */
export function oneIngressRoute(
  routes: Array<{ ingress: string; service: string }>,
  namespace: string,
  url: string,
): { route: { ingress: string; service: string }; from: string } | { reason: string } {
  const services = [...new Set(routes.map((r) => r.service))];
  const [route] = routes;
  if (route === undefined) return { reason: `no Ingress in ${namespace} has a rule for ${url}` };
  if (services.length > 1) return { reason: `${url} is routed by ${routes.length} Ingresses in ${namespace} to ${services.join(", ")}; map the alert in SUTURE_ALERT_TARGETS` };
  return { route, from: `Ingress ${namespace}/${route.ingress} (rule for ${url})` };
}
