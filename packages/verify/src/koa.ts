// Koa middleware (`@keyhold/verify/koa`), written against the shape of Koa's context so that
// the package does not depend on Koa. `authenticate` puts the verified claims on
// `ctx.state.auth`; the `require*` middleware check them and answer 401/403 (RFC 6750) first.
import type { AccessTokenClaims } from './claims.js';
import { authenticateRequest, checkRequirement, rejection, requirement, type Rejection, type Requirement } from './http.js';
import type { Verifier } from './verifier.js';

/** The part of Koa's context the middleware uses. */
export interface KoaContextLike {
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: { auth?: AccessTokenClaims } & Record<string, unknown>;
}

export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

function answer(ctx: KoaContextLike, refused: Rejection): void {
  ctx.status = refused.status;
  for (const [name, value] of Object.entries(refused.headers)) ctx.set(name, value);
  ctx.set('cache-control', 'no-store');
  ctx.body = refused.body;
}

/** Verifies the request's bearer token; on success `ctx.state.auth` holds its claims. */
export function authenticate(verifier: Verifier): KoaMiddleware {
  return async (ctx, next) => {
    const result = await authenticateRequest(verifier, ctx.get('authorization') || undefined);
    if ('error' in result) return answer(ctx, rejection(result.error));
    ctx.state.auth = result.claims;
    await next();
  };
}

function guard(required: Requirement): KoaMiddleware {
  return async (ctx, next) => {
    const refused = checkRequirement(required, ctx.state.auth);
    if (refused) return answer(ctx, refused);
    await next();
  };
}

/** Every one of `scopes` must have been granted (`scope`). */
export const requireScope = (...scopes: string[]): KoaMiddleware => guard(requirement('scope', scopes));
/** Every one of `permissions` must be in the token's `permissions`. */
export const requirePermission = (...permissions: string[]): KoaMiddleware => guard(requirement('permission', permissions));
/** The account must have one of `roles`. */
export const requireRole = (...roles: string[]): KoaMiddleware => guard(requirement('role', roles));
/** The account's tier must be one of `tiers`. */
export const requireTier = (...tiers: string[]): KoaMiddleware => guard(requirement('tier', tiers));
