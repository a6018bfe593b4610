// Everything Keyhold listens to on the engine, attached in one place. The engine host calls
// this for every engine it builds (a key rotation builds a new one), so no listener is left
// behind on a replaced instance.
import type Provider from 'oidc-provider';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { attachSessionActivity, type SessionActivitySinks } from '#src/oidc/session-activity.ts';

export interface EngineEventSinks {
  logger: Logger;
  /** keyhold_tokens_issued_total{grant_type} */
  tokensIssued: Counter<'grant_type'>;
  /** Session devices and activity (absent: not recorded). */
  sessionActivity?: SessionActivitySinks;
}

export function attachEngineEvents(provider: Provider, sinks: EngineEventSinks): void {
  if (sinks.sessionActivity) attachSessionActivity(provider, sinks.sessionActivity);
  provider.on('server_error', (_ctx, error) => sinks.logger.error({ err: error }, 'engine server error'));
  // One successful token endpoint response; the engine emits it only for grant types it
  // serves, so the label set stays bounded.
  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc.params?.grant_type;
    if (typeof grantType === 'string') sinks.tokensIssued.inc({ grant_type: grantType });
  });
}
