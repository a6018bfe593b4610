// A real upstream OpenID Connect provider for federation tests: the oidc-provider engine
// itself (not Keyhold) on a random loopback port, with discovery, the code flow, JWKS and
// userinfo. Its interactions complete at once as whoever the test says is signed in there.
// `tamper` makes its token endpoint hand out a doctored ID token (wrong nonce, signature
// by a foreign key), as a compromised or impersonated upstream would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider from 'oidc-provider';

export interface UpstreamUser {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface UpstreamIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  users: Map<string, UpstreamUser>;
  /** Who is signed in upstream: the next authorization there completes as this subject. */
  signIn(subject: string): void;
  tamper: 'nonce' | 'signature' | undefined;
  /** The person declines at the upstream (access_denied). */
  deny: boolean;
  /** The amr the upstream asserts for its sign-ins. */
  amr: string[];
  stop(): Promise<void>;
}

export async function startUpstreamIdp(options: { redirectUri: string }): Promise<UpstreamIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kid = 'upstream-key';
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const { privateKey: foreignKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const users = new Map<string, UpstreamUser>();
  let current: string | undefined;
  const clientId = 'keyhold-at-upstream';
  const clientSecret = 'upstream-client-secret-0123456789abcdefghijklmnopqrstuvwxyz';

  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [options.redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' }],
    jwks: { keys: [signingJwk as never] },
    cookies: { keys: ['upstream-cookie-key-0123456789'] },
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, sub) => (users.has(sub) ? { accountId: sub, claims: () => ({ sub, ...users.get(sub) }) } : undefined),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });

  const tamper = async (idToken: string, mode: 'nonce' | 'signature'): Promise<string> => {
    const payload = decodeJwt(idToken);
    if (mode === 'nonce') return new SignJWT({ ...payload, nonce: 'forged-nonce' }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(foreignKey);
  };

  const idp: UpstreamIdp = {
    issuer,
    clientId,
    clientSecret,
    users,
    signIn(subject) {
      current = subject;
    },
    tamper: undefined,
    deny: false,
    amr: ['pwd'],
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const app = new Koa();
  app.keys = ['upstream-cookie-key-0123456789'];
  // Interactions complete at once: login as the signed-in subject, consent to what is asked.
  app.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    // The engine writes the redirect itself.
    ctx.respond = false;
    if (details.prompt.name === 'login') {
      if (!current) throw new Error('nobody is signed in upstream');
      if (idp.deny) return provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'the person declined' }, { mergeWithLastSubmission: false });
      return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: current, amr: idp.amr } }, { mergeWithLastSubmission: false });
    }
    const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });
  app.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.path === '/token' && idp.tamper && typeof body?.id_token === 'string') ctx.body = { ...body, id_token: await tamper(body.id_token, idp.tamper) };
  });
  app.use(mount(provider));
  server.on('request', app.callback());
  return idp;
}
