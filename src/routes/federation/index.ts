// Federated sign-in: people sign in with an account at an upstream provider (a connector).
// connect.ts is the upstream leg (grant, under /connect); interaction.ts starts and ends it
// inside the engine's interaction. Both read the browser's federation session.
import Router from '@koa/router';
import type Koa from 'koa';
import { connectRoutes } from '#src/routes/federation/connect.ts';
import { federationInteractionRoutes } from '#src/routes/federation/interaction.ts';
import { federationSession, type FederationDependencies } from '#src/routes/federation/shared.ts';
import { signInPipeline } from '#src/routes/interaction/index.ts';

export type { FederationDependencies } from '#src/routes/federation/shared.ts';

export function federationRoutes(deps: FederationDependencies, app: Koa): Router {
  const router = new Router();
  // Only these routes load the session; every other request leaves it alone.
  const session = federationSession(app, deps);
  router.use(['/connect/:id', '/connect/:id/callback', '/interaction/:uid/federation', '/interaction/:uid/federation/start', '/interaction/:uid/federation/link'], session);
  connectRoutes(router, deps);
  federationInteractionRoutes(router, deps, signInPipeline(deps));
  return router;
}
