// Headers for every response. The CSP has no form-action: browsers apply it to the redirect
// that follows a form POST, which would block the way back to the client's redirect_uri.
// script-src is present so the engine can add the hash of its form_post script.
import type { Context, Middleware } from 'koa';

/**
 * The policy, with img-src widened by exactly the images a page shows from elsewhere (the
 * brand's logo, a client's logo on the consent page): each an https address naming one
 * file (see cspImage in src/presentation/brand.ts), never a whole host or scheme.
 */
export function contentSecurityPolicy(imageSources: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data:", ...imageSources].join(' '),
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Lets this response's page show one more outside image (sources from cspImage only). */
export function allowImages(ctx: Context, baseSources: readonly string[], extra: readonly string[]): void {
  ctx.set('Content-Security-Policy', contentSecurityPolicy([...baseSources, ...extra]));
}

export function securityHeaders(options: { https: boolean; imageSources?: readonly string[] }): Middleware {
  const policy = contentSecurityPolicy(options.imageSources);
  // Not an async function: nothing happens after next(), and an async layer costs its
  // promises on every request.
  return (ctx, next) => {
    ctx.set('Content-Security-Policy', policy);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    return next();
  };
}
