// The engine's machine endpoints (token, introspection, revocation, userinfo, JWKS, ...)
// in one step: the checks and corrections Keyhold's pages get from separate middleware
// (errorHandler, the URL's control characters, the client-authentication error code, an
// outage's 503) run inline around the engine. Each async middleware layer costs promises
// and async-context bookkeeping on every request; on these endpoints, five of them came
// to about a tenth of a token request.
import type { Middleware } from 'koa';
import { correctMissingClientAuthentication } from '#src/middleware/client-authentication-error.ts';
import { assertNoControlCharactersInUrl } from '#src/middleware/control-characters.ts';
import { answerEngineOutage } from '#src/middleware/engine-outage.ts';
import { answerThrown, answerUnrouted, type ErrorHandlerOptions } from '#src/middleware/errors.ts';

export function engineGateway(options: { issuer: string; outages: ErrorHandlerOptions; engine: Middleware }): Middleware {
  const { issuer, outages, engine } = options;
  return async (ctx, next) => {
    try {
      assertNoControlCharactersInUrl(ctx);
      await engine(ctx, next);
      correctMissingClientAuthentication(ctx, issuer);
      answerEngineOutage(ctx, outages);
      answerUnrouted(ctx);
    } catch (thrown) {
      answerThrown(ctx, thrown, outages);
    }
  };
}
