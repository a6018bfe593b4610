// Proving an email address: verifying the address of an existing account (login may
// require it), and changing an account's address (the new one is verified before the
// switch, and the old one is told).
import { AccountError, emailSchema } from '#src/services/accounts.ts';
import { FlowError, type Flow } from '#src/services/flows.ts';
import { lifecycleLinks, TooManyRequestsError, type LifecycleDependencies } from '#src/services/lifecycle.ts';
import { changeEmail, findAccountByEmail, findAccountById, markEmailVerified } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { cancelPendingFlows, latestFlowCreatedAt } from '#src/stores/flow-store.ts';

const VERIFICATION_KINDS = ['verification'] as const;
const EMAIL_CHANGE_KINDS = ['email_change'] as const;

export function createEmailOwnershipService(deps: LifecycleDependencies) {
  const { db, config, flows, mailer } = deps;
  const links = lifecycleLinks(config.ISSUER);

  return {
    /** Mails a code and link to the account's address; resolves to the flow id. */
    async startVerification(accountId: string, interactionUid?: string): Promise<{ flowId: string }> {
      const account = await findAccountById(db, accountId);
      if (!account) throw new AccountError('invalid_account', 'the account no longer exists');
      const flow = await flows.create({ kind: 'verification', accountId, email: account.email, payload: { interactionUid }, ttlSeconds: config.EMAIL_VERIFICATION_TTL, withCode: true });
      await mailer.enqueue({ to: account.email, template: 'verification', data: { link: links.verify(flow.token), code: flow.code!, ...(account.name ? { name: account.name } : {}) }, locale: account.locale ?? undefined });
      return { flowId: flow.id };
    },

    async resendVerification(flowId: string): Promise<'sent' | 'cooldown'> {
      const reissued = await flows.reissue(flowId, VERIFICATION_KINDS, config.VERIFICATION_RESEND_COOLDOWN).catch((error) => {
        if (error instanceof FlowError) return undefined;
        throw error;
      });
      if (!reissued?.email) return 'cooldown';
      await mailer.enqueue({ to: reissued.email, template: 'verification', data: { link: links.verify(reissued.token), code: reissued.code! } });
      return 'sent';
    },

    /** Marks the address verified when it is still the account's address. */
    async completeVerification(proof: { flowId: string; code: string; interactionUid: string } | { token: string }): Promise<Flow> {
      const flow =
        'token' in proof
          ? await flows.completeByToken(proof.token, VERIFICATION_KINDS)
          : await flows.completeByCode(proof.flowId, proof.code, VERIFICATION_KINDS, (candidate) => candidate.payload.interactionUid === proof.interactionUid);
      const account = await findAccountById(db, flow.accountId ?? '');
      if (!account || account.email_normalized !== flow.email?.toLowerCase()) throw new FlowError('invalid');
      await markEmailVerified(db, account.id);
      await recordAudit(db, { event: 'email.verified', accountId: account.id });
      return flow;
    },

    /**
     * Starts an email change: the new address gets a code and link. The answer is the same
     * when the address is taken (nothing is mailed then), so it reveals no other account.
     */
    async requestEmailChange(accountId: string, newEmail: string, ip?: string): Promise<{ flowId: string; expiresAt: string }> {
      const parsed = emailSchema.safeParse(newEmail);
      if (!parsed.success) throw new AccountError('invalid_email', 'Enter a valid email address.');
      const account = await findAccountById(db, accountId);
      if (!account) throw new AccountError('invalid_account', 'the account no longer exists');
      if (account.email_normalized === parsed.data.toLowerCase()) throw new AccountError('invalid_email', 'This is already your email address.');
      const latest = await latestFlowCreatedAt(db, { kind: 'email_change', accountId });
      if (latest && Date.now() - latest.getTime() < config.VERIFICATION_RESEND_COOLDOWN * 1000) {
        throw new TooManyRequestsError(Math.ceil((latest.getTime() + config.VERIFICATION_RESEND_COOLDOWN * 1000 - Date.now()) / 1000));
      }
      const taken = await findAccountByEmail(db, parsed.data);
      // Only the newest request can complete.
      await cancelPendingFlows(db, accountId, 'email_change');
      const flow = await flows.create({ kind: 'email_change', accountId, email: parsed.data, payload: taken ? { decoy: true } : {}, ttlSeconds: config.EMAIL_VERIFICATION_TTL, withCode: true });
      if (!taken) {
        await mailer.enqueue({ to: parsed.data, template: 'email_change_verify', data: { link: links.verify(flow.token), code: flow.code!, ...(account.name ? { name: account.name } : {}) }, locale: account.locale ?? undefined });
      }
      await recordAudit(db, { event: 'email.change_requested', accountId, ip });
      return { flowId: flow.id, expiresAt: flow.expiresAt.toISOString() };
    },

    /** Switches the address once the new one is proven; the old address is notified. */
    async completeEmailChange(proof: { flowId: string; code: string; accountId: string } | { token: string }): Promise<{ email: string }> {
      const flow = 'token' in proof ? await flows.completeByToken(proof.token, EMAIL_CHANGE_KINDS) : await completeOwnFlow(proof);
      const account = await findAccountById(db, flow.accountId ?? '');
      if (!account) throw new AccountError('invalid_account', 'the account no longer exists');
      if (!(await changeEmail(db, account.id, flow.email!))) throw new AccountError('email_taken', 'This email address is already used by another account.');
      await mailer.enqueue({ to: account.email, template: 'email_change_notice', data: { newEmail: flow.email!, ...(account.name ? { name: account.name } : {}) }, locale: account.locale ?? undefined });
      await recordAudit(db, { event: 'email.changed', accountId: account.id });
      return { email: flow.email! };
    },

    /** Which kind of flow a mailed link belongs to, for the shared /verify page. */
    async describeLink(token: string): Promise<Flow> {
      return flows.peek(token, ['registration', 'verification', 'email_change']);
    },
  };

  function completeOwnFlow(proof: { flowId: string; code: string; accountId: string }): Promise<Flow> {
    return flows.completeByCode(proof.flowId, proof.code, EMAIL_CHANGE_KINDS, (flow) => flow.accountId === proof.accountId);
  }
}

export type EmailOwnershipService = ReturnType<typeof createEmailOwnershipService>;
