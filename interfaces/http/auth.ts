import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { ApiIdentity } from "../../app/config.js";
import { ForbiddenError, UnauthorizedError } from "../../domain/errors.js";

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** Refuses an intake request (alerts, deploys, builds) without the intake token, when one is configured. */
export function requireIntakeToken(request: FastifyRequest, intakeToken: string | undefined): void {
  if (intakeToken === undefined) return;
  const token = bearer(request);
  if (token === undefined || !sameToken(token, intakeToken)) throw new UnauthorizedError("missing or wrong bearer token for intake of alerts, deploys and builds (SUTURE_INTAKE_TOKEN)");
}

/** The caller's identity, refusing a missing or unknown token, or one that may not decide when `needApprove`; reads are open when no tokens are configured. */
export function identify(request: FastifyRequest, apiTokens: ApiIdentity[], needApprove: boolean): ApiIdentity | undefined {
  const token = bearer(request);
  if (apiTokens.length === 0) {
    if (needApprove) throw new ForbiddenError("approvals over HTTP are disabled: no API tokens are configured (SUTURE_API_TOKENS)");
    return undefined;
  }
  if (token === undefined) throw new UnauthorizedError("missing bearer token: send Authorization: Bearer <token>");
  const who = apiTokens.find((t) => sameToken(t.token, token));
  if (who === undefined) throw new UnauthorizedError("unknown bearer token");
  if (needApprove && !who.canApprove) throw new ForbiddenError(`${who.identity} may read incidents but not approve or reject`);
  return who;
}
