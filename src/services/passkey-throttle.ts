// Limits on the passkey form (sign-in and second factor): every assertion posted counts
// against its address, as many as the password form's address limit allows
// (5 × LOGIN_RATE_LIMIT per window), and, on the second-factor page where the account is
// known, against the account (LOGIN_ACCOUNT_RATE_LIMIT). A refused assertion is audited,
// so without a limit anyone could write audit rows as fast as they can post. A passkey
// that checks out gives its attempt back.
import { addressKey, consumeAll, createRateLimit, type RateLimit, type RateLimitStore } from '#src/services/rate-limits.ts';
import type { PasswordAttempt } from '#src/services/login-throttle.ts';

export interface PasskeyThrottle {
  /** Counts one assertion before it is checked; throws rate_limited when a limit is spent. */
  begin(ip: string, accountId?: string): Promise<PasswordAttempt>;
}

export function createPasskeyThrottle(options: RateLimitStore & { limit: number; accountLimit: number; windowSeconds: number }): PasskeyThrottle {
  const byAddress = createRateLimit(options, { name: 'passkey-address', points: options.limit * 5, windowSeconds: options.windowSeconds });
  const byAccount = createRateLimit(options, { name: 'passkey-account', points: options.accountLimit, windowSeconds: options.windowSeconds });
  return {
    async begin(clientAddress, accountId) {
      const entries: Array<[RateLimit, string]> = [[byAddress, addressKey(clientAddress)], ...(accountId ? [[byAccount, accountId] as [RateLimit, string]] : [])];
      await consumeAll(entries);
      return {
        async succeeded() {
          await Promise.all(entries.map(([limit, key]) => limit.refund(key)));
        },
      };
    },
  };
}
