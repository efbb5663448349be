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
  /** Executables in the image (unset: any command runs). */
  entrypoints?: string[];
  /** Flags the binary defines, without dashes (unset: any flag is accepted). */
  flags?: string[];
  /** HTTP paths the code serves (unset: every path answers 200). */
  httpPaths?: string[];
  /** Whether the code reaches its dependencies by cluster DNS names (`<svc>.<ns>.svc.cluster.local`). */
  needsClusterDns?: boolean;
}

/** The registry: image reference → behaviour. Plain JSON, part of the world's state. */
export type ImageRegistry = Record<string, ImageBehaviour>;

/** A URL the code accepts: a scheme, "://", then a host. */
const URL_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+/i;

/** Why a container cannot run: its waiting state, and for a crash what the container did. */
export type StartFailure =
  | { state: "imagepull" }
  | {
      state: "crashloop";
      log: string;
      /** Exit code and reason of the terminated container (default 1, Error). */
      exitCode?: number;
      reason?: string;
      /** The waiting reason right after a failed start (default CrashLoopBackOff). */
      waitingReason?: string;
      /** A Warning event the kubelet records on each failed start (reason, message). */
      event?: { reason: string; message: string };
      /** The kubelet killed it for failing its liveness probe. */
      liveness?: boolean;
    };

/** The container as the image checks it: command, args, env, probes. */
export interface ContainerView {
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  ports: number[];
  livenessProbe?: ProbeView;
}

/** An HTTP probe as the kubelet runs it. */
export interface ProbeView {
  path?: string;
  port?: number | string;
}

/** The port the code listens on: `--listen=:PORT` (or `-listen`) among its args, else the container's first port. */
export function listenPort(c: Pick<ContainerView, "args" | "ports">): number | undefined {
  for (const a of c.args ?? []) {
    const m = /^--?listen[= ](?:[^:]*):(\d+)$/.exec(a);
    if (m !== null) return Number(m[1]);
  }
  return c.ports[0];
}

/** Why an HTTP probe on the code fails (the kubelet's message), or undefined when it answers 200. */
export function probeFailure(behaviour: ImageBehaviour | undefined, c: Pick<ContainerView, "args" | "ports">, probe: ProbeView, podIp: string, kind: "Readiness" | "Liveness"): string | undefined {
  const port = typeof probe.port === "number" ? probe.port : probe.port === undefined ? c.ports[0] : c.ports[0];
  const listening = listenPort(c);
  const path = probe.path ?? "/";
  if (port !== undefined && listening !== undefined && port !== listening) {
    return `${kind} probe failed: Get "http://${podIp}:${port}${path}": dial tcp ${podIp}:${port}: connect: connection refused`;
  }
  if (behaviour?.httpPaths !== undefined && !behaviour.httpPaths.includes(path)) return `${kind} probe failed: HTTP probe failed with statuscode: 404`;
  return undefined;
}

/** Why an image cannot run on a node of `nodeArch` as `container`, or undefined if it can. */
export function startFailure(registry: ImageRegistry, image: string, nodeArch: string, container: ContainerView | Record<string, string>, podIp = "10.0.0.1"): StartFailure | undefined {
  const view: ContainerView = "env" in container && typeof container["env"] === "object" ? (container as ContainerView) : { env: container as Record<string, string>, ports: [] };
  const behaviour = registry[image];
  if (behaviour === undefined || !behaviour.exists) return { state: "imagepull" };
  const binary = view.command?.[0];
  if (binary !== undefined && behaviour.entrypoints !== undefined && !behaviour.entrypoints.includes(binary)) {
    const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${binary}": stat ${binary}: no such file or directory: unknown`;
    return {
      state: "crashloop",
      log: `exec: "${binary}": stat ${binary}: no such file or directory`,
      exitCode: 128,
      reason: "StartError",
      waitingReason: "RunContainerError",
      event: { reason: "Failed", message: `Error: ${message}` },
    };
  }
  if (behaviour.arch !== nodeArch) return { state: "crashloop", log: "exec /app/server: exec format error" };
  if (behaviour.flags !== undefined) {
    for (const a of view.args ?? []) {
      const m = /^--?([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(a);
      if (m === null || m[1] === undefined) continue;
      if (!behaviour.flags.includes(m[1])) return { state: "crashloop", log: `flag provided but not defined: -${m[1]}`, exitCode: 2 };
    }
  }
  for (const key of behaviour.urlEnv ?? []) {
    const value = view.env[key];
    if (value !== undefined && !URL_SHAPE.test(value)) return { state: "crashloop", log: `FATAL config: invalid value for ${key}="${value}": cannot parse as URL` };
  }
  if (view.livenessProbe !== undefined) {
    const failed = probeFailure(behaviour, view, view.livenessProbe, podIp, "Liveness");
    if (failed !== undefined) {
      return { state: "crashloop", log: "received SIGTERM, shutting down", exitCode: 137, reason: "Error", event: { reason: "Unhealthy", message: failed }, liveness: true };
    }
  }
  return undefined;
}
