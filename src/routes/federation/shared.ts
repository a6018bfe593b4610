// What the federation routes share: their dependencies, the browser's federation session
// (koa-session over a server-side store), and the failure page that leads back to sign-in.
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import { createSession } from 'koa-session';
import type { InteractionDependencies } from '#src/routes/interaction/shared.ts';
import type { ConnectorService } from '#src/services/federation/connectors.ts';
import type { FederatedIdentityService } from '#src/services/federation/identities.ts';
import type { UpstreamClient, UpstreamProfile } from '#src/services/federation/upstream.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { createFederationSessionStore } from '#src/stores/federation-session-store.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';

export interface FederationDependencies extends InteractionDependencies {
  db: Kysely<Database>;
  engineState: EngineStateStore;
  connectors: ConnectorService;
  upstream: UpstreamClient;
  federatedIdentities: FederatedIdentityService;
}

/** This browser's federated sign-in: the interaction it continues, then what the upstream said. */
export interface FederationState {
  uid: string;
  connectorId: string;
  /** Set once the callback verified the upstream's answer. */
  profile?: UpstreamProfile;
  /** The account with the same email, when linking must be proven. */
  linkTo?: string;
}

export const SESSION_COOKIE = 'keyhold_federation';

/**
 * The session grant needs. SameSite=None on https, because Apple answers with a cross-site
 * form POST (response_mode=form_post) that a Lax cookie would not accompany; the state
 * check, not the cookie's SameSite, is what binds a callback to this browser.
 */
export function federationSession(app: Koa, deps: FederationDependencies): Middleware {
  const ttl = deps.config.INTERACTION_TTL;
  const store = createFederationSessionStore(deps.engineState, ttl);
  return createSession(
    {
      key: SESSION_COOKIE,
      maxAge: ttl * 1000,
      httpOnly: true,
      signed: true,
      secure: deps.config.secureCookies,
      sameSite: deps.config.secureCookies ? 'none' : 'lax',
      store: {
        get: (key: string) => store.get(key),
        set: (key: string, session: Record<string, unknown>, maxAge: number) => store.set(key, session, maxAge),
        destroy: (key: string) => store.destroy(key),
      },
    } as never,
    app,
  ) as Middleware;
}

interface SessionContext {
  session: { federation?: FederationState | null; grant?: Record<string, unknown> | null } | null;
}

export const sessionOf = (ctx: Context) => (ctx as unknown as SessionContext).session!;

/** The page for any failed federated sign-in: audited, nothing kept, a way back to sign-in. */
export async function federationFailed(ctx: Context, deps: FederationDependencies, options: { uid?: string; connectorName?: string; connectorId?: string; reason: string; cause?: unknown }): Promise<void> {
  const session = sessionOf(ctx);
  session.grant = null;
  session.federation = null;
  ctx.state.log.warn({ event: 'federation.failed', connector: options.connectorId, reason: options.reason, err: options.cause }, 'federated sign-in failed');
  await recordAudit(deps.db, { event: 'federation.failed', ip: ctx.ip, details: { connector: options.connectorId ?? null, reason: options.reason } });
  deps.pages.message(ctx, 'page.federation_failed', {
    status: 400,
    params: { provider: options.connectorName ?? 'the other provider' },
    ...(options.uid ? { link: { href: `/interaction/${options.uid}?mode=login`, label: 'page.link.back_to_sign_in' } } : {}),
  });
}
