// Turns every error thrown by Keyhold's own routes into a stable code, as JSON for API
// clients and as a page for browsers. Nothing internal (stack, SQL, secrets) is sent;
// unexpected errors are logged with the request id and answered as internal_error.
import type { Context, Middleware } from 'koa';
import { ZodError } from 'zod';
import { KeyholdError, type ErrorCode } from '#src/errors.ts';
import { rateLimitedError } from '#src/middleware/rate-limit.ts';
import { RateLimitedError } from '#src/services/rate-limits.ts';
import { renderView } from '#src/views.ts';

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
  if (status === 413) return new KeyholdError('payload_too_large', 'the request body is too large');
  if (status === 415) return new KeyholdError('unsupported_media_type', 'unsupported content type');
  if (status === 404) return new KeyholdError('not_found', 'not found');
  if (status === 405) return new KeyholdError('method_not_allowed', 'method not allowed');
  if (status === 400) return new KeyholdError('invalid_body', 'the request body could not be parsed');
  return new KeyholdError('invalid_request', error.expose && error.message ? error.message : 'invalid request');
}

export function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/api/') || ctx.accepts('html', 'json') === 'json';
}

export function sendError(ctx: Context, code: ErrorCode, status: number, message: string, fields: Record<string, unknown> = {}): void {
  ctx.status = status;
  if (wantsJson(ctx)) {
    ctx.body = { ...fields, error: code, error_description: message, request_id: ctx.state.requestId };
  } else {
    ctx.type = 'html';
    ctx.body = renderView('error', { title: status >= 500 ? 'Something went wrong' : 'This request could not be completed', message, code, requestId: ctx.state.requestId });
  }
}

export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) sendError(ctx, 'not_found', 404, 'not found');
      // A router's allowedMethods() answers 405 (with Allow) without a body.
      if (ctx.status === 405 && ctx.body === undefined) sendError(ctx, 'method_not_allowed', 405, 'method not allowed');
    } catch (thrown) {
      // A schema that refused input (a field sent twice arrives as an array, say) is the
      // client's mistake, never a 500.
      const known =
        thrown instanceof KeyholdError
          ? thrown
          : thrown instanceof RateLimitedError
            ? rateLimitedError(thrown)
            : thrown instanceof ZodError
              ? new KeyholdError('invalid_request', 'the request has missing or malformed fields')
              : fromHttpError(thrown as HttpLikeError);
      if (known) {
        for (const [name, value] of Object.entries(known.headers)) ctx.set(name, value);
        sendError(ctx, known.code, known.status, known.message, known.fields);
        return;
      }
      ctx.state.log?.error({ err: thrown }, 'unhandled error');
      sendError(ctx, 'internal_error', 500, 'An unexpected error occurred. Try again later.');
    }
  };
}
