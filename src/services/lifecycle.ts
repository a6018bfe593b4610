// What the self-service account flows share: their dependencies, the links they mail, and
// the errors a rejected password and a too early request raise.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { FlowService } from '#src/services/flows.ts';
import type { Mailer } from '#src/services/mailer.ts';
import type { PasswordViolation, PasswordPolicy } from '#src/services/password-policy.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';

export interface LifecycleDependencies {
  db: Kysely<Database>;
  config: Config;
  logger: Logger;
  accounts: AccountService;
  flows: FlowService;
  mailer: Mailer;
  passwordPolicy: PasswordPolicy;
  passwords: PasswordHasher;
  engineState: EngineStateStore;
  /** Keys the pseudonyms that stand for erased accounts in the audit trail. */
  pseudonymKey: Buffer;
}

/** `password_rejected`, listing every rule the password breaks (field `violations`). */
export function passwordRejected(violations: PasswordViolation[]): KeyholdError<'password_rejected'> {
  return new KeyholdError('password_rejected', { key: 'error.password_rejected.violations', params: { violations: violations.map((violation) => violation.message).join(' ') }, fields: { violations } });
}

/**
 * @deprecated Only for src/cli.ts until it prints every KeyholdError itself: matches
 * `new KeyholdError('password_rejected')`; services throw that (via passwordRejected).
 */
export const PasswordRejectedError = {
  [Symbol.hasInstance]: (error: unknown): error is KeyholdError<'password_rejected'> => isKeyholdError(error, 'password_rejected'),
};

/** The same request came too soon after the previous one (mail cool-downs). */
export function tooSoon(retryAfterSeconds: number): KeyholdError<'rate_limited'> {
  return new KeyholdError('rate_limited', { key: 'error.rate_limited.wait', params: { retryAfterSeconds }, headers: { 'Retry-After': String(retryAfterSeconds) } });
}

export async function assertAcceptablePassword(deps: Pick<LifecycleDependencies, 'passwordPolicy'>, password: string, context: { email?: string; accountId?: string }): Promise<void> {
  const violations = await deps.passwordPolicy.check(password, context);
  if (violations.length > 0) throw passwordRejected(violations);
}

/** Links in mails point at Keyhold's own pages under the issuer. */
export function lifecycleLinks(issuer: string) {
  return {
    home: `${issuer}/`,
    verify: (token: string) => `${issuer}/verify?token=${encodeURIComponent(token)}`,
    reset: (token: string) => `${issuer}/recovery/reset?token=${encodeURIComponent(token)}`,
    recovery: `${issuer}/recovery`,
    cancelEmailChange: (token: string) => `${issuer}/email-change/cancel?token=${encodeURIComponent(token)}`,
  };
}

/**
 * The greeting name for a mail to the account's address. A name is free text anyone can type
 * (at registration, or into a profile), so it goes only to an address that proved it belongs
 * to the account: otherwise Keyhold would carry a stranger's words to any inbox.
 */
export function greetingName(account: { name: string | null; email_verified: boolean }): { name?: string } {
  return account.name && account.email_verified ? { name: account.name } : {};
}

/**
 * Re-authentication for a sensitive change: a sign-in within RECENT_LOGIN_WINDOW seconds
 * (`authTime`, epoch seconds) stands in for the password; a password, when given, must be right.
 */
export async function isReauthenticated(
  deps: Pick<LifecycleDependencies, 'config' | 'passwords'>,
  passwordHash: string | null,
  proof: { password?: string; authTime?: number },
): Promise<boolean> {
  if (proof.password !== undefined) return deps.passwords.verify(passwordHash, proof.password);
  return typeof proof.authTime === 'number' && Date.now() / 1000 - proof.authTime <= deps.config.RECENT_LOGIN_WINDOW;
}
