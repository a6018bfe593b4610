// RFC 6749 §5.2 names "no client authentication included" as a case of invalid_client; the
// engine answers it with invalid_request. Keyhold corrects the code (and answers 401 with a
// challenge, as for wrong credentials) at the token, introspection and revocation endpoints
// (src/middleware/engine-gateway.ts calls it after the engine).
import type { Context } from 'koa';

const NO_AUTHENTICATION = 'no client authentication mechanism provided';

/** Corrects the engine's answer to a request without client authentication (see above). */
export function correctMissingClientAuthentication(ctx: Context, issuer: string): void {
  const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
  if (ctx.status === 400 && body && typeof body === 'object' && body.error === 'invalid_request' && body.error_description === NO_AUTHENTICATION) {
    ctx.status = 401;
    ctx.body = { error: 'invalid_client', error_description: 'client authentication is required' };
    ctx.set('WWW-Authenticate', `Basic realm="${issuer}"`);
  }
}
