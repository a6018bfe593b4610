// Proof, for a change to an account's second factors, that the person at the keyboard is
// its owner and not someone holding a stolen token or an unlocked browser. Without a
// factor yet: the password (counted like a login attempt) or a sign-in within
// RECENT_LOGIN_WINDOW seconds. With one: the password is only half of what protects the
// account, so it changes nothing on its own — a fresh authenticator-app or recovery code,
// or a recent sign-in that used a second factor, is needed.
import type { Kysely } from 'kysely';
import type { ProductPolicy } from '#src/config.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import type { Account } from '#src/services/accounts.ts';
import { atLeast, levelOfAcr } from '#src/services/authentication/assurance.ts';
import { withPasswordAttempt, type LoginThrottle } from '#src/services/login-throttle.ts';
import type { MfaService } from '#src/services/mfa/factors.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import { findAccountById } from '#src/stores/account-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface ReauthenticationProof {
  password?: string;
  code?: string;
  /** When the session (or the token's session) signed in, epoch seconds. */
  authTime?: number;
  /** The acr of that sign-in. */
  acr?: string;
}

export interface ReauthenticationDependencies {
  db: Kysely<Database>;
  config: Pick<ProductPolicy, 'RECENT_LOGIN_WINDOW'>;
  passwords: Pick<PasswordHasher, 'verify'>;
  loginThrottle: LoginThrottle;
  mfa: Pick<MfaService, 'listFactors' | 'verify' | 'useRecoveryCode' | 'hasFactors'>;
}

/** Whether a sign-in at `authTime` (epoch seconds) is recent enough to stand in for the password. */
export function signedInRecently(authTime: number | undefined, windowSeconds: number): boolean {
  return typeof authTime === 'number' && Date.now() / 1000 - authTime <= windowSeconds;
}

export function createReauthentication(deps: ReauthenticationDependencies) {
  const { config, mfa } = deps;

  const freshSecondFactor = async (account: Account, ip: string, code: string): Promise<void> => {
    const attempt = await deps.loginThrottle.begin(ip, account.email);
    for (const factor of (await mfa.listFactors(account)).filter((entry) => entry.kind === 'totp')) {
      try {
        await mfa.verify(account, factor.id, code, 'reauthentication');
        return attempt.succeeded();
      } catch (error) {
        if (!isKeyholdError(error, 'invalid_code')) throw error;
      }
    }
    await mfa.useRecoveryCode(account, code);
    await attempt.succeeded();
  };

  return {
    /** Throws invalid_password, invalid_code, rate_limited or reauthentication_required when not proven. */
    async confirm(account: Account, ip: string, proof: ReauthenticationProof): Promise<void> {
      if (proof.code) return freshSecondFactor(account, ip, proof.code);
      if (await mfa.hasFactors(account.id)) {
        if (signedInRecently(proof.authTime, config.RECENT_LOGIN_WINDOW) && atLeast(levelOfAcr(proof.acr ?? '') ?? 'password', 'mfa')) return;
        throw new KeyholdError('reauthentication_required', { key: 'error.reauthentication_required.second_factor', params: { seconds: config.RECENT_LOGIN_WINDOW } });
      }
      if (proof.password) {
        const row = await findAccountById(deps.db, account.id);
        return withPasswordAttempt(
          deps.loginThrottle,
          ip,
          account.email,
          async () => {
            if (!(await deps.passwords.verify(row?.password_hash ?? null, proof.password!))) throw new KeyholdError('invalid_password');
          },
          (error) => isKeyholdError(error, 'invalid_password'),
        );
      }
      if (signedInRecently(proof.authTime, config.RECENT_LOGIN_WINDOW)) return;
      throw new KeyholdError('reauthentication_required', { params: { seconds: config.RECENT_LOGIN_WINDOW } });
    },
  };
}

export type Reauthentication = ReturnType<typeof createReauthentication>;
