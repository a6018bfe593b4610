// The HTTP application: Keyhold's middleware and routes first, the engine last for every
// protocol endpoint.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { accountApiCors } from '#src/middleware/account-api-cors.ts';
import { clientAuthenticationError } from '#src/middleware/client-authentication-error.ts';
import { rejectControlCharactersInUrl } from '#src/middleware/control-characters.ts';
import { errorHandler } from '#src/middleware/errors.ts';
import type { Metrics } from '#src/middleware/metrics.ts';
import { requestContext } from '#src/middleware/request-context.ts';
import { securityHeaders } from '#src/middleware/security-headers.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import type { ClientService } from '#src/services/clients.ts';
import { accountRoutes, type ApiDependencies } from '#src/routes/account.ts';
import { authorizationPostRoute } from '#src/routes/authorization-post.ts';
import { deviceCodeThrottle } from '#src/routes/device-code-throttle.ts';
import type { DeviceCodeThrottle } from '#src/services/device-code-throttle.ts';
import { emailChangeRoutes } from '#src/routes/email-change.ts';
import { federationRoutes, type FederationDependencies } from '#src/routes/federation/index.ts';
import { interactionRoutes, type InteractionDependencies } from '#src/routes/interaction/index.ts';
import { consoleRoutes } from '#src/routes/console.ts';
import { opsRoutes } from '#src/routes/ops.ts';
import { securityPageRoutes } from '#src/routes/mfa-pages.ts';
import { selfServiceRoutes, type SelfServiceDependencies } from '#src/routes/self-service.ts';
import { assetsDirectory } from '#src/views.ts';

export interface AppDependencies extends InteractionDependencies, SelfServiceDependencies, ApiDependencies, FederationDependencies {
  config: Config;
  logger: Logger;
  engine: EngineHost;
  metrics: Metrics;
  cookieKeys: string[];
  clients: Pick<ClientService, 'registeredOrigins'>;
  ops: Parameters<typeof opsRoutes>[0];
  deviceCodeThrottle: DeviceCodeThrottle;
}

// The browser half of @simplewebauthn, served from our origin (the CSP allows no other).
const webauthnBrowserBundle = path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');

function assetRoutes(): Router {
  const router = new Router();
  const assets: Record<string, { type: string; body: Buffer }> = {
    '/assets/keyhold.css': { type: 'text/css', body: readFileSync(path.join(assetsDirectory, 'keyhold.css')) },
    '/assets/passkey.js': { type: 'application/javascript', body: readFileSync(path.join(assetsDirectory, 'passkey.js')) },
    '/assets/webauthn.js': { type: 'application/javascript', body: readFileSync(webauthnBrowserBundle) },
  };
  for (const [route, asset] of Object.entries(assets)) {
    router.get(route, (ctx) => {
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = asset.body;
    });
  }
  return router;
}

export function createApp(deps: AppDependencies): Koa {
  // Behind proxies, ctx.ip is the address the nearest trusted proxy saw, never one the
  // client wrote into X-Forwarded-For itself.
  const app = new Koa({ proxy: deps.config.TRUST_PROXY, maxIpsCount: deps.config.TRUST_PROXY_HOPS });
  // Must equal the engine's cookie keys: the interaction routes read the engine's cookies.
  app.keys = deps.cookieKeys;
  // Errors are answered by errorHandler; nothing else should print them.
  app.silent = true;

  app.use(requestContext(deps.logger));
  app.use(deps.metrics.middleware);
  app.use(securityHeaders({ https: deps.config.secureCookies }));
  app.use(errorHandler());
  app.use(rejectControlCharactersInUrl());

  app.use(accountApiCors(deps.clients));
  for (const router of [opsRoutes(deps.ops), assetRoutes(), consoleRoutes(deps), interactionRoutes(deps), selfServiceRoutes(deps), securityPageRoutes(deps), emailChangeRoutes(deps), accountRoutes(deps), federationRoutes(deps, app)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  // No allowedMethods here: GET on the same path belongs to the engine.
  app.use(authorizationPostRoute({ path: '/auth', bodyLimit: deps.config.BODY_LIMIT }).routes());

  if (deps.config.DEVICE_FLOW) app.use(deviceCodeThrottle(deps.deviceCodeThrottle));

  app.use(clientAuthenticationError(deps.config.ISSUER));
  app.use((ctx, next) => deps.engine.middleware(ctx, next));
  return app;
}
