// Account rules: creation, authentication by password, the claims an account exposes.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { passwordRejected } from '#src/services/lifecycle.ts';
import { MAX_PASSWORD_LENGTH, type PasswordPolicy } from '#src/services/password-policy.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import type { RequestOrigin } from '#src/services/security-record.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import type { Telemetry } from '#src/services/telemetry.ts';
import type { Database } from '#src/stores/schema.ts';
import { findAccountByEmail, findAccountById, insertAccount, recordLogin, type AccountRow } from '#src/stores/account-store.ts';
import { emitEvent } from '#src/services/events.ts';
import { recordAudit } from '#src/stores/audit-store.ts';

export interface Account {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  picture: string | null;
  locale: string | null;
  zoneinfo: string | null;
  phoneNumber: string | null;
  phoneNumberVerified: boolean;
  active: boolean;
  roles: string[];
  tier: string | null;
  tenant: string | null;
  lastLoginAt: string | null;
  credentialsChangedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export const emailSchema = z.string().trim().max(254).pipe(z.email());
/** Length as a person counts it: Unicode code points, not UTF-16 units. */
const passwordLength = (password: string) => [...password].length;

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    name: row.name,
    givenName: row.given_name,
    familyName: row.family_name,
    picture: row.picture,
    locale: row.locale,
    zoneinfo: row.zoneinfo,
    phoneNumber: row.phone_number,
    phoneNumberVerified: row.phone_number_verified,
    active: row.active,
    roles: row.roles,
    tier: row.tier,
    tenant: row.tenant,
    lastLoginAt: row.last_login_at?.toISOString() ?? null,
    credentialsChangedAt: row.password_changed_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface CreateAccountInput {
  email: string;
  password?: string;
  /** An already hashed password (a verified registration, an import). */
  passwordHash?: string;
  name?: string;
  roles?: string[];
  tier?: string;
  tenant?: string;
  emailVerified?: boolean;
  /** Who creates it, for the auth.user_created event (default: an operator). */
  source?: 'registration' | 'operator' | 'import';
}

export interface AccountService {
  create(input: CreateAccountInput): Promise<Account>;
  findById(id: string): Promise<Account | undefined>;
  /**
   * The account when email and password match an active account that is not locked;
   * undefined otherwise, with no hint why. A wrong password for an existing account counts
   * towards its lockout.
   */
  authenticate(email: string, password: string, context?: RequestOrigin): Promise<Account | undefined>;
}

// Every plain password that becomes an account's goes through the one policy (length from
// PASSWORD_MIN_LENGTH, common passwords, the email's name, breaches), whichever path
// creates the account: CLI, Admin API or a test. Registration hashes after checking, and
// an import brings hashes whose formats account-import.ts checks.
export interface AccountServiceOptions {
  defaultRoles: readonly string[];
  /** Failed sign-ins lock an account (absent: no lockout, e.g. in unit tests of hashing). */
  lockout?: Pick<LockoutService, 'isLocked' | 'recordFailure'>;
  telemetry?: Pick<Telemetry, 'loginAttempts'>;
}

export function createAccountService(db: Kysely<Database>, passwords: PasswordHasher, policy: PasswordPolicy, options: AccountServiceOptions): AccountService {
  const counted = (outcome: 'success' | 'failure' | 'locked') => options.telemetry?.loginAttempts.inc({ outcome, method: 'password' });
  return {
    async create(input) {
      const email = emailSchema.safeParse(input.email);
      if (!email.success) throw new KeyholdError('invalid_email', { key: 'error.invalid_email.not_an_address' });
      if (input.password !== undefined) {
        const violations = await policy.check(input.password, { email: email.data });
        if (violations.length > 0) throw passwordRejected(violations);
      }
      const passwordHash = input.passwordHash ?? (input.password === undefined ? null : await passwords.hash(input.password));
      // The account and its event are one step: the event exists exactly when the account does.
      const row = await db.transaction().execute(async (trx) => {
        const inserted = await insertAccount(trx, {
          id: randomUUID(),
          email: email.data,
          name: input.name?.trim() || null,
          passwordHash,
          emailVerified: input.emailVerified ?? false,
          // An account created without a roles list gets DEFAULT_ROLES.
          roles: [...new Set(input.roles ?? options.defaultRoles)],
          tier: input.tier ?? null,
          tenant: input.tenant ?? null,
        });
        if (inserted) await emitEvent(trx, 'auth.user_created', { user_id: inserted.id, email: inserted.email, source: input.source ?? 'operator' });
        return inserted;
      });
      if (!row) throw new KeyholdError('email_taken');
      return toAccount(row);
    },

    async findById(id) {
      const row = await findAccountById(db, id);
      return row ? toAccount(row) : undefined;
    },

    async authenticate(email, password, context = {}) {
      const parsed = emailSchema.safeParse(email);
      const row = parsed.success && passwordLength(password) <= MAX_PASSWORD_LENGTH ? await findAccountByEmail(db, parsed.data) : undefined;
      // The hash is verified whether or not the account is locked (or exists): the answer
      // and the work are the same either way.
      const [valid, locked] = await Promise.all([
        passwords.verify(row?.password_hash, passwordLength(password) <= MAX_PASSWORD_LENGTH ? password : ''),
        row && options.lockout ? options.lockout.isLocked(row.id) : false,
      ]);
      const refuse = async (reason: 'locked' | 'invalid_credentials') => {
        counted(reason === 'locked' ? 'locked' : 'failure');
        // The audit names an account only when the address is one; what was typed is not kept.
        await recordAudit(db, {
          event: 'login.failed',
          accountId: row?.id ?? null,
          ip: context.ip ?? null,
          userAgent: context.userAgent ?? null,
          requestId: context.requestId ?? null,
          actor: 'account',
          outcome: 'failure',
          details: { method: 'password', reason },
        });
        await emitEvent(db, 'auth.login.failed', { user_id: row?.id ?? null, method: 'password', reason, ip: context.ip ?? null });
        return undefined;
      };
      if (row && locked) return refuse('locked');
      if (!row || !valid || !row.active) {
        if (row && !valid) await options.lockout?.recordFailure(row.id, context);
        return refuse('invalid_credentials');
      }
      const current = await recordLogin(db, row.id, passwords.needsRehash(row.password_hash!) ? await passwords.hash(password) : undefined);
      if (!current) return refuse('invalid_credentials');
      counted('success');
      return toAccount(current);
    },
  };
}
