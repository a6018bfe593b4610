// Turns every error thrown by Keyhold's own routes into a stable code, as JSON for API
// clients and as a page for browsers, from the error registry and the message catalogue.
// Nothing internal (stack, SQL, secrets) is sent; unexpected errors are logged with the
// request id and answered as internal_error, except a dependency's outage (Redis or
// Postgres down or restarting): service_unavailable with Retry-After, reported to
// `onUnavailable` (log line and metric).
import type { Context, Middleware } from 'koa';
import { ZodError } from 'zod';
import { KeyholdError, serviceUnavailable } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';
import { renderView } from '#src/views.ts';
import { unavailableDependency, type Dependency } from '#src/stores/dependency-failure.ts';

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  code?: string;
  message?: string;
}

// Errors raised by koa-body / raw-body / http-errors carry a status; map them to our codes.
function fromHttpError(error: HttpLikeError): KeyholdError | undefined {
  const status = error.status ?? error.statusCode;
  if (!status || status >= 500) return undefined;
  if (status === 413) return new KeyholdError('payload_too_large');
  if (status === 415) return new KeyholdError('unsupported_media_type');
  if (status === 404) return new KeyholdError('not_found');
  if (status === 405) return new KeyholdError('method_not_allowed');
  if (status === 400) return new KeyholdError('invalid_body');
  return new KeyholdError('invalid_request', error.expose && error.message ? { key: 'error.invalid_request.detail', params: { detail: error.message } } : {});
}

export function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/api/') || ctx.accepts('html', 'json') === 'json';
}

/** Sets the headers an error carries (Retry-After, RateLimit, WWW-Authenticate…) on a page a route renders itself. */
export function setErrorHeaders(ctx: Context, error: KeyholdError): void {
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
}

/** Answers with `error`: its status and headers, and its text as JSON or as the error page. */
export function sendError(ctx: Context, error: KeyholdError, json = wantsJson(ctx)): void {
  setErrorHeaders(ctx, error);
  ctx.status = error.status;
  if (json) {
    ctx.body = { ...error.fields, error: error.code, error_description: error.message, request_id: ctx.state.requestId };
  } else {
    ctx.type = 'html';
    const title = message(error.status >= 500 ? 'page.error.title_server' : 'page.error.title');
    ctx.body = renderView('error', { title, message: error.message, code: error.code, requestId: ctx.state.requestId });
  }
}

export interface ErrorHandlerOptions {
  /** Told each request answered 503 because a dependency failed. */
  onUnavailable?: (ctx: Context, dependency: Dependency, error: unknown) => void;
}

/** service_unavailable for a dependency's outage (reported), undefined for any other error. */
export function outageError(ctx: Context, thrown: unknown, options: ErrorHandlerOptions): KeyholdError | undefined {
  const dependency = unavailableDependency(thrown);
  if (!dependency) return undefined;
  options.onUnavailable?.(ctx, dependency, thrown);
  return serviceUnavailable(thrown);
}

/** A request no route answered: 404, or the 405 a router's allowedMethods() set without a body. */
export function answerUnrouted(ctx: Context): void {
  if (ctx.status === 404 && ctx.body === undefined) sendError(ctx, new KeyholdError('not_found'));
  if (ctx.status === 405 && ctx.body === undefined) sendError(ctx, new KeyholdError('method_not_allowed'));
}

/** Answers what a route threw: its code when it is known, else internal_error (logged). */
export function answerThrown(ctx: Context, thrown: unknown, options: ErrorHandlerOptions): void {
  // A schema that refused input (a field sent twice arrives as an array, say) is the
  // client's mistake, never a 500.
  const known =
    thrown instanceof KeyholdError
      ? thrown
      : thrown instanceof ZodError
        ? new KeyholdError('invalid_request', { key: 'error.invalid_request.malformed_fields' })
        : (fromHttpError(thrown as HttpLikeError) ?? outageError(ctx, thrown, options));
  if (known) return sendError(ctx, known);
  ctx.state.log?.error({ err: thrown }, 'unhandled error');
  sendError(ctx, new KeyholdError('internal_error'));
}

export function errorHandler(options: ErrorHandlerOptions = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      answerUnrouted(ctx);
    } catch (thrown) {
      answerThrown(ctx, thrown, options);
    }
  };
}
