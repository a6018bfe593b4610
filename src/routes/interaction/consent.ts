// The consent page: what the client will be able to do and see, exactly as the grant will
// hold it. First-party clients, and requests whose only open point was a pipeline step
// (progressive profiling), are granted without asking.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { isMessageKey, message } from '#src/messages/index.ts';
import { allowImages } from '#src/middleware/security-headers.ts';
import { cspImage } from '#src/presentation/brand.ts';
import { currentBrand } from '#src/presentation/context.ts';
import { formBody } from '#src/middleware/body.ts';
import { REQUIRED_CLAIMS_MISSING } from '#src/oidc/hooks/required-claims-check.ts';
import { consentPromptDetails, grantConsent } from '#src/oidc/results.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import type { SignInPipeline } from '#src/routes/interaction/pipeline.ts';
import { clientNameOf, clientOf, interactionPurpose, postedForm, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { standardClaims } from '#src/services/claims.ts';

/** What the page says a scope or a claim lets the client do; an unknown one is shown as it is. */
const describe = (kind: 'scope' | 'claim', name: string) => {
  const key = `consent.${kind}.${name}`;
  return isMessageKey(key) ? message(key) : name;
};

// Reasons that need no answer from the user once the pipeline's steps are done.
const STEP_REASONS = new Set([REQUIRED_CLAIMS_MISSING]);

export async function showConsent(ctx: Context, deps: InteractionDependencies, details: InteractionDetails): Promise<void> {
  const { engine, pages } = deps;
  const client = await clientOf(engine, details);
  const onlySteps = details.prompt.reasons.every((reason) => STEP_REASONS.has(reason));
  if (client?.['first_party'] === true || onlySteps) return pages.finishInteraction(ctx, await grantConsent(engine, details), true);
  const missing = consentPromptDetails(details);
  const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
  const scopes = missing.missingOIDCScope ?? [];
  // A claim a listed scope already releases (email with scope email) is not asked twice.
  const coveredByScopes = new Set(scopes.flatMap((scope) => (scope in standardClaims ? (standardClaims[scope as keyof typeof standardClaims] ?? []) : [])));
  const claims = (missing.missingOIDCClaims ?? []).filter((claim) => !coveredByScopes.has(claim));
  // The client's own logo (https only, checked again here: dynamic registration may have
  // stored one), admitted by this page's CSP for exactly its address.
  const clientLogo = cspImage(client?.logoUri, { httpsOnly: true });
  if (clientLogo) allowImages(ctx, currentBrand().logoCspSource ? [currentBrand().logoCspSource!] : [], [clientLogo.cspSource]);
  return pages.render(ctx, 'consent', {
    title: message('page.consent.title'),
    clientName: clientNameOf(client),
    clientLogo: clientLogo?.src,
    email: account?.email,
    scopes: scopes.filter((scope) => scope !== 'openid' || (scopes.length === 1 && claims.length === 0)).map((scope) => ({ scope, description: describe('scope', scope) })),
    claims: claims.map((claim) => ({ claim, description: describe('claim', claim) })),
    resources: Object.entries(missing.missingResourceScopes ?? {})
      .filter(([, resourceScopes]) => resourceScopes.length > 0)
      .map(([identifier, resourceScopes]) => ({ identifier, scopes: resourceScopes })),
    action: `/interaction/${details.uid}/confirm`,
    abortAction: `/interaction/${details.uid}/abort`,
    csrf: pages.csrfToken(ctx, interactionPurpose(details.uid)),
  });
}

export function consentRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  router.post('/:uid/confirm', formBody(deps.config.BODY_LIMIT), async (ctx) => {
    const details = await postedForm(deps.pages, ctx, ['consent']);
    // A step still owed (the engine would ask again anyway): its page, not a grant.
    const owed = await pipeline.pendingForSession(details);
    if (owed) return owed.step.show(ctx, details, owed.subject, { revisit: true });
    return deps.pages.finishInteraction(ctx, await grantConsent(deps.engine, details), true);
  });
}
