// The engine's cookies: names Keyhold chooses (src/oidc/sessions.ts reads the session one),
// signed with keys derived from KEYHOLD_SECRET, SameSite=Lax (top-level navigations from
// clients carry them; cross-site subrequests do not), Secure when the issuer is https.
import type { Configuration } from 'oidc-provider';

export const ENGINE_COOKIE_NAMES = { session: 'keyhold_session', interaction: 'keyhold_interaction', resume: 'keyhold_resume' } as const;

export function engineCookies(options: { keys: string[]; secure: boolean }): NonNullable<Configuration['cookies']> {
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: options.secure, signed: true };
  return {
    keys: options.keys,
    long: cookieOptions,
    short: cookieOptions,
    names: { ...ENGINE_COOKIE_NAMES },
  };
}
