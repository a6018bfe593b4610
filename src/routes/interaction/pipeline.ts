// The sign-in pipeline. A method (password, later TOTP, passkeys, federation) records a
// verification in the interaction's stored login flow; then the remaining steps run in
// order, each a small module that says whether it is pending and shows its page; when none
// is, the engine is told who signed in, with acr, amr and auth_time read off the flow.
//
// Steps, in order (index.ts): a second factor (the account has one, or policy, the client
// or acr_values demand one), its enrolment when one is demanded and missing, email
// verification (REQUIRE_VERIFIED_EMAIL), progressive profiling (client `required_claims`).
// A level nothing can reach ends the sign-in with what was achieved, unless an essential acr
// claim demanded it: then the request fails (OIDC Core 5.5.1.1).
import type { Context } from 'koa';
import { KeyholdError } from '#src/errors.ts';
import { loginResult } from '#src/oidc/results.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import { clientOf, type EngineClient, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import type { Account } from '#src/services/accounts.ts';
import type { LoginFlow } from '#src/services/authentication/login-flow.ts';
import { achievedLevel, atLeast } from '#src/services/authentication/assurance.ts';
import { sessionVerification } from '#src/services/authentication/methods/session.ts';
import type { SignInMethod } from '#src/services/authentication/types.ts';
import { signedInRecently } from '#src/services/mfa/reauthentication.ts';

/** The acr values an essential acr claim of the claims parameter names (the engine parsed it before). */
function essentialAcrsOf(claims: unknown): string[] | undefined {
  if (typeof claims !== 'string') return undefined;
  try {
    const acr = (JSON.parse(claims) as { id_token?: { acr?: { essential?: boolean; value?: unknown; values?: unknown } } })?.id_token?.acr;
    if (!acr?.essential) return undefined;
    const values = Array.isArray(acr.values) ? acr.values : acr.value !== undefined ? [acr.value] : [];
    const strings = values.filter((value): value is string => typeof value === 'string');
    return strings.length ? strings : undefined;
  } catch {
    return undefined;
  }
}

export interface StepSubject {
  account: Account;
  client: EngineClient;
  /** The login flow; absent when the browser was already signed in (consent prompt). */
  flow?: LoginFlow;
}

export interface SignInStep {
  readonly id: string;
  /** Also asked of a browser that is already signed in, before consent. */
  readonly forSessions: boolean;
  pending(subject: StepSubject): boolean | Promise<boolean>;
  /** Shows the step's page. `revisit`: the page is shown again, not entered anew. */
  show(ctx: Context, details: InteractionDetails, subject: StepSubject, how: { revisit: boolean }): Promise<void>;
}

