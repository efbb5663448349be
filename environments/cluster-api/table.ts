import type { V1LabelSelector } from "@kubernetes/client-node";
import type { KubeObject } from "./backend.js";
import { isRecord } from "./manifest.js";
import { formatLabelSelector } from "./selectors.js";

/**
 * `meta.k8s.io/v1` Table responses, what `kubectl get` asks for (`Accept: …;as=Table;…`): the
 * server chooses the columns, kubectl prints them. Columns follow kubectl's usual output for the
 * kinds Suture's operators look at; other kinds get NAME and AGE.
 */

/** A Table column (priority 1 columns show only with `-o wide`). */
interface Column {
  name: string;
  type: "string" | "integer";
  format?: "name";
  description: string;
  priority: number;
  cell: (object: KubeObject, now: Date) => string | number;
}

/** What a row's `object` holds: `includeObject=None|Metadata|Object` (kubectl's default is Metadata). */
export type IncludeObject = "None" | "Metadata" | "Object";

/** Whether an Accept header asks for a Table. */
export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /;\s*as=Table/.test(accept);
}

/** A Table of `objects` (of one kind) as the API server answers `kubectl get`. */
export function toTable(kind: string, objects: readonly KubeObject[], resourceVersion: string, include: IncludeObject, now: Date): Record<string, unknown> {
  const columns = columnsOf(kind);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ name, type, format, description, priority }) => ({ name, type, format: format ?? "", description, priority })),
    rows: objects.map((object) => ({ cells: columns.map((column) => column.cell(object, now)), ...rowObject(object, include) })),
  };
}

function rowObject(object: KubeObject, include: IncludeObject): Record<string, unknown> {
  if (include === "None") return {};
  if (include === "Object") return { object };
  return { object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata } };
}

const name: Column = { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0, cell: (o) => o.metadata.name ?? "" };
const age: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  priority: 0,
  cell: (o, now) => ageOf(o, now),
};

function column(title: string, cell: Column["cell"], options: { type?: Column["type"]; priority?: number } = {}): Column {
  return { name: title, type: options.type ?? "string", description: title, priority: options.priority ?? 0, cell };
}

