import type { Clock } from "../../domain/clock.js";
import type { KubeApis } from "./apis.js";
import type { ConfigMapHistory } from "../../domain/config-versions.js";
import type { WorkloadSignals } from "./signals.js";

/** What every read and operation of the Kubernetes adapter works with. */
export interface AdapterContext {
  apis: KubeApis;
  /** Namespace of a bare `name`. */
  defaultNamespace: string;
  /** Namespaces Suture lists workloads in and scans for its action records. */
  namespaces: string[];
  /** `fieldManager` of every write, so `managedFields` shows which fields Suture set. */
  fieldManager: string;
  clock: Clock;
  configHistory: ConfigMapHistory;
  signals?: WorkloadSignals;
}
