// What Keyhold records when something security-relevant happens outside a service call of
// its own (engine events: a sign-in completing, a token reused, a logout; the session list):
// one audit entry and, where the Contract names one, one event, written together in one
// statement. Callers know nothing of either store.
import type { Kysely } from 'kysely';
import type { EventEmitter } from '#src/services/events.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';

/** Where a request came from, as far as it is known. */
export interface RequestOrigin {
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

export interface SecurityRecord {
  signedIn(signIn: { accountId: string; clientId: string | null; amr: string[] } & RequestOrigin): Promise<void>;
  tokenReused(reuse: { accountId: string | null; clientId: string | null; credential: string } & RequestOrigin): Promise<void>;
  loggedOut(logout: { accountId: string; clientId: string | null } & RequestOrigin): Promise<void>;
  sessionEnded(ended: { accountId: string; sessionId: string; reason: 'user' | 'user_others' | 'limit' }): Promise<void>;
}

export function createSecurityRecord(db: Kysely<Database>, events: Pick<EventEmitter, 'emitWithAudit'>): SecurityRecord {
  const origin = (request: RequestOrigin) => ({ ip: request.ip ?? null, userAgent: request.userAgent ?? null, requestId: request.requestId ?? null });
  return {
    async signedIn(signIn) {
      await events.emitWithAudit(
        'auth.login.success',
        { user_id: signIn.accountId, client_id: signIn.clientId, amr: signIn.amr, ip: signIn.ip ?? null },
        { event: 'login.succeeded', accountId: signIn.accountId, clientId: signIn.clientId, actor: 'account', outcome: 'success', ...origin(signIn), details: { amr: signIn.amr } },
      );
    },
    async tokenReused(reuse) {
      await events.emitWithAudit(
        'auth.token_reuse_detected',
        { user_id: reuse.accountId, client_id: reuse.clientId, credential: reuse.credential },
        { event: 'token.reuse_detected', accountId: reuse.accountId, clientId: reuse.clientId, actor: 'system', outcome: 'failure', ...origin(reuse), details: { credential: reuse.credential, grant: 'revoked' } },
      );
    },
    async loggedOut(logout) {
      await recordAudit(db, { event: 'logout', accountId: logout.accountId, clientId: logout.clientId, actor: 'account', outcome: 'success', ...origin(logout) });
    },
    async sessionEnded(ended) {
      await events.emitWithAudit(
        'auth.session_revoked',
        { user_id: ended.accountId, session_id: ended.sessionId, reason: ended.reason },
        { event: 'session.revoked', accountId: ended.accountId, actor: ended.reason === 'limit' ? 'system' : 'account', outcome: 'success', details: { session: ended.sessionId, reason: ended.reason } },
      );
    },
  };
}
