import { stringify } from "yaml";

/** Options of a kubeconfig for the simulated server. */
export interface KubeconfigOptions {
  /** The context's default namespace (default "default"). */
  namespace?: string;
  /** The context (and cluster and user) name (default "suture-sim"). */
  context?: string;
}

/**
 * A kubeconfig pointing kubectl or client-node at a plain-HTTP server. There is no TLS, but
 * `insecure-skip-tls-verify: true` is still set: client-node v2 refuses an `http://` server
 * without it ("HTTP protocol is not allowed when skipTLSVerify is not set"); kubectl ignores it
 * for http. A token is set so clients that insist on credentials have one.
 */
export function kubeconfigFor(url: string, options: KubeconfigOptions = {}): string {
  const name = options.context ?? "suture-sim";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: url, "insecure-skip-tls-verify": true } }],
    users: [{ name, user: { token: "simulated" } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: options.namespace ?? "default" } }],
    "current-context": name,
    preferences: {},
  });
}
