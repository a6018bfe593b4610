// The admin console at /console: a page that loads the built bundle (src/http/console-bundle.ts,
// built on the first request and kept), the bundle's files cached for good, and a CSP of
// its own: scripts and styles from this origin only (no inline code), fetch to this origin
// only (the Admin API and the token endpoint).
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { buildConsoleBundle, type ConsoleBundle } from '#src/http/console-bundle.ts';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH } from '#src/services/console-client.ts';

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function page(issuer: string, bundle: ConsoleBundle): string {
  const assets = `${CONSOLE_PATH}/assets`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Keyhold console</title>',
    `<meta name="keyhold-console" data-issuer="${escapeAttribute(issuer)}" data-client-id="${CONSOLE_CLIENT_ID}">`,
    `<link rel="stylesheet" href="${assets}/${bundle.stylesheet}">`,
    `<script type="module" src="${assets}/${bundle.script}"></script>`,
    '</head>',
    '<body><div id="console"></div></body>',
    '</html>',
  ].join('\n');
}

export function consoleRoutes(deps: { config: { ISSUER: string } }, build: () => Promise<ConsoleBundle> = buildConsoleBundle): Router {
  let bundle: Promise<ConsoleBundle> | undefined;
  const built = () =>
    (bundle ??= build().catch((error: unknown) => {
      // A failed build is tried again by the next request.
      bundle = undefined;
      throw error;
    }));

  const consoleHeaders: Middleware = async (ctx, next) => {
    await next();
    ctx.set('Content-Security-Policy', contentSecurityPolicy);
  };

  const router = new Router({ prefix: CONSOLE_PATH });
  router.use(consoleHeaders);
  router.get('/', async (ctx) => {
    // The same page at /console/ and /console/callback; the bundle's names change with it.
    if (!ctx.path.endsWith('/')) return ctx.redirect(`${CONSOLE_PATH}/`);
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = page(deps.config.ISSUER, await built());
  });
  router.get('/callback', async (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page(deps.config.ISSUER, await built());
  });
  router.get('/assets/:file', async (ctx) => {
    const asset = (await built()).assets.get(ctx.params.file ?? '');
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = asset.body;
  });
  return router;
}
