// Keeps Keyhold's record of each browser session's device and activity in step with the
// engine: every time the engine saves a signed-in session (the sign-in itself, then each
// authorization that uses it) the request's user agent and address are recorded; a destroyed
// session (logout) is forgotten. A save at the end of a login interaction (the resume with
// a login result) is the moment a sign-in completed, whatever its steps: auth.login.success.
// The engine emits these without the request, which its async-local context (Provider.ctx)
// still holds.
import Provider from 'oidc-provider';
import { requestOrigin } from '#src/middleware/request-context.ts';
import type { BackgroundTasks } from '#src/services/background-tasks.ts';
import type { SecurityRecord } from '#src/services/security-record.ts';
import type { SessionService } from '#src/services/sessions.ts';

export interface SessionActivitySinks {
  sessions: Pick<SessionService, 'seen' | 'ended'>;
  background: Pick<BackgroundTasks, 'run'>;
  record?: Pick<SecurityRecord, 'signedIn'>;
}

type EngineSession = InstanceType<Provider['Session']>;

export function attachSessionActivity(provider: Provider, sinks: SessionActivitySinks): void {
  // One announcement per request, however often the engine saves the session in it.
  const announced = new WeakSet<object>();
  provider.on('session.saved', (session: EngineSession) => {
    if (!session.accountId) return;
    const ctx = Provider.ctx;
    const origin = ctx ? requestOrigin(ctx) : {};
    // A consent step's result repeats the login it followed (merged with the last
    // submission); only the login's own resume is the sign-in.
    const result = ctx?.oidc?.route === 'resume' ? ctx.oidc.result : undefined;
    const login = result && !result.consent ? result.login : undefined;
    if (ctx && login && sinks.record && !announced.has(ctx)) {
      announced.add(ctx);
      const { record } = sinks;
      const clientId = ctx.oidc.params?.client_id;
      const signIn = {
        accountId: session.accountId,
        clientId: typeof clientId === 'string' ? clientId : null,
        amr: login.amr ?? [],
        ...origin,
      };
      sinks.background.run('recording a sign-in', () => record.signedIn(signIn));
    }
    const seen = { id: session.jti, accountId: session.accountId, ...(typeof session.exp === 'number' ? { expiresAt: session.exp } : {}) };
    sinks.background.run('recording a session device', () => sinks.sessions.seen(seen, origin));
  });
  provider.on('session.destroyed', (session: EngineSession) => {
    sinks.background.run('forgetting a session device', () => sinks.sessions.ended(session.jti));
  });
}
