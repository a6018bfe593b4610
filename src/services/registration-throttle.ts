// Limits on starting registrations: each one hashes a password and may send a mail, so an
// address (IP) gets REGISTRATION_RATE_LIMIT attempts per window and an email address fewer
// (REGISTRATION_EMAIL_RATE_LIMIT), whichever runs out first. Taken and free addresses count
// alike, so the limit says nothing about which addresses have accounts.
import { addressKey, consumeAll, createRateLimit, textKey, type RateLimitStore } from '#src/services/rate-limits.ts';

export interface RegistrationThrottle {
  /** Counts one registration attempt; throws rate_limited when a limit is spent. */
  consume(ip: string, email: string): Promise<void>;
}

export function createRegistrationThrottle(options: RateLimitStore & { limit: number; emailLimit: number; windowSeconds: number }): RegistrationThrottle {
  const byAddress = createRateLimit(options, { name: 'registration-address', points: options.limit, windowSeconds: options.windowSeconds });
  const byEmail = createRateLimit(options, { name: 'registration-email', points: options.emailLimit, windowSeconds: options.windowSeconds });
  return {
    consume: (ip, email) =>
      consumeAll([
        [byAddress, addressKey(ip)],
        [byEmail, textKey(email)],
      ]),
  };
}
