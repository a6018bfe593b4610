// Control characters in the URL of any request, Keyhold's routes and the engine's alike.
// The engine keeps request parameters (ui_locales, login_hint, state, ...) in its stored
// interaction, and the SQL adapter's jsonb column cannot hold U+0000: a %00 answered 500.
// Refused here with invalid_request. Line breaks and tabs stay allowed in query values,
// where a pretty-printed `claims` JSON may carry them; the path allows none.
import type { Context, Middleware } from 'koa';
import { KeyholdError } from '#src/errors.ts';
import { hasControlCharacters } from '#src/text-input.ts';

const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

/** Throws invalid_request when the request's URL holds a control character. */
export function assertNoControlCharactersInUrl(ctx: Pick<Context, 'path' | 'querystring'>): void {
  if (ENCODED_CONTROL.test(ctx.path)) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.url_control_characters' });
  if (ctx.querystring) {
    for (const [name, value] of new URLSearchParams(ctx.querystring)) {
      if (hasControlCharacters(name) || hasControlCharacters(value, { multiLine: true })) {
        throw new KeyholdError('invalid_request', { key: 'error.invalid_request.parameter_control_characters' });
      }
    }
  }
}

export function rejectControlCharactersInUrl(): Middleware {
  return (ctx, next) => {
    assertNoControlCharactersInUrl(ctx);
    return next();
  };
}
