import { z } from "zod";

/** A workload (service) name, as tools take it. */
export const Service = z.string().min(1, "expected a service name").max(63);

/** A rollout revision number. */
export const Revision = z.number().int().min(1, "expected a revision number ≥ 1");
