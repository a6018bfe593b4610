// Everything Keyhold listens to on the engine, attached in one place. The engine host calls
// this for every engine it builds (a key rotation builds a new one), so no listener is left
// behind on a replaced instance.
import type Provider from 'oidc-provider';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { requestOrigin } from '#src/middleware/request-context.ts';
import { attachSessionActivity, type SessionActivitySinks } from '#src/oidc/session-activity.ts';
import type { BackgroundTasks } from '#src/services/background-tasks.ts';
import type { SecurityRecord } from '#src/services/security-record.ts';
import { unavailableDependency } from '#src/stores/dependency-failure.ts';

export interface EngineEventSinks {
  logger: Logger;
  /** keyhold_tokens_issued_total{grant_type} */
  tokensIssued: Counter<'grant_type'>;
  /** Session devices and activity (absent: not recorded). */
  sessionActivity?: SessionActivitySinks;
  /** Audit entries and events for what the engine does (absent: none recorded). */
  record?: Pick<SecurityRecord, 'tokenReused' | 'loggedOut'>;
  /** Tracks the writes those events make, so shutdown (and tests) can wait for them. */
  background?: Pick<BackgroundTasks, 'run'>;
}

export function attachEngineEvents(provider: Provider, sinks: EngineEventSinks): void {
  if (sinks.sessionActivity) attachSessionActivity(provider, sinks.sessionActivity);
  // Kept on the request: an outage of Redis or Postgres becomes a 503 in front of the engine
  // (src/middleware/engine-outage.ts), which logs it; anything else is a bug, logged here.
  provider.on('server_error', (ctx, error) => {
    if (ctx?.state) ctx.state.engineError = error;
    if (!unavailableDependency(error)) sinks.logger.error({ err: error }, 'engine server error');
  });
  // One successful token endpoint response; the engine emits it only for grant types it
  // serves, so the label set stays bounded.
  // At the token endpoint the engine revokes a grant for one reason only: a refresh token or
  // authorization code presented a second time (RFC 9700 §4.14.2). (A lost race for the same
  // token is caught by the storage adapter instead, which reports it itself.)
  provider.on('grant.revoked', (ctx) => {
    const { record, background } = sinks;
    if (ctx.oidc.route !== 'token' || !record || !background) return;
    const entities = ctx.oidc.entities as { RefreshToken?: { accountId?: string }; AuthorizationCode?: { accountId?: string }; Grant?: { accountId?: string } };
    const source = entities.RefreshToken ? 'RefreshToken' : 'AuthorizationCode';
    const accountId = entities.RefreshToken?.accountId ?? entities.AuthorizationCode?.accountId ?? entities.Grant?.accountId ?? null;
    const { ip, requestId } = requestOrigin(ctx);
    const reuse = { accountId, clientId: ctx.oidc.client?.clientId ?? null, credential: source, ip, requestId };
    background.run('recording a token reuse', () => record.tokenReused(reuse));
  });
  provider.on('end_session.success', (ctx) => {
    const { record, background } = sinks;
    const accountId = ctx.oidc.session?.accountId;
    if (!record || !background || typeof accountId !== 'string') return;
    const logout = { accountId, clientId: ctx.oidc.client?.clientId ?? null, ...requestOrigin(ctx) };
    background.run('recording a logout', () => record.loggedOut(logout));
  });
  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc.params?.grant_type;
    if (typeof grantType === 'string') sinks.tokensIssued.inc({ grant_type: grantType });
  });
}
