// The account holder's own data: profile edits, a GDPR export (Art. 15/20) of everything
// Keyhold holds about them, and erasure (Art. 17) after re-authentication.
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { ProcessSettings, ProductPolicy } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';
import { toAccount, type Account } from '#src/services/accounts.ts';
import { isReauthenticated } from '#src/services/lifecycle.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import { singleLine } from '#src/text-input.ts';
import { listFactors } from '#src/stores/mfa-store.ts';
import { deleteAccountRow, findAccountById, updateProfileColumns, type ProfileColumns } from '#src/stores/account-store.ts';
import { anonymiseAuditTrail, auditEventsForAccount, recordAudit } from '#src/stores/audit-store.ts';
import { flowsForExport } from '#src/stores/flow-store.ts';
import { deleteUnsentMailsTo, outboxMailsTo } from '#src/stores/mail-outbox-store.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import { passwordReplacementDates } from '#src/stores/password-history-store.ts';
import type { Database } from '#src/stores/schema.ts';

const timeZones = new Set(Intl.supportedValuesOf('timeZone'));

const optionalText = (max: number) => singleLine(z.string().trim().max(max)).nullable();

/** PATCH body: every field optional; null clears it. Unknown fields are refused. */
export const profilePatchSchema = z
  .object({
    name: optionalText(200),
    given_name: optionalText(100),
    family_name: optionalText(100),
    picture: z
      .url({ protocol: /^https$/, message: message('validation.picture') })
      .max(2048)
      .nullable(),
    // BCP 47 language tag, e.g. en, en-GB, pt-BR, zh-Hant-TW.
    locale: z
      .string()
      .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, message('validation.locale'))
      .max(35)
      .nullable(),
    zoneinfo: z
      .string()
      .refine((value) => timeZones.has(value) || value === 'UTC', message('validation.zoneinfo'))
      .nullable(),
    // E.164.
    phone_number: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, message('validation.phone_number'))
      .nullable(),
  })
  .partial()
  .strict();

export type ProfilePatch = z.infer<typeof profilePatchSchema>;

/**
 * How an erased account is referred to in the audit trail: a keyed hash, which still links
 * the events of one erased account together but cannot be tied back to the person.
 */
export function erasedSubject(pseudonymKey: Buffer, accountId: string): string {
  return createHmac('sha256', pseudonymKey).update(`erased:${accountId}`).digest('base64url').slice(0, 22);
}

export interface AccountDataDependencies {
  db: Kysely<Database>;
  config: Pick<ProcessSettings, 'ISSUER'> & Pick<ProductPolicy, 'RECENT_LOGIN_WINDOW'>;
  passwords: Pick<PasswordHasher, 'verify'>;
  /** Ends every session, grant and token of an erased account. */
  engineState: Pick<EngineStateStore, 'revokeAccount'>;
  /** Keys the pseudonyms that stand for erased accounts in the audit trail. */
  pseudonymKey: Buffer;
}

export function createAccountDataService(deps: AccountDataDependencies) {
  const { db, config } = deps;
  const pseudonym = (accountId: string) => erasedSubject(deps.pseudonymKey, accountId);

  return {
    async updateProfile(accountId: string, patch: ProfilePatch): Promise<Account> {
      const columns: ProfileColumns = {};
      for (const [key, value] of Object.entries(patch) as Array<[keyof ProfilePatch, string | null | undefined]>) {
        if (value === undefined) continue;
        columns[key] = value === '' ? null : value;
      }
      // A new number is not verified.
      if ('phone_number' in columns) columns.phone_number_verified = false;
      const row = await updateProfileColumns(db, accountId, columns);
      if (!row) throw new KeyholdError('account_gone');
      await recordAudit(db, { event: 'profile.updated', accountId, details: { fields: Object.keys(columns) } });
      return toAccount(row);
    },

    /** Everything held about the account, as one JSON document. */
    async exportAccount(accountId: string): Promise<Record<string, unknown>> {
      const row = await findAccountById(db, accountId);
      if (!row) throw new KeyholdError('account_gone');
      const [audit, flows, history, mails, factors] = await Promise.all([
        auditEventsForAccount(db, accountId),
        flowsForExport(db, accountId),
        passwordReplacementDates(db, accountId),
        outboxMailsTo(db, row.email, 500),
        listFactors(db, accountId, { pending: true }),
      ]);
      const { active, ...account } = toAccount(row);
      return {
        format: 'keyhold-account-export/1',
        exportedAt: new Date().toISOString(),
        issuer: config.ISSUER,
        account: { ...account, active, hasPassword: row.password_hash !== null },
        passwordHistory: history.map((entry) => ({ replacedAt: entry.created_at })),
        secondFactors: factors.map((factor) => ({ kind: factor.kind, phoneNumber: factor.phone_number, createdAt: factor.created_at, confirmedAt: factor.confirmed_at, lastUsedAt: factor.last_used_at })),
        selfServiceFlows: flows,
        mails,
        auditLog: audit.map((entry) => ({ at: entry.at, event: entry.event, clientId: entry.client_id, ip: entry.ip, details: entry.details })),
      };
    },

    /**
     * Erases the account after re-authentication: its password, or a sign-in within
     * RECENT_LOGIN_WINDOW seconds (`authTime`, epoch seconds). Every token is revoked; the
     * audit trail is kept without personal data.
     */
    async deleteAccount(accountId: string, proof: { password?: string; authTime?: number }): Promise<void> {
      const row = await findAccountById(db, accountId);
      if (!row) throw new KeyholdError('account_gone');
      if (!(await isReauthenticated(deps, row.password_hash, proof))) throw new KeyholdError('invalid_password', { key: 'error.invalid_password.confirm_deletion' });
      const subject = pseudonym(accountId);
      await db.transaction().execute(async (trx) => {
        await anonymiseAuditTrail(trx, accountId, subject);
        await deleteUnsentMailsTo(trx, row.email);
        await deleteAccountRow(trx, accountId);
        await recordAudit(trx, { event: 'account.deleted', details: { erased_subject: subject } });
      });
      await deps.engineState.revokeAccount(accountId);
    },
  };
}

export type AccountDataService = ReturnType<typeof createAccountDataService>;