function columnsOf(kind: string): Column[] {
  switch (kind) {
    case "Deployment":
      return [
        name,
        column("Ready", (o) => `${num(o, "status.readyReplicas")}/${num(o, "spec.replicas", 1)}`),
        column("Up-to-date", (o) => num(o, "status.updatedReplicas"), { type: "integer" }),
        column("Available", (o) => num(o, "status.availableReplicas"), { type: "integer" }),
        age,
        column(
          "Containers",
          (o) =>
            containers(o)
              .map((c) => c.name)
              .join(","),
          { priority: 1 },
        ),
        column(
          "Images",
          (o) =>
            containers(o)
              .map((c) => c.image)
              .join(","),
          { priority: 1 },
        ),
        column("Selector", (o) => formatLabelSelector(at(o, "spec.selector") as V1LabelSelector | undefined), { priority: 1 }),
      ];
    case "ReplicaSet":
      return [
        name,
        column("Desired", (o) => num(o, "spec.replicas", 1), { type: "integer" }),
        column("Current", (o) => num(o, "status.replicas"), { type: "integer" }),
        column("Ready", (o) => num(o, "status.readyReplicas"), { type: "integer" }),
        age,
      ];
    case "StatefulSet":
      return [name, column("Ready", (o) => `${num(o, "status.readyReplicas")}/${num(o, "spec.replicas", 1)}`), age];
    case "Pod":
      return [
        name,
        column("Ready", podReady),
        column("Status", podStatus),
        column("Restarts", (o) => containerStatuses(o).reduce((sum, s) => sum + (typeof s["restartCount"] === "number" ? s["restartCount"] : 0), 0), { type: "integer" }),
        age,
        column("IP", (o) => str(o, "status.podIP", "<none>"), { priority: 1 }),
        column("Node", (o) => str(o, "spec.nodeName", "<none>"), { priority: 1 }),
      ];
    case "Service":
      return [
        name,
        column("Type", (o) => str(o, "spec.type", "ClusterIP")),
        column("Cluster-IP", (o) => str(o, "spec.clusterIP", "<none>")),
        column("External-IP", externalIps),
        column("Port(s)", servicePorts),
        age,
        column("Selector", (o) => serviceSelector(o), { priority: 1 }),
      ];
    case "NetworkPolicy":
      return [name, column("Pod-Selector", (o) => formatLabelSelector(record(at(o, "spec.podSelector")))), age];
    case "Ingress":
      return [
        name,
        column("Class", (o) => str(o, "spec.ingressClassName", "<none>")),
        column("Hosts", (o) => ingressHosts(o)),
        column("Address", (o) => ingressAddress(o)),
        column("Ports", (o) => (Array.isArray(at(o, "spec.tls")) && (at(o, "spec.tls") as unknown[]).length > 0 ? "80, 443" : "80")),
        age,
      ];
    case "ConfigMap":
      return [name, column("Data", (o) => Object.keys(record(o["data"])).length + Object.keys(record(o["binaryData"])).length, { type: "integer" }), age];
    case "Event":
      return [
        column("Last Seen", (o, now) => eventLastSeen(o, now)),
        column("Type", (o) => str(o, "type", "")),
        column("Reason", (o) => str(o, "reason", "")),
        column("Object", (o) => `${str(o, "involvedObject.kind", "").toLowerCase()}/${str(o, "involvedObject.name", "")}`),
        column("Message", (o) => str(o, "message", "").trim()),
        { ...name, priority: 1 },
      ];
    case "PersistentVolumeClaim":
      return [
        name,
        column("Status", (o) => str(o, "status.phase", "Pending")),
        column("Volume", (o) => str(o, "spec.volumeName", "")),
        column("Capacity", (o) => str(o, "status.capacity.storage", "")),
        column("Access Modes", (o) => accessModes(o)),
        column("StorageClass", (o) => str(o, "spec.storageClassName", "<unset>")),
        age,
      ];
    case "Node":
      return [name, column("Status", nodeStatus), column("Roles", () => "<none>"), age, column("Version", (o) => str(o, "status.nodeInfo.kubeletVersion", ""))];
    default:
      return [name, age];
  }
}

