// RFC 8628 §5.1: user codes are short enough to guess, so the attempts to enter one are
// limited per address (IP): `limit` per window, counted before the engine looks the code up,
// shared by every node (Redis when configured). A device code lives minutes; the limit keeps
// the chance of guessing any live code negligible.
import { addressKey, consumeAll, createRateLimit, type RateLimitStore } from '#src/services/rate-limits.ts';

export interface DeviceCodeThrottle {
  /** Counts one code entry from `ip`; throws rate_limited when the address has used its attempts. */
  consume(ip: string): Promise<void>;
}

export function createDeviceCodeThrottle(options: RateLimitStore & { limit: number; windowSeconds: number }): DeviceCodeThrottle {
  const byAddress = createRateLimit(options, { name: 'device-code-address', points: options.limit, windowSeconds: options.windowSeconds });
  return { consume: (ip) => consumeAll([[byAddress, addressKey(ip)]]) };
}
