/**
 * Suture's one error hierarchy. Every error a person or a client should see is a SutureError: its
 * message says what was wrong and what to do, and its kind decides how each interface answers it
 * (the HTTP status, the CLI's exit code), so no caller ever inspects a message to choose. Every
 * kind exits 1 today (2 is the CLI's own usage error: an unknown command); scripts that need to
 * tell them apart read the one-line message, which names the field or the thing.
 */
export abstract class SutureError extends Error {
  /** The HTTP status an API answer carries. */
  abstract readonly httpStatus: number;
  /** The exit code a CLI command ends with. */
  abstract readonly exitCode: number;
}

/** Input that does not match what was expected: an alert, a request body, a file, a setting. 400, exit 1. */
export class InvalidInputError extends SutureError {
  readonly httpStatus: number = 400;
  readonly exitCode: number = 1;
}

/** Something named that does not exist: an incident, a checkpoint, a workload. 404, exit 1. */
export class NotFoundError extends SutureError {
  readonly httpStatus: number = 404;
  readonly exitCode: number = 1;
}

/** A request the current state does not allow: decided already, not waiting, closed. 409, exit 1. */
export class ConflictError extends SutureError {
  readonly httpStatus: number = 409;
  readonly exitCode: number = 1;
}

/** A request without valid credentials. 401, exit 1. */
export class UnauthorizedError extends SutureError {
  readonly httpStatus: number = 401;
  readonly exitCode: number = 1;
}

/** A request by an identity (or from a setup) that may not do it. 403, exit 1. */
export class ForbiddenError extends SutureError {
  readonly httpStatus: number = 403;
  readonly exitCode: number = 1;
}
