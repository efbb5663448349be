export { SimClock, SimEnvironment, type SimSnapshot } from "./sim-environment.js";
export { EnvironmentSpecSchema, FAULT_KINDS, type EnvironmentSpec, type EnvironmentSpecInput, type FaultSpec } from "./spec.js";
