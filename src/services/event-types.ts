// Every event Keyhold tells other services about, with the data it carries: the one place
// that defines them (Contract, "Security operations"). Data names accounts by id and never
// holds secrets (passwords, tokens, codes, session cookies). A consumer receives
// `{ id, type, created_at, data }`; `id` is unique per event, so a redelivery (at least
// once) is recognised by it.

export interface EventData {
  /** An account was created (registration, CLI, Admin API, import). */
  'auth.user_created': { user_id: string; email: string; source: 'registration' | 'operator' | 'import' };
  /** A sign-in completed: every step (password, MFA, federation) passed and a session holds it. */
  'auth.login.success': { user_id: string; client_id: string | null; amr: string[]; ip: string | null };
  /** A credential check failed. user_id is set only when the address names an account. */
  'auth.login.failed': { user_id: string | null; method: string; reason: 'invalid_credentials' | 'locked'; ip: string | null };
  /** LOCKOUT_THRESHOLD failures locked the account until locked_until. */
  'auth.user_locked': { user_id: string; locked_until: string; failures: number };
  /** The password was changed (by its owner) or reset (through a mailed link). */
  'auth.password_changed': { user_id: string; reason: 'change' | 'reset' };
  /** A browser session ended before its time: by its owner, or by the concurrent-session limit. */
  'auth.session_revoked': { user_id: string; session_id: string; reason: 'user' | 'user_others' | 'limit' };
  /** A one-time credential (refresh token, authorization code) was presented again; its grant was revoked. */
  'auth.token_reuse_detected': { user_id: string | null; client_id: string | null; credential: string };
  /** A second factor was enrolled (emitted by the MFA steps). */
  'auth.mfa_enrolled': { user_id: string; factor: string };
  /** The account's roles changed. */
  'auth.role_changed': { user_id: string; from: string[]; to: string[]; actor: string };
}

export type EventType = keyof EventData;

export const eventTypes = [
  'auth.user_created',
  'auth.login.success',
  'auth.login.failed',
  'auth.user_locked',
  'auth.password_changed',
  'auth.session_revoked',
  'auth.token_reuse_detected',
  'auth.mfa_enrolled',
  'auth.role_changed',
] as const satisfies readonly EventType[];

// Every type listed above, and nothing else: a missing one fails to compile here.
const everyTypeListed: [Exclude<EventType, (typeof eventTypes)[number]>] extends [never] ? true : never = true;
void everyTypeListed;

export const isEventType = (value: string): value is EventType => (eventTypes as readonly string[]).includes(value);

/** What a consumer receives. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  created_at: string;
  data: EventData[T];
}