export function createSignInPipeline(deps: InteractionDependencies, steps: readonly SignInStep[]) {
  const { loginFlows, pages } = deps;

  const openFlow = (details: InteractionDetails) => {
    const maxAge = Number(details.params.max_age);
    return loginFlows.open(details.uid, {
      acrValues: typeof details.params.acr_values === 'string' ? details.params.acr_values : undefined,
      essentialAcrs: essentialAcrsOf(details.params.claims),
      maxAge: details.params.max_age !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0 ? maxAge : undefined,
    });
  };

  /** `loaded`: the account as the method just read it in this request (not read again). */
  const activeAccount = async (accountId: string | undefined, loaded?: Account): Promise<Account> => {
    const account = loaded && loaded.id === accountId ? loaded : accountId ? await deps.accounts.findById(accountId) : undefined;
    if (!account?.active) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.interaction_expired' });
    return account;
  };

  /** Who the steps are about: the flow's account during a sign-in, else the signed-in one. */
  const subject = async (details: InteractionDetails, flow?: LoginFlow, loaded?: Account): Promise<StepSubject> => ({
    account: await activeAccount(flow ? flow.accountId : details.session?.accountId, loaded),
    client: await clientOf(deps.engine, details),
    ...(flow ? { flow } : {}),
  });

  /** An essential acr claim that cannot be met fails the request (OIDC Core 5.5.1.1). */
  const unmet = async (ctx: Context, details: InteractionDetails, flow: LoginFlow): Promise<void> => {
    ctx.state.log.info({ event: 'login.unmet_acr', accountId: flow.accountId, clientId: details.params.client_id }, 'essential acr not met');
    await loginFlows.end(details.uid);
    return pages.finishInteraction(ctx, { error: 'unmet_authentication_requirements', error_description: 'the requested authentication context class cannot be met' }, false);
  };

  /** Runs the first pending step, or finishes the sign-in when none is left. */
  const advance = async (ctx: Context, details: InteractionDetails, flow: LoginFlow, how = { revisit: false }, loaded?: Account): Promise<void> => {
    if (flow.essentialUnreachable) return unmet(ctx, details, flow);
    const about = await subject(details, flow, loaded);
    for (const step of steps) {
      if (await step.pending(about)) return step.show(ctx, details, about, how);
    }
    const achieved = achievedLevel(flow.verifications);
    if (flow.essential && (!achieved || !atLeast(achieved, flow.essential))) return unmet(ctx, details, flow);
    const login = loginFlows.loginResult(flow);
    ctx.state.log.info({ event: 'login.success', accountId: login.accountId, clientId: details.params.client_id, amr: login.amr }, 'login succeeded');
    await pages.finishInteraction(ctx, loginResult(login), false);
    await loginFlows.end(details.uid);
  };

  /**
   * `method` proved who the person is: recorded, then the pipeline continues. An
   * identifying method naming another account than the flow's starts the flow over
   * (someone signing in as someone else), never mixes two accounts' verifications.
   * `loaded`: the (active) account as the method read it, when it did.
   */
  const verified = async (ctx: Context, details: InteractionDetails, accountId: string, method: SignInMethod, loaded?: Account): Promise<void> => {
    let flow = await openFlow(details);
    if (flow.accountId && flow.accountId !== accountId && method.identifies) {
      await loginFlows.end(details.uid);
      flow = await openFlow(details);
    }
    return advance(ctx, details, await loginFlows.verified(flow, method, accountId), { revisit: false }, loaded);
  };

  return {
    /** The flow, when an account has been identified in it (else the login form is due). */
    async identifiedFlow(details: InteractionDetails): Promise<LoginFlow | undefined> {
      const flow = await openFlow(details);
      return flow.accountId ? flow : undefined;
    },

    advance,
    subject,

    /** Records `method`'s verification without moving on (a page is shown before the next step). */
    async record(details: InteractionDetails, accountId: string, method: SignInMethod): Promise<LoginFlow> {
      return loginFlows.verified(await openFlow(details), method, accountId);
    },

    /**
     * A step-up inside the browser's session: the flow starts from the sign-in the session
     * holds, and the steps ask only for what it lacks. False when the interaction is not one,
     * or the password is due first (nothing to challenge, and the session is not recent).
     */
    async stepUp(ctx: Context, details: InteractionDetails, session: { accountId: string; amr?: string[]; loginTs?: number }): Promise<boolean> {
      const flow = await openFlow(details);
      if (flow.accountId && flow.accountId !== session.accountId) return false;
      // With no factor to check, the step-up would enrol one: that changes how the account is
      // protected, and an old session alone (an unlocked browser) is not proof enough, as on
      // the security page. The sign-in then starts with the password.
      if (!flow.accountId && !signedInRecently(session.loginTs, deps.config.RECENT_LOGIN_WINDOW) && !(await deps.mfa.hasFactors(session.accountId))) return false;
      const seeded = await loginFlows.stepUp(flow, session.accountId, sessionVerification(session));
      await advance(ctx, details, seeded, { revisit: Boolean(flow.accountId) });
      return true;
    },

    verified,

    /**
     * Carries on as `accountId` after a page that completed elsewhere (a mailed link, a
     * registration code): its verification is recorded unless the flow already holds it.
     */
    async continueAs(ctx: Context, details: InteractionDetails, accountId: string, method: SignInMethod): Promise<void> {
      const flow = await openFlow(details);
      if (flow.accountId === accountId && flow.verifications.length > 0) return advance(ctx, details, flow);
      return verified(ctx, details, accountId, method);
    },

    /**
     * Carries on as `accountId` only when the flow already proved who it is (a mailed
     * verification link proves the mailbox, not the password): false when it did not.
     */
    async resume(ctx: Context, details: InteractionDetails, accountId: string): Promise<boolean> {
      const flow = await openFlow(details);
      if (flow.accountId !== accountId || flow.verifications.length === 0) return false;
      await advance(ctx, details, flow);
      return true;
    },

    /** The first step a signed-in browser still owes before consent, if any. */
    async pendingForSession(details: InteractionDetails): Promise<{ step: SignInStep; subject: StepSubject } | undefined> {
      const about = await subject(details);
      for (const step of steps) {
        if (step.forSessions && (await step.pending(about))) return { step, subject: about };
      }
      return undefined;
    },

    /** The interaction ended without a sign-in (aborted). */
    end: (uid: string) => loginFlows.end(uid),
  };
}

export type SignInPipeline = ReturnType<typeof createSignInPipeline>;
