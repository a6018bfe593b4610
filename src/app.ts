// The HTTP application: Keyhold's middleware and routes first, the engine last for every
// protocol endpoint.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { compose } from '#src/middleware/compose.ts';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { accountApiCors } from '#src/middleware/account-api-cors.ts';
import { rejectControlCharactersInUrl } from '#src/middleware/control-characters.ts';
import { engineCall, engineGateway, type EngineGatewayOptions } from '#src/middleware/engine-gateway.ts';
import { errorHandler } from '#src/middleware/errors.ts';
import type { Metrics } from '#src/middleware/metrics.ts';
import { requestContext } from '#src/middleware/request-context.ts';
import { presentation } from '#src/middleware/presentation.ts';
import { securityHeaders } from '#src/middleware/security-headers.ts';
import { brandFavicon, brandFrom, brandStylesheet, type Brand } from '#src/presentation/brand.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import type { ClientService } from '#src/services/clients.ts';
import { accountRoutes, type ApiDependencies } from '#src/routes/account.ts';
import { authorizationPostRoute } from '#src/routes/authorization-post.ts';
import { deviceCodeThrottle } from '#src/routes/device-code-throttle.ts';
import { deviceVerificationSession } from '#src/routes/device-verification-session.ts';
import type { DeviceCodeThrottle } from '#src/services/device-code-throttle.ts';
import { emailChangeRoutes } from '#src/routes/email-change.ts';
import { federationRoutes, type FederationDependencies } from '#src/routes/federation/index.ts';
import { interactionRoutes, type InteractionDependencies } from '#src/routes/interaction/index.ts';
import { consoleRoutes } from '#src/routes/console.ts';
import { opsRoutes } from '#src/routes/ops.ts';
import { devMailRoutes } from '#src/routes/dev-mail.ts';
import { securityPageRoutes } from '#src/routes/mfa-pages.ts';
import { sessionsPageRoutes } from '#src/routes/sessions-page.ts';
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

function assetRoutes(brand: Brand): Router {
  const router = new Router();
  const assets: Record<string, { type: string; body: Buffer | string }> = {
    // Made from the settings: the brand colour in a style sheet of our own (no inline style
    // for the CSP to allow), and a favicon in that colour.
    '/assets/brand.css': { type: 'text/css', body: brandStylesheet(brand) },
    '/assets/favicon.svg': { type: 'image/svg+xml', body: brandFavicon(brand) },
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
  router.get('/favicon.ico', (ctx) => {
    ctx.status = 301;
    ctx.redirect('/assets/favicon.svg');
  });
  return router;
}

/** Paths only the engine serves (oidc-provider's default routes, which Keyhold keeps). */
export const ENGINE_PATHS: ReadonlySet<string> = new Set(['/token', '/token/introspection', '/token/revocation', '/me', '/jwks']);

/** Keyhold's pages and APIs, then the engine (`engine`) for whatever they leave. */
function pageChain(deps: AppDependencies, app: Koa, brand: Brand, engine: Middleware): Middleware {
  const chain: Middleware[] = [accountApiCors(deps.clients)];
  for (const router of [opsRoutes(deps.ops), assetRoutes(brand), consoleRoutes(deps), interactionRoutes(deps), selfServiceRoutes(deps), securityPageRoutes(deps), sessionsPageRoutes(deps), emailChangeRoutes(deps), accountRoutes(deps), federationRoutes(deps, app), ...developmentRoutes(deps)]) {
    chain.push(router.routes() as Middleware, router.allowedMethods() as Middleware);
  }
  // No allowedMethods here: GET on the same path belongs to the engine.
  chain.push(authorizationPostRoute({ path: '/auth', bodyLimit: deps.config.BODY_LIMIT }).routes() as Middleware);
  if (deps.config.DEVICE_FLOW) chain.push(deviceVerificationSession(deps.engine), deviceCodeThrottle(deps.deviceCodeThrottle));
  chain.push(engine);
  // The parts stay visible (tests read the routes served from them).
  return Object.assign(compose(chain), { chain });
}

/** Routes that exist only outside production: none of them answers in a production process. */
function developmentRoutes(deps: AppDependencies): Router[] {
  return deps.config.NODE_ENV === 'production' ? [] : [devMailRoutes(deps)];
}

export function createApp(deps: AppDependencies): Koa {
  // Behind proxies, ctx.ip is the address the nearest trusted proxy saw, never one the
  // client wrote into X-Forwarded-For itself.
  const app = new Koa({ proxy: deps.config.TRUST_PROXY, maxIpsCount: deps.config.TRUST_PROXY_HOPS });
  // Must equal the engine's cookie keys: the interaction routes read the engine's cookies.
  app.keys = deps.cookieKeys;
  // Errors are answered by errorHandler; nothing else should print them.
  app.silent = true;

  const brand = brandFrom(deps.config);
  app.use(requestContext(deps.logger));
  app.use(deps.metrics.middleware);
  app.use(securityHeaders({ https: deps.config.secureCookies, imageSources: brand.logoCspSource ? [brand.logoCspSource] : [] }));
  // A request that met Redis or the database down is a 503, logged and counted once.
  const outages = {
    onUnavailable: (ctx: Koa.Context, dependency: string, error: unknown) => {
      deps.metrics.dependencyUnavailable.inc({ dependency });
      ctx.state.log?.warn({ dependency, err: { message: error instanceof Error ? error.message : String(error) } }, 'dependency unavailable: answered 503');
    },
  };
  const guards = (): Middleware[] => [errorHandler(outages), rejectControlCharactersInUrl()];

  // The engine's machine endpoints go straight to it: none of Keyhold's routers, the
  // Account API's CORS or the device-code throttle serve these paths, and matching a
  // request against every router cost more than the request itself. The engine answers
  // CORS there by itself (clientBasedCORS: the client's own redirect origins). Nor is a
  // presentation (language, brand) set up for them: they answer JSON for programs, and
  // RFC 6749 (§5.2) wants an error_description in ASCII, for developers; Keyhold's few
  // answers of its own there (an outage's 503) are in English.
  const engineOptions: EngineGatewayOptions = { issuer: deps.config.ISSUER, outages, engine: (ctx, next) => deps.engine.middleware(ctx, next) };
  const engine = engineGateway(engineOptions);
  const pages = compose([presentation({ brand, secureCookies: deps.config.secureCookies }), ...guards(), pageChain(deps, app, brand, engineCall(engineOptions))]);
  const byPath: Middleware = (ctx, next) => (ENGINE_PATHS.has(ctx.path) ? engine(ctx, next) : pages(ctx, next));
  app.use(Object.assign(byPath, { chain: [engine, pages] }));
  return app;
}
