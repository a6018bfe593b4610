// Limits on requests that cost work and may send a mail to an address someone typed
// (starting a registration, asking for a password reset): an address (IP) gets `limit`
// attempts per window and one email address fewer (`emailLimit`), whichever runs out first.
// Taken and free email addresses count alike, so the limit says nothing about which
// addresses have accounts.
import { addressKey, consumeAll, createRateLimit, textKey, type RateLimitStore } from '#src/services/rate-limits.ts';

export interface RequestThrottle {
  /** Counts one attempt; throws rate_limited when a limit is spent. */
  consume(ip: string, email: string): Promise<void>;
}

/** `name` names the limits in the RateLimit-Policy header: `<name>-address`, `<name>-email`. */
export function createRequestThrottle(options: RateLimitStore & { name: string; limit: number; emailLimit: number; windowSeconds: number }): RequestThrottle {
  const byAddress = createRateLimit(options, { name: `${options.name}-address`, points: options.limit, windowSeconds: options.windowSeconds });
  const byEmail = createRateLimit(options, { name: `${options.name}-email`, points: options.emailLimit, windowSeconds: options.windowSeconds });
  return {
    consume: (ip, email) =>
      consumeAll([
        [byAddress, addressKey(ip)],
        [byEmail, textKey(email)],
      ]),
  };
}
