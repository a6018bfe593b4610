// The engine's browser sessions, as the rest of Keyhold sees them. Only this module (and the
// cookie hook it takes the name from) knows that a session is found through a signed cookie
// or a token's sessionUid, how its sign-in time is kept and where its grants are listed.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ENGINE_COOKIE_NAMES } from '#src/oidc/hooks/cookies.ts';

export interface EngineSession {
  /** The id the engine stores the session under: what "keep this session" lists name. */
  id: string;
  accountId: string | undefined;
  /** When the account last signed in, epoch seconds. */
  authTime: number | undefined;
  /** The grants given to clients from this session. */
  grantIds: string[];
  /** The assurance of its sign-in (acr), if recorded. */
  acr?: string;
}

type Session = InstanceType<Provider['Session']>;

function view(session: Session): EngineSession {
  const grantIds = Object.values(session.authorizations ?? {}).flatMap((authorization) => (authorization.grantId ? [authorization.grantId] : []));
  const authTime = session.authTime();
  return { id: session.jti, accountId: session.accountId, authTime: typeof authTime === 'number' ? authTime : undefined, grantIds, ...(session.acr ? { acr: session.acr } : {}) };
}

/** The session of this browser (the engine's signed session cookie), if it has one. */
export async function browserSession(provider: Provider, ctx: Context): Promise<EngineSession | undefined> {
  // The parent app's keys equal the engine's cookie keys (app.ts), so the signature checks.
  const id = ctx.cookies.get(ENGINE_COOKIE_NAMES.session, { signed: true });
  const session = id ? await provider.Session.find(id) : undefined;
  return session ? view(session) : undefined;
}

/** The session a token was issued from (the token's sessionUid). */
export async function sessionByUid(provider: Provider, uid: string): Promise<EngineSession | undefined> {
  const session = await provider.Session.findByUid(uid);
  return session ? view(session) : undefined;
}
