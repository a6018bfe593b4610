// Sets who the response is for (src/presentation/context.ts): the operator's brand, and the
// languages in order: ui_locales on this request, then the ones the latest sign-in asked for
// (a cookie, so the whole interaction and the pages it links to keep its language), then
// the browser's Accept-Language. The catalogue answers in the first it has, else English.
import type { Context, Middleware } from 'koa';
import { languageOf, supportedLanguages } from '#src/messages/index.ts';
import type { Brand } from '#src/presentation/brand.ts';
import { currentPresentation, runWithPresentation } from '#src/presentation/context.ts';
import { parseAcceptLanguage, parseUiLocales } from '#src/presentation/locale.ts';

const LOCALE_COOKIE = 'keyhold_locale';

export function presentation(options: { brand: Brand; secureCookies: boolean }): Middleware {
  return async (ctx, next) => {
    const remembered = ctx.cookies.get(LOCALE_COOKIE);
    const browserLocales = parseAcceptLanguage(ctx.get('Accept-Language'));
    const locales = [...parseUiLocales(ctx.query.ui_locales), ...(remembered && supportedLanguages.includes(remembered) ? [remembered] : []), ...browserLocales];
    await runWithPresentation({ locales, browserLocales, brand: options.brand }, () => next());
  };
}

/**
 * An interaction page has loaded its authorization request: its ui_locales go first from
 * now on, and are remembered for the pages of this sign-in (recovery, registration links);
 * an interaction that names no supported language forgets an earlier one.
 */
export function applyInteractionLocales(ctx: Context, uiLocales: unknown, secureCookies: boolean): void {
  const requested = parseUiLocales(uiLocales);
  const presentation = currentPresentation();
  if (presentation) presentation.locales = [...requested, ...presentation.browserLocales];
  const language = requested.map(languageOf).find(Boolean);
  if (language) {
    if (ctx.cookies.get(LOCALE_COOKIE) !== language) ctx.cookies.set(LOCALE_COOKIE, language, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies, overwrite: true });
  } else if (ctx.cookies.get(LOCALE_COOKIE)) {
    ctx.cookies.set(LOCALE_COOKIE, null, { path: '/', overwrite: true });
  }
}