/** A claim's access modes as kubectl abbreviates them (RWO, ROX, RWX, RWOP). */
function accessModes(o: KubeObject): string {
  const short: Record<string, string> = { ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX", ReadWriteOncePod: "RWOP" };
  const modes = at(o, "status.accessModes") ?? at(o, "spec.accessModes");
  return Array.isArray(modes) ? modes.map((m) => short[String(m)] ?? String(m)).join(",") : "";
}

/** The value at a dotted path of an object, or undefined. */
/** An Ingress's rule hosts as `kubectl get ingress` lists them (`*` for a rule without one). */
function ingressHosts(o: KubeObject): string {
  const rules = at(o, "spec.rules");
  const hosts = Array.isArray(rules) ? rules.map((r) => (typeof record(r)["host"] === "string" ? String(record(r)["host"]) : "*")) : [];
  return hosts.length > 0 ? hosts.join(",") : "*";
}

/** The load balancer addresses an Ingress's status reports. */
function ingressAddress(o: KubeObject): string {
  const ingress = at(o, "status.loadBalancer.ingress");
  const addresses = Array.isArray(ingress)
    ? ingress.map((i) => [record(i)["ip"], record(i)["hostname"]].find((a): a is string => typeof a === "string" && a !== "") ?? "").filter((a) => a !== "")
    : [];
  return addresses.join(",");
}

function at(object: unknown, path: string): unknown {
  let value = object;
  for (const step of path.split(".")) value = isRecord(value) ? value[step] : undefined;
  return value;
}

function num(object: KubeObject, path: string, fallback = 0): number {
  const value = at(object, path);
  return typeof value === "number" ? value : fallback;
}

function str(object: KubeObject, path: string, fallback: string): string {
  const value = at(object, path);
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** A string field's value, "" for anything else. */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function containers(object: KubeObject): Array<{ name: string; image: string }> {
  const list = at(object, "spec.template.spec.containers");
  return Array.isArray(list) ? list.map((c: unknown) => ({ name: text(record(c)["name"]), image: text(record(c)["image"]) })) : [];
}

function containerStatuses(pod: KubeObject): Array<Record<string, unknown>> {
  const list = at(pod, "status.containerStatuses");
  return Array.isArray(list) ? list.map(record) : [];
}

function podReady(pod: KubeObject): string {
  const specContainers = at(pod, "spec.containers");
  const total = Array.isArray(specContainers) ? specContainers.length : 0;
  return `${containerStatuses(pod).filter((s) => s["ready"] === true).length}/${total}`;
}

/** kubectl's STATUS column: the phase, unless a container is waiting or terminated with a reason. */
function podStatus(pod: KubeObject): string {
  if (at(pod, "metadata.deletionTimestamp") !== undefined) return "Terminating";
  let reason = str(pod, "status.reason", str(pod, "status.phase", "Unknown"));
  for (const status of containerStatuses(pod)) {
    const waiting = at(status, "state.waiting.reason");
    const terminated = at(status, "state.terminated.reason");
    if (typeof waiting === "string" && waiting !== "") reason = waiting;
    else if (typeof terminated === "string" && terminated !== "") reason = terminated;
  }
  return reason;
}

function externalIps(service: KubeObject): string {
  const ingress = at(service, "status.loadBalancer.ingress");
  const ips = Array.isArray(ingress) ? ingress.map((i: unknown) => text(record(i)["ip"]) || text(record(i)["hostname"])).filter((ip) => ip !== "") : [];
  const external = at(service, "spec.externalIPs");
  const all = [...ips, ...(Array.isArray(external) ? external.map(String) : [])];
  if (all.length > 0) return all.join(",");
  return str(service, "spec.type", "ClusterIP") === "LoadBalancer" ? "<pending>" : "<none>";
}

function servicePorts(service: KubeObject): string {
  const ports = at(service, "spec.ports");
  if (!Array.isArray(ports) || ports.length === 0) return "<none>";
  return ports
    .map((p: unknown) => {
      const port = record(p);
      const nodePort = typeof port["nodePort"] === "number" ? `:${port["nodePort"]}` : "";
      return `${String(port["port"])}${nodePort}/${typeof port["protocol"] === "string" ? port["protocol"] : "TCP"}`;
    })
    .join(",");
}

function serviceSelector(service: KubeObject): string {
  const selector = record(at(service, "spec.selector"));
  const pairs = Object.entries(selector).map(([k, v]) => `${k}=${String(v)}`);
  return pairs.length > 0 ? pairs.join(",") : "<none>";
}

function nodeStatus(node: KubeObject): string {
  const conditions = at(node, "status.conditions");
  const ready = Array.isArray(conditions) ? conditions.map(record).find((c) => c["type"] === "Ready") : undefined;
  const status = ready === undefined ? "Unknown" : ready["status"] === "True" ? "Ready" : "NotReady";
  return at(node, "spec.unschedulable") === true ? `${status},SchedulingDisabled` : status;
}

function eventLastSeen(event: KubeObject, now: Date): string {
  const last = str(event, "lastTimestamp", str(event, "eventTime", ""));
  const time = new Date(last).getTime();
  return last === "" || Number.isNaN(time) ? ageOf(event, now) : humanDuration(now.getTime() - time);
}

function ageOf(object: KubeObject, now: Date): string {
  const created = object.metadata.creationTimestamp as unknown;
  const time = typeof created === "string" || created instanceof Date ? new Date(created).getTime() : Number.NaN;
  return Number.isNaN(time) ? "<unknown>" : humanDuration(now.getTime() - time);
}

/** A duration as kubectl prints ages: 45s, 3m20s, 5h, 2d3h, 40d, 2y10d (Kubernetes' duration.HumanDuration). */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}
