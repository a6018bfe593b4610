// Keeps Keyhold's record of each browser session's device and activity in step with the
// engine: every time the engine saves a signed-in session (the sign-in itself, then each
// authorization that uses it) the request's user agent and address are recorded; a destroyed
// session (logout) is forgotten. The engine emits these without the request, which its
// async-local context (Provider.ctx) still holds.
import Provider from 'oidc-provider';
import type { BackgroundTasks } from '#src/services/background-tasks.ts';
import type { SessionService } from '#src/services/sessions.ts';

export interface SessionActivitySinks {
  sessions: Pick<SessionService, 'seen' | 'ended'>;
  background: Pick<BackgroundTasks, 'run'>;
}

type EngineSession = InstanceType<Provider['Session']>;

export function attachSessionActivity(provider: Provider, sinks: SessionActivitySinks): void {
  provider.on('session.saved', (session: EngineSession) => {
    if (!session.accountId) return;
    const ctx = Provider.ctx;
    const seen = { id: session.jti, accountId: session.accountId, ...(typeof session.exp === 'number' ? { expiresAt: session.exp } : {}) };
    const request = { userAgent: ctx?.get('user-agent') || undefined, ip: ctx?.ip };
    sinks.background.run('recording a session device', () => sinks.sessions.seen(seen, request));
  });
  provider.on('session.destroyed', (session: EngineSession) => {
    sinks.background.run('forgetting a session device', () => sinks.sessions.ended(session.jti));
  });
}
