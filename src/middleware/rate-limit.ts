// How a refused attempt is answered: 429 with Retry-After and the IETF RateLimit-Policy /
// RateLimit headers (draft-ietf-httpapi-ratelimit-headers: `"name";q=points;w=window` and
// `"name";r=remaining;t=seconds until the window resets`).
import type { Context } from 'koa';
import { KeyholdError } from '#src/errors.ts';
import type { RateLimitedError } from '#src/services/rate-limits.ts';

export function rateLimitHeaders(error: RateLimitedError): Record<string, string> {
  const { name, points, windowSeconds } = error.policy;
  return {
    'Retry-After': String(error.retryAfterSeconds),
    'RateLimit-Policy': `"${name}";q=${points};w=${windowSeconds}`,
    RateLimit: `"${name}";r=0;t=${error.retryAfterSeconds}`,
  };
}

/** Sets the headers on a page the route renders itself (with status 429). */
export function setRateLimitHeaders(ctx: Context, error: RateLimitedError): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(error))) ctx.set(name, value);
}

/** The error for routes that answer through the error handler (JSON APIs). */
export function rateLimitedError(error: RateLimitedError): KeyholdError {
  return new KeyholdError('rate_limited', error.message, rateLimitHeaders(error));
}
