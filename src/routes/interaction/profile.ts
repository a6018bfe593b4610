// Pipeline step: progressive profiling. A client that requires profile claims (metadata
// `required_claims`) gets them: a user who lacks any is asked on one page, validated by the
// same rules as the Account API's PATCH, before the sign-in finishes, and before consent
// for a browser that was already signed in (the engine's required-claims check keeps the
// consent prompt open until they are there, so the page cannot be skipped).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { FORM_REFUSED, readForm } from '#src/http/form.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import type { SignInPipeline, SignInStep, StepSubject } from '#src/routes/interaction/pipeline.ts';
import { clientNameOf, interactionPurpose, LOGIN_PROMPTS, postedForm, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import { profilePatchSchema, type ProfilePatch } from '#src/services/account-data.ts';
import { accountClaims } from '#src/services/claims.ts';
import { missingProfileClaims, requiredClaimsOf, type RequirableProfileClaim } from '#src/services/profile-requirements.ts';

// Labels come from the catalogue (profile.label.<claim>); hints are examples, not text.
const fieldLook: Record<RequirableProfileClaim, { type: string; autocomplete: string; hint?: string }> = {
  name: { type: 'text', autocomplete: 'name' },
  given_name: { type: 'text', autocomplete: 'given-name' },
  family_name: { type: 'text', autocomplete: 'family-name' },
  phone_number: { type: 'tel', autocomplete: 'tel', hint: '+14155550123' },
  locale: { type: 'text', autocomplete: 'language', hint: 'en-GB' },
  zoneinfo: { type: 'text', autocomplete: 'off', hint: 'Europe/Paris' },
  picture: { type: 'url', autocomplete: 'photo', hint: 'https://' },
};
const labelOf = (claim: RequirableProfileClaim) => message(`profile.label.${claim}`);

const missingFor = ({ account, client }: StepSubject) => missingProfileClaims(accountClaims(account), requiredClaimsOf(client as unknown as Record<string, unknown>));

type FieldErrors = Partial<Record<RequirableProfileClaim, string>>;

/** The form of the asked claims: each one required, then checked like a PATCH of the Account API. */
function profileForm(asked: readonly RequirableProfileClaim[]) {
  const field = (claim: RequirableProfileClaim) => {
    const required = message('validation.required', { label: labelOf(claim) });
    // The PATCH rule also takes null (to clear); a trimmed, non-empty string is one of its inputs.
    const rule = profilePatchSchema.shape[claim] as unknown as z.ZodType<string | null | undefined, string>;
    return z.string({ error: required }).trim().min(1, { error: required }).pipe(rule);
  };
  return z.object(Object.fromEntries(asked.map((claim) => [claim, field(claim)])));
}

function renderProfile(ctx: Context, deps: InteractionDependencies, details: InteractionDetails, subject: StepSubject, asked: readonly RequirableProfileClaim[], posted: { values?: Record<string, string>; errors?: FieldErrors } = {}, status = 200) {
  const errors = posted.errors ?? {};
  deps.pages.render(
    ctx,
    'profile',
    {
      title: message('page.profile.title'),
      clientName: clientNameOf(subject.client),
      action: `/interaction/${details.uid}/profile`,
      abortAction: `/interaction/${details.uid}/abort`,
      csrf: deps.pages.csrfToken(ctx, interactionPurpose(details.uid)),
      hasErrors: Object.keys(errors).length > 0,
      fields: asked.map((claim) => ({
        claim,
        ...fieldLook[claim],
        label: labelOf(claim),
        value: posted.values?.[claim] ?? '',
        error: errors[claim],
      })),
    },
    status,
  );
}

export function profileStep(deps: InteractionDependencies): SignInStep {
  return {
    id: 'profile',
    forSessions: true,
    pending: (subject) => missingFor(subject).length > 0,
    show: async (ctx, details, subject) => renderProfile(ctx, deps, details, subject, missingFor(subject)),
  };
}

export function profileRoutes(router: Router, deps: InteractionDependencies, pipeline: SignInPipeline): void {
  router.post('/:uid/profile', formBody(deps.config.BODY_LIMIT), async (ctx) => {
    const details = await postedForm(deps.pages, ctx, [...LOGIN_PROMPTS, 'consent']);
    // During a sign-in, the account its flow identified; before consent, the signed-in one.
    const flow = details.prompt.name === 'consent' ? undefined : await pipeline.identifiedFlow(details);
    const subject = await pipeline.subject(details, flow);
    const asked = missingFor(subject);
    if (asked.length > 0) {
      const posted = readForm(ctx, profileForm(asked));
      if (!posted.ok) return renderProfile(ctx, deps, details, subject, asked, { values: posted.values, errors: posted.fieldErrors }, FORM_REFUSED);
      await deps.accountData.updateProfile(subject.account.id, posted.data as ProfilePatch);
    }
    if (flow) return pipeline.advance(ctx, details, flow);
    // Signed in already: back to the interaction, which shows consent or finishes it.
    ctx.redirect(`/interaction/${details.uid}`);
    ctx.status = 303;
  });
}
