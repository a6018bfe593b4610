// The engine's machine endpoints (token, introspection, revocation, userinfo, JWKS, ...)
// in one step: the checks and corrections Keyhold's pages get from separate middleware
// (errorHandler, the URL's control characters, the client-authentication error code, an
// outage's 503) run inline around the engine. Each async middleware layer costs promises
// and async-context bookkeeping on every request; on these endpoints, five of them came
// to about a tenth of a token request. The pages' chain ends in the same engineCall().
import type { Middleware } from 'koa';
import { correctMissingClientAuthentication } from '#src/middleware/client-authentication-error.ts';
import { assertNoControlCharactersInUrl } from '#src/middleware/control-characters.ts';
import { answerEngineOutage } from '#src/middleware/engine-outage.ts';
import { answerThrown, answerUnrouted, type ErrorHandlerOptions } from '#src/middleware/errors.ts';

export interface EngineGatewayOptions {
  issuer: string;
  outages: ErrorHandlerOptions;
  engine: Middleware;
}

/**
 * The engine with Keyhold's corrections of its answers (the client-authentication error
 * code, an outage's 503): what the pages' chain ends in, behind its own guards.
 */
export function engineCall(options: EngineGatewayOptions): Middleware {
  const { issuer, outages, engine } = options;
  return async (ctx, next) => {
    await engine(ctx, next);
    correctMissingClientAuthentication(ctx, issuer);
    answerEngineOutage(ctx, outages);
  };
}

/** The engine's machine endpoints: the guards and engineCall() in one layer. */
export function engineGateway(options: EngineGatewayOptions): Middleware {
  const call = engineCall(options);
  return async (ctx, next) => {
    try {
      assertNoControlCharactersInUrl(ctx);
      await call(ctx, next);
      answerUnrouted(ctx);
    } catch (thrown) {
      answerThrown(ctx, thrown, options.outages);
    }
  };
}
