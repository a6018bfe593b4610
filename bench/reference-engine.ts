// The reference for Keyhold's token paths: a bare oidc-provider 9 with Keyhold's own Redis
// adapter (the same engine-state store, same Redis, its own prefix), static clients, one
// API resource for JWT access tokens, an account that always exists, RS256, and nothing
// else: no Keyhold middleware, database or hooks. Started in this process like Keyhold,
// so both share the load generator's event loop the same way. Also the reference for
// Keyhold's password logins: a minimal sign-in page in front of it (reference-login.ts)
// and a client like Keyhold's first-party one.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';
import { createRedisAdapter } from '#src/stores/oidc-adapter-redis.ts';
import { REDIRECT_URI } from './flows.ts';
import { referenceLogin, type ReferenceLoginUser } from './reference-login.ts';

export interface ReferenceEngine {
  url: string;
  service: { clientId: string; clientSecret: string };
  user: { clientId: string; clientSecret: string };
  /** Signs in through the reference login page (authorization_code, client_secret_basic, no consent). */
  login: { clientId: string; clientSecret: string; accountId: string; email: string };
  /** `count` refresh tokens (openid offline_access) and opaque access tokens (openid), as a code flow would leave them. */
  userTokens(count: number): Promise<Array<{ refreshToken: string; accessToken: string }>>;
  stop(): Promise<void>;
}

export async function startReferenceEngine(options: {
  redisUrl: string;
  prefix: string;
  api: string;
  apiScopes: string[];
  /** The one account of the login page: its email and an argon2id hash at Keyhold's parameters. */
  loginUser: Omit<ReferenceLoginUser, 'accountId'>;
}): Promise<ReferenceEngine> {
  const server = createServer();
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  const store = createRedisAdapter(redis, { prefix: options.prefix, encryptionKey: randomBytes(32) });
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'reference', alg: 'RS256', use: 'sig' };
  const service = { clientId: 'ref-service', clientSecret: randomBytes(32).toString('base64url') };
  const user = { clientId: 'ref-user', clientSecret: randomBytes(32).toString('base64url') };
  const login = { clientId: 'ref-login', clientSecret: randomBytes(32).toString('base64url') };
  const loginUser: ReferenceLoginUser = { ...options.loginUser, accountId: 'reference-login-account' };

  const provider = new Provider(url, {
    adapter: function adapterFor(name: string) {
      return new store.Adapter(name);
    } as never,
    clients: [
      { client_id: service.clientId, client_secret: service.clientSecret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: options.apiScopes.join(' ') },
      { client_id: user.clientId, client_secret: user.clientSecret, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [REDIRECT_URI] },
      { client_id: login.clientId, client_secret: login.clientSecret, grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic' },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, name: 'Reference User', email: 'reference@example.test' }) }),
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    scopes: ['openid', 'offline_access', ...options.apiScopes],
    rotateRefreshToken: true,
    // Keyhold's lifetimes, set so the engine prints no notice about its defaults.
    ttl: { AccessToken: 600, ClientCredentials: 600, RefreshToken: 14 * 24 * 3600, Grant: 14 * 24 * 3600, Session: 14 * 24 * 3600, Interaction: 3600, IdToken: 3600, AuthorizationCode: 60 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, identifier) => {
          if (identifier !== options.api) throw new errors.InvalidTarget();
          return { audience: identifier, scope: options.apiScopes.join(' '), accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });
  const engine = provider.callback();
  const interaction = referenceLogin(provider, loginUser);
  server.on('request', (req, res) => {
    if (!interaction(req, res)) void engine(req, res);
  });

  return {
    url,
    service,
    user,
    login: { ...login, accountId: loginUser.accountId, email: loginUser.email },
    async userTokens(count) {
      const client = await provider.Client.find(user.clientId);
      const tokens: Array<{ refreshToken: string; accessToken: string }> = [];
      for (let index = 0; index < count; index++) {
        const accountId = `reference-account-${index}`;
        const grant = new provider.Grant({ accountId, clientId: user.clientId });
        grant.addOIDCScope('openid offline_access');
        const grantId = await grant.save();
        const now = Math.floor(Date.now() / 1000);
        const refresh = new provider.RefreshToken({ accountId, client, grantId, scope: 'openid offline_access', gty: 'authorization_code', authTime: now, iiat: now, rotations: 0 } as never);
        const access = new provider.AccessToken({ accountId, client, grantId, scope: 'openid', gty: 'authorization_code' } as never);
        tokens.push({ refreshToken: await refresh.save(), accessToken: await access.save() });
      }
      return tokens;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
