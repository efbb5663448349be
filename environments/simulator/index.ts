export { SimClock, SimEnvironment, type SimSnapshot } from "./sim-environment.js";
export { EnvironmentSpecSchema, FAULT_KINDS, type EnvironmentSpec, type EnvironmentSpecInput, type FaultSpec } from "./spec.js";
export { SimConfigMapHistory } from "./sim-config-history.js";
export { SimRunbookActions } from "./sim-runbook-actions.js";
export { SimSignals } from "./sim-signals.js";
