/**
 * Suture's one error hierarchy. Every error a person or a client should see is a SutureError: its
 * message says what was wrong and what to do, and its kind decides how each interface answers it
 * (the HTTP status, the CLI's exit code), so no caller ever inspects a message to choose. Every
 * kind exits 1 today (2 is the CLI's own usage error: an unknown command); scripts that need to
 * tell them apart read the one-line message, which names the field or the thing.
 */
export class SutureError extends Error {
  constructor(
    message: string,
    /** The HTTP status an API answer carries. */
    readonly httpStatus: number,
    /** The exit code a CLI command ends with. */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A kind of SutureError: how every interface answers it. */
function kind(httpStatus: number, exitCode = 1): new (message: string) => SutureError {
  return class extends SutureError {
    constructor(message: string) {
      super(message, httpStatus, exitCode);
    }
  };
}

/** Input that does not match what was expected: an alert, a request body, a file, a setting. 400, exit 1. */
export class InvalidInputError extends kind(400) {}

/** Something named that does not exist: an incident, a checkpoint, a workload. 404, exit 1. */
export class NotFoundError extends kind(404) {}

/** A request the current state does not allow: decided already, not waiting, closed. 409, exit 1. */
export class ConflictError extends kind(409) {}

/** A request without valid credentials. 401, exit 1. */
export class UnauthorizedError extends kind(401) {}

/** A request by an identity (or from a setup) that may not do it. 403, exit 1. */
export class ForbiddenError extends kind(403) {}

/** A system Suture depends on failed or did not answer (an API server's 5xx, a refused connection). 503, exit 1. */
export class UnavailableError extends kind(503) {}

/** A call to a system Suture depends on took longer than its limit; it may still complete there. 503, exit 1. */
export class DependencyTimeoutError extends UnavailableError {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not answer within ${timeoutMs} ms; it may still take effect — re-read before deciding again`);
    this.name = "DependencyTimeoutError";
  }
}
