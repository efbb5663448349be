/**
 * The world's image registry: what each image's code does. Behaviour belongs to the image, so
 * any rollout to an image (a fault, `kubectl rollout undo`, a template patch through the API)
 * runs that image's code; an image not in the registry cannot be pulled.
 */

/** What the code in one image does once it runs. */
export interface ImageBehaviour {
  /** False for a tag that was announced but never pushed (the pull fails like an absent one). */
  exists: boolean;
  /** CPU architecture the image was built for. */
  arch: string;
  /** Database schema version the code was written for. */
  schemaVersion: number;
  /** Errors the code produces on a share of requests. */
  bug?: { errorRate: number; message: string };
  /** Latency the code adds to every request. */
  slowMs?: number;
  /** Memory the code leaks per minute once the leaking path is hit (from `leakFrom`, epoch ms). */
  leakMibPerMin?: number;
  leakFrom?: number;
  /** Env vars the code parses as URLs at start-up; an invalid value stops the container. */
  urlEnv?: string[];
}

/** The registry: image reference → behaviour. Plain JSON, part of the world's state. */
export type ImageRegistry = Record<string, ImageBehaviour>;

/** A URL the code accepts: a scheme, "://", then a host. */
const URL_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+/i;

/** Why an image cannot run on a node of `nodeArch` with `env`, or undefined if it can. */
export function startFailure(registry: ImageRegistry, image: string, nodeArch: string, env: Record<string, string>): { state: "imagepull" } | { state: "crashloop"; log: string } | undefined {
  const behaviour = registry[image];
  if (behaviour === undefined || !behaviour.exists) return { state: "imagepull" };
  if (behaviour.arch !== nodeArch) return { state: "crashloop", log: "exec /app/server: exec format error" };
  for (const key of behaviour.urlEnv ?? []) {
    const value = env[key];
    if (value !== undefined && !URL_SHAPE.test(value)) return { state: "crashloop", log: `FATAL config: invalid value for ${key}="${value}": cannot parse as URL` };
  }
  return undefined;
}
