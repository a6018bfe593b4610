// The engine catches every error it meets (an adapter's Redis command, a client lookup in
// Postgres) and answers it as a 500 server_error before any middleware of ours sees it. It
// does emit server_error with the error; Keyhold's listener keeps it on the request
// (src/oidc/events.ts), and answerEngineOutage, run after the engine (engineCall in
// src/middleware/engine-gateway.ts), turns that answer into service_unavailable (503 +
// Retry-After) when the error is a dependency's outage. JSON unless the client prefers
// HTML, as the engine itself decides.
import type { Context } from 'koa';
import { outageError, sendError, type ErrorHandlerOptions } from '#src/middleware/errors.ts';

/** Turns the engine's 500 into 503 when what it met was a dependency's outage. */
export function answerEngineOutage(ctx: Context, options: ErrorHandlerOptions): void {
  const failure: unknown = ctx.state.engineError;
  if (failure === undefined || ctx.status < 500) return;
  const error = outageError(ctx, failure, options);
  if (error) sendError(ctx, error, ctx.accepts('json', 'html') !== 'html');
}
