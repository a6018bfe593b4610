// Which passwords Keyhold accepts, after NIST SP 800-63B: a length range counted in
// characters (Unicode code points), any characters, no composition rules; refused when
// the password is common, contains the account's email name, is known from breaches, or
// is one the account used recently.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { message } from '#src/messages/index.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import { findAccountById } from '#src/stores/account-store.ts';
import { recentPasswordHashes } from '#src/stores/password-history-store.ts';
import type { Database } from '#src/stores/schema.ts';

export const DEFAULT_MIN_PASSWORD_LENGTH = 8;
// Long enough for any passphrase; short enough that hashing an attacker's input costs little.
export const MAX_PASSWORD_LENGTH = 128;
// The breach service is a nicety, not a dependency: a slow one must not hold a sign-up.
const BREACH_CHECK_TIMEOUT_MS = 3000;
// Shorter email names ("al", "jo") occur inside too many good passwords to be a signal.
const MIN_EMAIL_NAME_LENGTH = 3;

export type PasswordViolationCode = 'too_short' | 'too_long' | 'common' | 'contains_email' | 'breached' | 'reused';

export interface PasswordViolation {
  code: PasswordViolationCode;
  /** Plain English, fit to show to the person choosing the password. */
  message: string;
}

export interface PasswordContext {
  email?: string;
  /** The account whose password changes; its current and recent passwords are refused. */
  accountId?: string;
}

export interface PasswordPolicy {
  /** Every rule the password breaks; empty when it is acceptable. */
  check(password: string, context: PasswordContext): Promise<PasswordViolation[]>;
}

export interface PasswordPolicyOptions {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  minLength?: number;
  /** How many earlier passwords, besides the current one, cannot be reused. */
  historySize: number;
  /** A k-anonymity range API (HIBP format), e.g. https://api.pwnedpasswords.com/range/ ; unset: no breach check. */
  breachCheckUrl?: string;
  logger: Logger;
  fetch?: typeof fetch;
}

let commonPasswords: Promise<Set<string>> | undefined;

// Loaded and built on first use: 49k entries (and the whole zxcvbn dictionary module) that
// a process that never checks a new password (an idle node, the CLI listing keys) should
// not pay for.
async function isCommon(password: string): Promise<boolean> {
  commonPasswords ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common']));
  return (await commonPasswords).has(password.toLowerCase());
}

function containsEmailName(password: string, email: string | undefined): boolean {
  if (!email) return false;
  const at = email.lastIndexOf('@');
  const name = (at === -1 ? email : email.slice(0, at)).trim().toLowerCase();
  return name.length >= MIN_EMAIL_NAME_LENGTH && password.toLowerCase().includes(name);
}

export function createPasswordPolicy(options: PasswordPolicyOptions): PasswordPolicy {
  const { db, hasher, historySize, breachCheckUrl, logger } = options;
  const minLength = options.minLength ?? DEFAULT_MIN_PASSWORD_LENGTH;
  const fetchRange = options.fetch ?? fetch;

  // Only the first five hex digits of the SHA-1 leave the process; the service answers
  // every suffix it knows for them, padded with zero-count decoys (Add-Padding), and the
  // match happens here. Any failure to get an answer lets the password through.
  async function isBreached(password: string): Promise<boolean> {
    if (!breachCheckUrl) return false;
    const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = digest.slice(0, 5);
    const suffix = digest.slice(5);
    try {
      const response = await fetchRange(`${breachCheckUrl}${prefix}`, {
        headers: { 'Add-Padding': 'true' },
        signal: AbortSignal.timeout(BREACH_CHECK_TIMEOUT_MS),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        logger.warn({ status: response.status }, 'password breach check unavailable; password accepted without it');
        return false;
      }
      for (const line of (await response.text()).split('\n')) {
        const [candidate, count] = line.trim().split(':');
        if (candidate?.toUpperCase() === suffix) return Number(count) > 0;
      }
      return false;
    } catch (error) {
      // A code or an error name, never a message: a message may quote the URL, which
      // carries the hash prefix.
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      const reason = typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
      logger.warn({ reason }, 'password breach check unavailable; password accepted without it');
      return false;
    }
  }

  async function isReused(password: string, accountId: string | undefined): Promise<boolean> {
    if (!accountId) return false;
    const account = await findAccountById(db, accountId);
    if (!account) return false;
    const hashes = [account.password_hash, ...(await recentPasswordHashes(db, account.id, historySize))].filter((hash): hash is string => Boolean(hash));
    const matches = await Promise.all(hashes.map((hash) => hasher.verify(hash, password)));
    return matches.includes(true);
  }

  return {
    async check(password, context) {
      const violation = (code: PasswordViolationCode): PasswordViolation => ({ code, message: message(`password.${code}`, { minLength, maxLength: MAX_PASSWORD_LENGTH }) });
      const length = [...password].length;
      if (length < minLength) return [violation('too_short')];
      if (length > MAX_PASSWORD_LENGTH) return [violation('too_long')];

      const violations: PasswordViolation[] = [];
      if (await isCommon(password)) violations.push(violation('common'));
      if (containsEmailName(password, context.email)) violations.push(violation('contains_email'));
      // The network request and the hash verifications are spent only on a password the
      // local rules would accept.
      if (violations.length > 0) return violations;

      const [breached, reused] = await Promise.all([isBreached(password), isReused(password, context.accountId)]);
      if (breached) violations.push(violation('breached'));
      if (reused) violations.push(violation('reused'));
      return violations;
    },
  };
}
