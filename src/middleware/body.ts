// Body parsing for Keyhold's own routes only (the engine parses its own). Each route says
// which content type it takes; anything else is a 415 with a stable code, a body over the
// limit a 413, a malformed one (or one that does not decode under its Content-Encoding) a
// 400, and one holding control characters (NUL among them, which Postgres cannot store) a
// 400 before any route sees it.
import type { Middleware } from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import { KeyholdError } from '#src/errors.ts';
import { containsControlCharacters } from '#src/text-input.ts';

const rejectControlCharacters: Middleware = (ctx, next) => {
  if (containsControlCharacters(ctx.request.body)) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.control_characters' });
  return next();
};

function guarded(type: 'urlencoded' | 'json', parser: Middleware, bodilessMethods: readonly string[]): Middleware {
  return async (ctx, next) => {
    if (bodilessMethods.includes(ctx.method)) return next();
    // ctx.is is null when there is no body at all, false when the body is of another type.
    if (ctx.request.length !== 0 && ctx.is(type) === false) {
      throw new KeyholdError('unsupported_media_type', { key: type === 'json' ? 'error.unsupported_media_type.json' : 'error.unsupported_media_type.form' });
    }
    let parsed = false;
    try {
      return await parser(ctx, () => {
        parsed = true;
        return rejectControlCharacters(ctx, next);
      });
    } catch (error) {
      throw parsed ? error : unreadable(error);
    }
  };
}

/**
 * What the parser threw, as the client's error. raw-body's own errors carry a 4xx status
 * (too large, bad length, unknown encoding); a body that does not inflate under its
 * Content-Encoding (gzip that is not gzip) comes as a bare zlib error, which is no less the
 * client's mistake.
 */
function unreadable(error: unknown): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return error;
  return new KeyholdError('invalid_body');
}

export function formBody(limit: string): Middleware {
  return guarded('urlencoded', koaBody({ urlencoded: true, json: false, text: false, multipart: false, formLimit: limit }), ['GET', 'HEAD', 'DELETE']);
}

export function jsonBody(limit: string): Middleware {
  // A JSON API may confirm a DELETE with a body (e.g. the password).
  return guarded('json', koaBody({ urlencoded: false, json: true, text: false, multipart: false, jsonLimit: limit, jsonStrict: true, parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE] }), ['GET', 'HEAD']);
}
