// Express (and Connect, and bare node:http) middleware (`@keyhold/verify/express`), written
// against the `(req, res, next)` shape of node's IncomingMessage and ServerResponse, which
// Express extends, so that the package does not depend on Express. `authenticate` puts the
// verified claims on `req.auth`; the `require*` middleware check them and answer 401/403
// (RFC 6750) first.
import type { AccessTokenClaims } from './claims.js';
import { authenticateRequest, checkRequirement, rejection, requirement, type Rejection, type Requirement } from './http.js';
import type { Verifier } from './verifier.js';

export interface RequestLike {
  headers: { authorization?: string | string[] | undefined };
  auth?: AccessTokenClaims;
}

export interface ResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type NextFunction = (error?: unknown) => void;

export type ExpressMiddleware = (req: RequestLike, res: ResponseLike, next: NextFunction) => Promise<void>;

function answer(res: ResponseLike, refused: Rejection): void {
  res.statusCode = refused.status;
  for (const [name, value] of Object.entries(refused.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(refused.body));
}

/** Verifies the request's bearer token; on success `req.auth` holds its claims. */
export function authenticate(verifier: Verifier): ExpressMiddleware {
  return async (req, res, next) => {
    let result: Awaited<ReturnType<typeof authenticateRequest>>;
    try {
      result = await authenticateRequest(verifier, req.headers.authorization);
    } catch (error) {
      // Express 4 does not catch rejected promises: unexpected errors go to its error handler.
      return next(error);
    }
    if ('error' in result) return answer(res, rejection(result.error));
    req.auth = result.claims;
    next();
  };
}

function guard(required: Requirement): ExpressMiddleware {
  return async (req, res, next) => {
    const refused = checkRequirement(required, req.auth);
    if (refused) return answer(res, refused);
    next();
  };
}

/** Every one of `scopes` must have been granted (`scope`). */
export const requireScope = (...scopes: string[]): ExpressMiddleware => guard(requirement('scope', scopes));
/** Every one of `permissions` must be in the token's `permissions`. */
export const requirePermission = (...permissions: string[]): ExpressMiddleware => guard(requirement('permission', permissions));
/** The account must have one of `roles`. */
export const requireRole = (...roles: string[]): ExpressMiddleware => guard(requirement('role', roles));
/** The account's tier must be one of `tiers`. */
export const requireTier = (...tiers: string[]): ExpressMiddleware => guard(requirement('tier', tiers));
