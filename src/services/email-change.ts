// Changing an account's email address (OWASP "Changing a User's Registered Email Address").
// The request needs re-authentication (the password, or a sign-in within
// RECENT_LOGIN_WINDOW); the new address proves itself with a code or link; the old address
// is told at once and gets a link that cancels the change, and after the switch one that
// undoes it. Every flow is good only while the account still uses the address it concerns,
// and a completed change voids the pending resets and changes of the account.
import type { Kysely } from 'kysely';
import type { ProcessSettings, ProductPolicy } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { emailSchema } from '#src/services/accounts.ts';
import { flowFailure, type Flow, type FlowService } from '#src/services/flows.ts';
import { greetingName, isReauthenticated, lifecycleLinks, tooSoon } from '#src/services/lifecycle.ts';
import type { Mailer } from '#src/services/mailer.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import { changeEmail, clearPasswordHash, findAccountByEmail, findAccountById, normalizeEmail, type AccountRow } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { cancelPendingFlows, latestFlowCreatedAt } from '#src/stores/flow-store.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';

const EMAIL_CHANGE_KINDS = ['email_change'] as const;
const CANCEL_KINDS = ['email_change_cancel'] as const;
/** What a completed change or an undo voids: links mailed for the account's earlier state. */
export const ADDRESS_BOUND_KINDS = ['recovery', 'verification', 'email_change'] as const;

export type EmailChangeCancellation = { outcome: 'cancelled' } | { outcome: 'reverted'; email: string };

export interface EmailChangeDependencies {
  db: Kysely<Database>;
  config: Pick<ProcessSettings, 'ISSUER'> & Pick<ProductPolicy, 'EMAIL_VERIFICATION_TTL' | 'VERIFICATION_RESEND_COOLDOWN' | 'RECENT_LOGIN_WINDOW'>;
  flows: FlowService;
  mailer: Pick<Mailer, 'enqueue'>;
  passwords: Pick<PasswordHasher, 'verify'>;
  /** Ends every session when a change is cancelled or undone: whoever made it may be signed in. */
  engineState: Pick<EngineStateStore, 'revokeAccount'>;
}

