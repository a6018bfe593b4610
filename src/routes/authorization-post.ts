// OIDC Core 3.1.2.1: the authorization endpoint MUST accept POST. The engine serves POST
// there only with SameSite=None cookies; instead, a form-encoded POST is answered with a
// 303 to the same endpoint by GET with the same parameters. The browser follows it as a
// top-level GET navigation, which carries Keyhold's SameSite=Lax cookies, so SSO works.
import Router from '@koa/router';
import { formBody } from '#src/middleware/body.ts';

export function authorizationPostRoute(options: { path: string; bodyLimit: string }): Router {
  const router = new Router();
  router.post(options.path, formBody(options.bodyLimit), (ctx) => {
    const parameters = new URLSearchParams();
    for (const [name, value] of Object.entries((ctx.request.body ?? {}) as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item === 'string') parameters.append(name, item);
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(`${options.path}?${parameters.toString()}`);
    ctx.status = 303;
  });
  return router;
}
