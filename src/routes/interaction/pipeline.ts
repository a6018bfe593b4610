// The sign-in pipeline. A method (password, later TOTP, passkeys, federation) records a
// verification in the interaction's stored login flow; then the remaining steps run in
// order, each a small module that says whether it is pending and shows its page; when none
// is, the engine is told who signed in, with acr, amr and auth_time read off the flow.
//
// Steps, in order: email verification (REQUIRE_VERIFIED_EMAIL), progressive profiling
// (client `required_claims`). A second factor is a step that is pending while the flow
// misses a stronger factor than it has. acr_values are voluntary (OIDC Core 3.1.2.1): a
// level no enrolled method can reach ends the sign-in with what was achieved.
import type { Context } from 'koa';
import { KeyholdError } from '#src/errors.ts';
import { loginResult } from '#src/oidc/results.ts';
import type { InteractionDetails } from '#src/routes/page-kit.ts';
import { clientOf, type EngineClient, type InteractionDependencies } from '#src/routes/interaction/shared.ts';
import type { Account } from '#src/services/accounts.ts';
import type { LoginFlow } from '#src/services/authentication/login-flow.ts';
import type { SignInMethod } from '#src/services/authentication/types.ts';

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
      maxAge: details.params.max_age !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0 ? maxAge : undefined,
    });
  };

  const activeAccount = async (accountId: string | undefined): Promise<Account> => {
    const account = accountId ? await deps.accounts.findById(accountId) : undefined;
    if (!account?.active) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.interaction_expired' });
    return account;
  };

  /** Who the steps are about: the flow's account during a sign-in, else the signed-in one. */
  const subject = async (details: InteractionDetails, flow?: LoginFlow): Promise<StepSubject> => ({
    account: await activeAccount(flow ? flow.accountId : details.session?.accountId),
    client: await clientOf(deps.engine, details),
    ...(flow ? { flow } : {}),
  });

  /** Runs the first pending step, or finishes the sign-in when none is left. */
  const advance = async (ctx: Context, details: InteractionDetails, flow: LoginFlow, how = { revisit: false }): Promise<void> => {
    const about = await subject(details, flow);
    for (const step of steps) {
      if (await step.pending(about)) return step.show(ctx, details, about, how);
    }
    const login = loginFlows.loginResult(flow);
    ctx.state.log.info({ event: 'login.success', accountId: login.accountId, clientId: details.params.client_id, amr: login.amr }, 'login succeeded');
    await pages.finishInteraction(ctx, loginResult(login), false);
    await loginFlows.end(details.uid);
  };

  /**
   * `method` proved who the person is: recorded, then the pipeline continues. An
   * identifying method naming another account than the flow's starts the flow over
   * (someone signing in as someone else), never mixes two accounts' verifications.
   */
  const verified = async (ctx: Context, details: InteractionDetails, accountId: string, method: SignInMethod): Promise<void> => {
    let flow = await openFlow(details);
    if (flow.accountId && flow.accountId !== accountId && method.identifies) {
      await loginFlows.end(details.uid);
      flow = await openFlow(details);
    }
    return advance(ctx, details, await loginFlows.verified(flow, method, accountId));
  };

  return {
    /** The flow, when an account has been identified in it (else the login form is due). */
    async identifiedFlow(details: InteractionDetails): Promise<LoginFlow | undefined> {
      const flow = await openFlow(details);
      return flow.accountId ? flow : undefined;
    },

    advance,
    subject,

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
