import { apiStatusOf, DryRunRejectedError, KubernetesForbiddenError, kubeRequestError, type ApiRequest, type ApiStatus } from "./api-errors.js";

/** What a write came to: applied, or refused because the object changed since it was read. */
export type WriteOutcome<T> = { applied: true; value: T } | { applied: false; stale: ApiStatus };

/**
 * True when the API server refused a write because its resourceVersion precondition failed: a 409
 * Conflict, or the failed JSON Patch `test` of /metadata/resourceVersion (which some servers answer
 * 422 Invalid rather than 409).
 */
export function isStaleWrite(status: ApiStatus): boolean {
  if (status.code === 409 && status.reason !== "AlreadyExists") return true;
  return (status.code === 422 || status.code === 400 || status.code === 500) && /resourceVersion/.test(status.message) && /test/i.test(status.message);
}

/**
 * Sends a write with `dryRun=All` only: RBAC refusal → {@link KubernetesForbiddenError}, any other
 * 4xx → {@link DryRunRejectedError}; a stale precondition is answered (its status), not thrown.
 */
export async function dryRunOnly(request: ApiRequest, sendDryRun: () => Promise<unknown>): Promise<ApiStatus | undefined> {
  try {
    await sendDryRun();
    return undefined;
  } catch (error) {
    const status = apiStatusOf(error);
    if (status === undefined) throw kubeRequestError(error, request);
    if (status.code === 403) throw new KubernetesForbiddenError(request);
    if (isStaleWrite(status)) return status;
    if (status.code >= 400 && status.code < 500) throw new DryRunRejectedError(request, status);
    throw kubeRequestError(error, request);
  }
}

/**
 * Sends a write twice, the way a careful operator does: first with `dryRun=All` (RBAC, validation,
 * admission and quota all run, nothing is stored), then for real. A dry-run refusal stops here, so
 * nothing changed; a stale precondition (either time) is answered, not thrown, so the caller
 * re-reads and re-validates instead of retrying blindly.
 */
export async function dryRunThenApply<T>(request: ApiRequest, send: (dryRun: boolean) => Promise<T>): Promise<WriteOutcome<T>> {
  const stale = await dryRunOnly(request, () => send(true));
  if (stale !== undefined) return { applied: false, stale };
  try {
    return { applied: true, value: await send(false) };
  } catch (error) {
    const status = apiStatusOf(error);
    if (status !== undefined && isStaleWrite(status)) return { applied: false, stale: status };
    throw kubeRequestError(error, request);
  }
}
