// Passwords after sign-up: forgot/reset by mailed link, and change with the current one.
// A reset ends everything the account holds (sessions, grants, refresh tokens): whoever
// knew the old password must not stay signed in. A change ends the other sessions unless
// the user chooses to keep them. A reset link is good only while the account still uses the
// address it was mailed to, and a reset or change voids every pending reset and email change:
// a change someone else started must not outlive the password they knew.
import type { Kysely } from 'kysely';
import type { ProcessSettings, ProductPolicy } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { emailSchema } from '#src/services/accounts.ts';
import { flowFailure, type Flow, type FlowService } from '#src/services/flows.ts';
import { assertAcceptablePassword, greetingName, lifecycleLinks } from '#src/services/lifecycle.ts';
import type { Mailer } from '#src/services/mailer.ts';
import type { PasswordPolicy } from '#src/services/password-policy.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import { findAccountByEmail, findAccountById, lockAccount, markEmailVerified, replacePasswordHash, type AccountRow } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { emitEvent } from '#src/services/events.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import { cancelPendingFlows, latestFlowCreatedAt } from '#src/stores/flow-store.ts';
import type { EngineStateStore, KeptState } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';

const RECOVERY_KINDS = ['recovery'] as const;
/** Voided by a new password: pending resets, and email changes someone may have started. */
const VOIDED_BY_NEW_PASSWORD = ['recovery', 'email_change'] as const;
// One reset mail per account per minute, however often the form is sent.
const RECOVERY_MAIL_INTERVAL_MS = 60_000;

export interface CredentialDependencies {
  db: Kysely<Database>;
  config: Pick<ProcessSettings, 'ISSUER'> & Pick<ProductPolicy, 'PASSWORD_HISTORY' | 'PASSWORD_RESET_TTL'>;
  flows: FlowService;
  mailer: Pick<Mailer, 'enqueue'>;
  passwordPolicy: Pick<PasswordPolicy, 'check'>;
  passwords: Pick<PasswordHasher, 'hash' | 'verify'>;
  /** Ends the account's sessions, grants and tokens when its password changes. */
  engineState: Pick<EngineStateStore, 'revokeAccount'>;
  /** A reset lifts a lockout: the link proved the mailbox, and the guessed password is gone. */
  lockout?: Pick<LockoutService, 'unlock'>;
}

export function createCredentialService(deps: CredentialDependencies) {
  const { db, config, flows, mailer } = deps;
  const links = lifecycleLinks(config.ISSUER);

  const setPassword = async (accountId: string, password: string, reason: 'change' | 'reset') => {
    const hash = await deps.passwords.hash(password);
    await db.transaction().execute(async (trx) => {
      await replacePasswordHash(trx, accountId, hash, config.PASSWORD_HISTORY);
      await emitEvent(trx, 'auth.password_changed', { user_id: accountId, reason });
    });
  };

  const notifyChanged = async (account: AccountRow) => {
    await mailer.enqueue({ to: account.email, template: 'password_changed', data: { recoveryUrl: links.recovery, ...greetingName(account) }, locale: account.locale ?? undefined });
  };

  /** The reset flow behind a link and its account, while the account still uses the address it went to. */
  const usableReset = async (token: string): Promise<{ flow: Flow; account: AccountRow }> => {
    const flow = await flows.peek(token, RECOVERY_KINDS);
    const account = await findAccountById(db, flow.accountId ?? '');
    if (!account) throw flowFailure('invalid');
    if (account.email_normalized !== flow.email?.trim().toLowerCase()) throw flowFailure('address_changed');
    return { flow, account };
  };

  return {
    /** Mails a reset link when the address has an active account; answers the same either way. */
    async requestReset(email: string, ip?: string): Promise<void> {
      const parsed = emailSchema.safeParse(email);
      const account = parsed.success ? await findAccountByEmail(db, parsed.data) : undefined;
      if (!account?.active) return;
      const mailed = await db.transaction().execute(async (trx) => {
        // The check and the new link are one step: two requests at once mail one link.
        await lockAccount(trx, account.id);
        const latest = await latestFlowCreatedAt(trx, { kind: 'recovery', accountId: account.id });
        if (latest && Date.now() - latest.getTime() < RECOVERY_MAIL_INTERVAL_MS) return false;
        // A new link voids older ones: only the newest mail works.
        await cancelPendingFlows(trx, account.id, 'recovery');
        const flow = await flows.create({ kind: 'recovery', accountId: account.id, email: account.email, ttlSeconds: config.PASSWORD_RESET_TTL }, trx);
        await mailer.enqueue({ to: account.email, template: 'password_reset', data: { link: links.reset(flow.token), ...greetingName(account) }, locale: account.locale ?? undefined }, trx);
        return true;
      });
      if (!mailed) return;
      await recordAudit(db, { event: 'password.reset_requested', accountId: account.id, ip });
    },

    /**
     * The reset flow behind a link and its account's address (for the form's hidden username
     * field, which lets password managers file the new password); throws invalid_code when unusable.
     */
    async peekReset(token: string): Promise<{ flow: Flow; email: string }> {
      const { flow, account } = await usableReset(token);
      return { flow, email: account.email };
    },

    async resetPassword(token: string, password: string, ip?: string): Promise<void> {
      const { account } = await usableReset(token);
      await assertAcceptablePassword(deps, password, { email: account.email, accountId: account.id });
      await flows.completeByToken(token, RECOVERY_KINDS);
      await setPassword(account.id, password, 'reset');
      await cancelPendingFlows(db, account.id, VOIDED_BY_NEW_PASSWORD);
      // The link proved the mailbox is theirs.
      if (!account.email_verified) await markEmailVerified(db, account.id);
      await deps.engineState.revokeAccount(account.id);
      await deps.lockout?.unlock(account.id, 'account');
      await notifyChanged(account);
      await recordAudit(db, { event: 'password.reset', accountId: account.id, ip });
    },

    /**
     * Changes the password after checking the current one. Other sessions end unless
     * `keepOtherSessions`; `current` names the session/grant the request comes from.
     */
    async changePassword(input: { accountId: string; currentPassword: string; newPassword: string; keepOtherSessions?: boolean; current?: KeptState; ip?: string; clientId?: string }): Promise<void> {
      const account = await findAccountById(db, input.accountId);
      if (!account?.active) throw new KeyholdError('account_gone');
      if (!(await deps.passwords.verify(account.password_hash, input.currentPassword))) {
        throw new KeyholdError('invalid_password', { key: 'error.invalid_password.current' });
      }
      await assertAcceptablePassword(deps, input.newPassword, { email: account.email, accountId: account.id });
      await setPassword(account.id, input.newPassword, 'change');
      await cancelPendingFlows(db, account.id, VOIDED_BY_NEW_PASSWORD);
      if (!input.keepOtherSessions) await deps.engineState.revokeAccount(account.id, input.current ?? {});
      await notifyChanged(account);
      await recordAudit(db, { event: 'password.changed', accountId: account.id, clientId: input.clientId, ip: input.ip, details: { otherSessionsEnded: !input.keepOtherSessions } });
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