export function createEmailChangeService(deps: EmailChangeDependencies) {
  const { db, config, flows, mailer } = deps;
  const links = lifecycleLinks(config.ISSUER);

  /** A link for the old address that cancels (or, once done, undoes) the change to `toEmail`. */
  const mailCancelLink = async (account: AccountRow, toEmail: string, template: 'email_change_requested' | 'email_change_notice') => {
    const cancel = await flows.create({ kind: 'email_change_cancel', accountId: account.id, email: account.email, payload: { toEmail: normalizeEmail(toEmail) }, ttlSeconds: config.EMAIL_VERIFICATION_TTL });
    await mailer.enqueue({ to: account.email, template, data: { newEmail: toEmail, link: links.cancelEmailChange(cancel.token), ...greetingName(account) }, locale: account.locale ?? undefined });
  };

  return {
    /**
     * Starts an email change: the new address gets a code and link, the old one a cancel link.
     * The answer is the same when the address is taken (nothing goes to it then), so it
     * reveals no other account.
     */
    async requestEmailChange(accountId: string, newEmail: string, proof: { password?: string; authTime?: number }, ip?: string): Promise<{ flowId: string; expiresAt: string }> {
      const parsed = emailSchema.safeParse(newEmail);
      if (!parsed.success) throw new KeyholdError('invalid_email');
      const account = await findAccountById(db, accountId);
      if (!account) throw new KeyholdError('account_gone');
      if (!(await isReauthenticated(deps, account.password_hash, proof))) {
        throw new KeyholdError('invalid_password', { key: 'error.invalid_password.confirm_email_change' });
      }
      if (account.email_normalized === normalizeEmail(parsed.data)) throw new KeyholdError('invalid_email', { key: 'error.invalid_email.unchanged' });
      const latest = await latestFlowCreatedAt(db, { kind: 'email_change', accountId });
      if (latest && Date.now() - latest.getTime() < config.VERIFICATION_RESEND_COOLDOWN * 1000) {
        throw tooSoon(Math.ceil((latest.getTime() + config.VERIFICATION_RESEND_COOLDOWN * 1000 - Date.now()) / 1000));
      }
      const taken = await findAccountByEmail(db, parsed.data);
      // Only the newest request can complete.
      await cancelPendingFlows(db, accountId, 'email_change');
      const payload = { fromEmail: account.email_normalized, ...(taken ? { decoy: true } : {}) };
      const flow = await flows.create({ kind: 'email_change', accountId, email: parsed.data, payload, ttlSeconds: config.EMAIL_VERIFICATION_TTL, withCode: true });
      if (!taken) {
        // No name: the new address has not shown it belongs to the account holder yet.
        await mailer.enqueue({ to: parsed.data, template: 'email_change_verify', data: { link: links.verify(flow.token), code: flow.code! }, locale: account.locale ?? undefined });
      }
      await mailCancelLink(account, parsed.data, 'email_change_requested');
      await recordAudit(db, { event: 'email.change_requested', accountId, ip });
      return { flowId: flow.id, expiresAt: flow.expiresAt.toISOString() };
    },

    /** Switches the address once the new one is proven; the old address gets an undo link. */
    async completeEmailChange(proof: { flowId: string; code: string; accountId: string } | { token: string }): Promise<{ email: string }> {
      const flow =
        'token' in proof
          ? await flows.completeByToken(proof.token, EMAIL_CHANGE_KINDS)
          : await flows.completeByCode(proof.flowId, proof.code, EMAIL_CHANGE_KINDS, (candidate) => candidate.accountId === proof.accountId);
      const account = await findAccountById(db, flow.accountId ?? '');
      if (!account) throw new KeyholdError('account_gone');
      // Requested for the address the account had then; a change since voids it.
      if (account.email_normalized !== flow.payload.fromEmail) throw flowFailure('address_changed');
      if (!(await changeEmail(db, account.id, flow.email!))) throw new KeyholdError('email_taken', { key: 'error.email_taken.other_account' });
      await cancelPendingFlows(db, account.id, ADDRESS_BOUND_KINDS);
      await mailCancelLink(account, flow.email!, 'email_change_notice');
      await recordAudit(db, { event: 'email.changed', accountId: account.id });
      return { email: flow.email! };
    },

    /** The cancel link's flow, for its confirmation page. */
    peekCancellation(token: string): Promise<Flow> {
      return flows.peek(token, CANCEL_KINDS);
    },

    /**
     * The old address's link: cancels a pending change, or undoes a completed one (the old
     * address comes back, every session ends and the password is cleared, since whoever made
     * the change knew it; the mail offers a reset).
     */
    async cancelEmailChange(token: string, ip?: string): Promise<EmailChangeCancellation> {
      const flow = await flows.peek(token, CANCEL_KINDS);
      const account = await findAccountById(db, flow.accountId ?? '');
      if (!account) throw flowFailure('invalid');
      const oldEmail = flow.email!;
      // Undone whenever the account has left the address the link went to, whether to the
      // address named in the link or, through further changes, to any other: otherwise a
      // second change (B to C) right after the first would void the owner's undo link.
      const changed = account.email_normalized !== normalizeEmail(oldEmail);
      await flows.completeByToken(token, CANCEL_KINDS);
      if (!changed) {
        await cancelPendingFlows(db, account.id, 'email_change');
        await deps.engineState.revokeAccount(account.id);
        await recordAudit(db, { event: 'email.change_cancelled', accountId: account.id, ip });
        return { outcome: 'cancelled' };
      }
      if (!(await changeEmail(db, account.id, oldEmail))) throw new KeyholdError('email_taken', { key: 'error.email_taken.now_other_account' });
      await db.transaction().execute(async (trx) => {
        await clearPasswordHash(trx, account.id);
        await cancelPendingFlows(trx, account.id, [...ADDRESS_BOUND_KINDS, 'email_change_cancel']);
      });
      await deps.engineState.revokeAccount(account.id);
      await mailer.enqueue({ to: oldEmail, template: 'email_change_reverted', data: { recoveryUrl: links.recovery, ...greetingName(account) }, locale: account.locale ?? undefined });
      await recordAudit(db, { event: 'email.change_reverted', accountId: account.id, ip });
      return { outcome: 'reverted', email: oldEmail };
    },
  };
}
