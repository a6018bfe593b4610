// The front end of RFC 6750 bearer authentication, shared by the Account API
// (account-auth.ts) and the Admin API (admin-auth.ts): where the token may come from, how a
// request without one or with a malformed one is answered, and the WWW-Authenticate
// challenge every refusal carries. What a token must be is each API's own business.
import type { Context } from 'koa';
import { KeyholdError, type ErrorMessageKey } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';

// RFC 6750 §2.1 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export function challenge(realm: string, params: Record<string, string> = {}): string {
  return `Bearer ${Object.entries({ realm, ...params })
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ')}`;
}

/** The 401 for a token that is there but not good (RFC 6750 §3.1 invalid_token). */
export function invalidToken(realm: string, key: ErrorMessageKey): KeyholdError {
  return new KeyholdError('unauthorized', { key, headers: { 'WWW-Authenticate': challenge(realm, { error: 'invalid_token', error_description: message(key) }) } });
}

/**
 * The access token of the request's `Authorization: Bearer` header, or the refusal:
 * a token in the query, no header (`missingKey`, a challenge without an error code) or
 * a header that is not a bearer token.
 */
export function bearerToken(ctx: Context, realm: string, missingKey: ErrorMessageKey): string {
  // RFC 6750 §2: one method only, and Keyhold accepts the header alone (URI query tokens
  // end up in logs and histories; the APIs take JSON, not form bodies).
  if (ctx.query.access_token !== undefined) {
    throw new KeyholdError('invalid_request', {
      key: 'error.invalid_request.token_in_query',
      headers: { 'WWW-Authenticate': challenge(realm, { error: 'invalid_request', error_description: 'access token in the query' }) },
    });
  }
  const header = ctx.get('Authorization');
  // §3.1: a request without credentials gets the challenge without an error code.
  if (!header) throw new KeyholdError('unauthorized', { key: missingKey, headers: { 'WWW-Authenticate': challenge(realm) } });
  const value = BEARER.exec(header)?.[1];
  if (!value) throw invalidToken(realm, 'error.unauthorized.bearer_header');
  return value;
}
