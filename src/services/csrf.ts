// CSRF protection for Keyhold's forms: a signed double-submit token. The browser holds a
// random value in an httpOnly cookie; each form carries HMAC(key, cookie value | purpose).
// A cross-site page can neither read the cookie nor compute the HMAC, and a token issued
// for one form (purpose, e.g. an interaction uid) is useless for another.
import { createHmac } from 'node:crypto';
import { constantTimeEqual, randomToken } from '#src/crypto.ts';

export interface CsrfService {
  newBrowserSecret(): string;
  tokenFor(browserSecret: string, purpose: string): string;
  verify(browserSecret: string | undefined, purpose: string, token: unknown): boolean;
}

export function createCsrfService(key: Buffer): CsrfService {
  const tokenFor = (browserSecret: string, purpose: string) =>
    createHmac('sha256', key).update(`${browserSecret}|${purpose}`).digest('base64url');
  return {
    newBrowserSecret: () => randomToken(24),
    tokenFor,
    verify(browserSecret, purpose, token) {
      if (!browserSecret || typeof token !== 'string' || token.length === 0) return false;
      return constantTimeEqual(tokenFor(browserSecret, purpose), token);
    },
  };
}
