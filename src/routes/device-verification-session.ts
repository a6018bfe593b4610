// In front of the engine's device verification pages (the form, POST /device, and the
// resume step, GET /device/:uid): when one of them fails, the engine renders its form again
// with a fresh CSRF secret kept in the browser session, and can only update a session it
// stored before. A request without a live session (no cookie, an expired or forged one)
// therefore ended in a 500 instead of the page. Such a request is sent to the form by GET
// instead, which starts the session the form needs.
import type { Context, Middleware } from 'koa';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import { browserSession } from '#src/oidc/sessions.ts';
import { DEVICE_VERIFICATION_PATH } from '#src/routes/device-code-throttle.ts';

function needsSession(ctx: Context): boolean {
  if (ctx.method === 'POST') return ctx.path === DEVICE_VERIFICATION_PATH;
  // GET /device/:uid is the resume step (the engine routes any segment there, `auth` too).
  return (ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.path.startsWith(`${DEVICE_VERIFICATION_PATH}/`);
}

export function deviceVerificationSession(engine: Pick<EngineHost, 'provider'>): Middleware {
  return async (ctx, next) => {
    if (!needsSession(ctx) || (await browserSession(engine.provider, ctx))) return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(DEVICE_VERIFICATION_PATH);
    ctx.status = 303;
  };
}
