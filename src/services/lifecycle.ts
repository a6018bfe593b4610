// What the self-service account flows share: the links they mail, the checks of a new
// password and of re-authentication, and the errors those raise. Each flow service
// declares its own dependencies (registration.ts, credentials.ts, email-ownership.ts,
// email-change.ts, account-data.ts).
import type { ProductPolicy } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import type { PasswordViolation, PasswordPolicy } from '#src/services/password-policy.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';

/** `password_rejected`, listing every rule the password breaks (field `violations`). */
export function passwordRejected(violations: PasswordViolation[]): KeyholdError<'password_rejected'> {
  return new KeyholdError('password_rejected', { key: 'error.password_rejected.violations', params: { violations: violations.map((violation) => violation.message).join(' ') }, fields: { violations } });
}

/** `rate_limited`: the same request came again before its cool-down ended. */
export function tooSoon(retryAfterSeconds: number): KeyholdError<'rate_limited'> {
  return new KeyholdError('rate_limited', { key: 'error.rate_limited.wait', params: { retryAfterSeconds }, headers: { 'Retry-After': String(retryAfterSeconds) } });
}

export async function assertAcceptablePassword(deps: { passwordPolicy: Pick<PasswordPolicy, 'check'> }, password: string, context: { email?: string; accountId?: string }): Promise<void> {
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
  deps: { config: Pick<ProductPolicy, 'RECENT_LOGIN_WINDOW'>; passwords: Pick<PasswordHasher, 'verify'> },
  passwordHash: string | null,
  proof: { password?: string; authTime?: number },
): Promise<boolean> {
  if (proof.password !== undefined) return deps.passwords.verify(passwordHash, proof.password);
  return typeof proof.authTime === 'number' && Date.now() / 1000 - proof.authTime <= deps.config.RECENT_LOGIN_WINDOW;
}
