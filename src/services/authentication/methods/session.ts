// Not a method anyone uses: the sign-in an existing session already holds, carried into a
// step-up (a stronger factor asked inside a session) so the result combines both. Its amr
// and time are the session's own.
import type { Verification } from '#src/services/authentication/types.ts';

export function sessionVerification(session: { amr?: readonly string[]; loginTs?: number }): Verification {
  return { method: 'session', amr: [...(session.amr ?? ['pwd'])], factor: 'knowledge', phishingResistant: false, at: session.loginTs ?? 0 };
}
