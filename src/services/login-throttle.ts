// Brute-force protection wherever a password is checked (login, password change, account
// deletion). Each check first takes one attempt, atomically, from three limits:
// - per account and address (LOGIN_RATE_LIMIT): one guesser against one account;
// - per account from any address (LOGIN_ACCOUNT_RATE_LIMIT): rotating addresses, e.g.
//   through a botnet or a forged X-Forwarded-For, buys no extra guesses;
// - per address across accounts (5 × LOGIN_RATE_LIMIT): password spraying.
// An address is an IPv4 address or an IPv6 /64 (addressKey).
// A right password gives its attempt back (and clears the account+address count), so only
// wrong guesses add up. The account counts by the name typed, whether or not such an
// account exists, so the limits say nothing about which accounts exist.
import { addressKey, consumeAll, createRateLimit, textKey, type RateLimitStore } from '#src/services/rate-limits.ts';

export interface PasswordAttempt {
  /** The password was right: this attempt does not count against the account. */
  succeeded(): Promise<void>;
}

export interface LoginThrottle {
  /**
   * Counts one password attempt before the password is checked. Throws rate_limited
   * (and nothing may be checked) when a limit is spent.
   */
  begin(ip: string, login: string): Promise<PasswordAttempt>;
}

export interface LoginThrottleOptions extends RateLimitStore {
  /** Attempts per account and address. */
  limit: number;
  /** Attempts per account from any address. */
  accountLimit: number;
  windowSeconds: number;
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { windowSeconds } = options;
  const byAccountAndAddress = createRateLimit(options, { name: 'login-account-address', points: options.limit, windowSeconds });
  const byAccount = createRateLimit(options, { name: 'login-account', points: options.accountLimit, windowSeconds });
  const byAddress = createRateLimit(options, { name: 'login-address', points: options.limit * 5, windowSeconds });

  return {
    async begin(clientAddress, login) {
      const ip = addressKey(clientAddress);
      const account = textKey(login);
      const accountAndAddress = `${ip}|${account}`;
      await consumeAll([
        [byAccountAndAddress, accountAndAddress],
        [byAccount, account],
        [byAddress, ip],
      ]);
      return {
        async succeeded() {
          // Only this attempt is given back per account: a success must not wipe out the
          // count of guesses others made from elsewhere.
          await Promise.all([byAccountAndAddress.reset(accountAndAddress), byAccount.refund(account), byAddress.refund(ip)]);
        },
      };
    },
  };
}

/**
 * Runs a password check under the throttle. `isWrongPassword` tells a refused password
 * (which stays counted) from any other outcome (which gives the attempt back, e.g. a right
 * current password with a new one the policy refuses).
 */
export async function withPasswordAttempt<T>(throttle: LoginThrottle, ip: string, login: string, check: () => Promise<T>, isWrongPassword: (error: unknown) => boolean): Promise<T> {
  const attempt = await throttle.begin(ip, login);
  let result: T;
  try {
    result = await check();
  } catch (error) {
    if (!isWrongPassword(error)) await attempt.succeeded();
    throw error;
  }
  await attempt.succeeded();
  return result;
}
