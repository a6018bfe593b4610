// Proving an email address: verifying the address of an existing account (login may
// require it), and changing an account's address (services/email-change.ts).
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { createEmailChangeService, type EmailChangeDependencies } from '#src/services/email-change.ts';
import { flowFailure, type Flow } from '#src/services/flows.ts';
import { greetingName, lifecycleLinks } from '#src/services/lifecycle.ts';
import { findAccountById, markEmailVerified } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { findFlow } from '#src/stores/flow-store.ts';

const VERIFICATION_KINDS = ['verification'] as const;

/** Verification needs a subset of what an email change needs. */
export type EmailOwnershipDependencies = EmailChangeDependencies;

export function createEmailOwnershipService(deps: EmailOwnershipDependencies) {
  const { db, config, flows, mailer } = deps;
  const links = lifecycleLinks(config.ISSUER);

  return {
    ...createEmailChangeService(deps),

    /** Mails a code and link to the account's address; resolves to the flow id. */
    async startVerification(accountId: string, interactionUid?: string): Promise<{ flowId: string }> {
      const account = await findAccountById(db, accountId);
      if (!account) throw new KeyholdError('account_gone');
      const flow = await flows.create({ kind: 'verification', accountId, email: account.email, payload: { interactionUid }, ttlSeconds: config.EMAIL_VERIFICATION_TTL, withCode: true });
      await mailer.enqueue({ to: account.email, template: 'verification', data: { link: links.verify(flow.token), code: flow.code!, ...greetingName(account) }, locale: account.locale ?? undefined });
      return { flowId: flow.id };
    },

    /** Mails a new code and link unless the cool-down runs; only for the sign-in that started the verification. */
    /**
     * Mails a new code and link unless the cool-down runs; only for the sign-in that started
     * the verification. 'gone': the flow cannot be reissued (ended: too many wrong codes, a
     * password reset or an email change cancelled it, expired; or not this sign-in's).
     */
    async resendVerification(flowId: string, interactionUid: string): Promise<'sent' | 'cooldown' | 'gone'> {
      // One sign-in cannot reissue (and so void) the code of another.
      const belongs = (flow: Flow) => flow.payload.interactionUid === interactionUid;
      const reissued = await flows.reissue(flowId, VERIFICATION_KINDS, config.VERIFICATION_RESEND_COOLDOWN, belongs).catch((error) => {
        if (isKeyholdError(error, 'invalid_code')) return 'gone' as const;
        throw error;
      });
      if (reissued === 'gone') return 'gone';
      if (!reissued?.email) return 'cooldown';
      await mailer.enqueue({ to: reissued.email, template: 'verification', data: { link: links.verify(reissued.token), code: reissued.code! } });
      return 'sent';
    },

    /** Whether a verification can still be completed (pending and not expired). */
    async verificationPending(flowId: string): Promise<boolean> {
      const row = await findFlow(db, flowId, VERIFICATION_KINDS);
      return row?.state === 'pending' && new Date(row.expires_at) > new Date();
    },

    /** Marks the address verified when it is still the account's address. */
    async completeVerification(proof: { flowId: string; code: string; interactionUid: string } | { token: string }): Promise<Flow> {
      const flow =
        'token' in proof
          ? await flows.completeByToken(proof.token, VERIFICATION_KINDS)
          : await flows.completeByCode(proof.flowId, proof.code, VERIFICATION_KINDS, (candidate) => candidate.payload.interactionUid === proof.interactionUid);
      const account = await findAccountById(db, flow.accountId ?? '');
      if (!account) throw flowFailure('invalid');
      if (account.email_normalized !== flow.email?.toLowerCase()) throw flowFailure('address_changed');
      await markEmailVerified(db, account.id);
      await recordAudit(db, { event: 'email.verified', accountId: account.id });
      return flow;
    },

    /** Which kind of flow a mailed link belongs to, for the shared /verify page. */
    async describeLink(token: string): Promise<Flow> {
      return flows.peek(token, ['registration', 'verification', 'email_change']);
    },
  };
}

export type EmailOwnershipService = ReturnType<typeof createEmailOwnershipService>;
