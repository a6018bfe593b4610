// "Cancel and return to the application" / "Deny": the client gets access_denied and the
// login flow is forgotten.
import type Router from '@koa/router';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { interactionPurpose, type InteractionDependencies } from '#src/routes/interaction/shared.ts';

export function abortRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  router.post('/:uid/abort', formBody(deps.config.BODY_LIMIT), async (ctx) => {
    const details = await deps.pages.loadInteraction(ctx);
    deps.pages.assertCsrf(ctx, interactionPurpose(details.uid));
    await deps.pages.finishInteraction(ctx, { error: 'access_denied', error_description: message('oauth.aborted') }, false);
    await pipeline.end(details.uid);
  });
}
