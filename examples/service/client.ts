// A backend service calling an API on its own behalf (client_credentials): everything about
// Keyhold is found through discovery, and the access token is asked for the API's resource
// (RFC 8707) so that it is a JWT the API verifies offline, then reused until shortly before
// it expires.
import * as oidc from 'openid-client';

export interface ServiceClientOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The API's resource identifier. */
  resource: string;
  /** The API scopes to ask for; the client's allow-list decides what is granted. */
  scope: string;
}

export interface ServiceClient {
  /** fetch() to the API with a bearer token. */
  call(url: string, init?: RequestInit): Promise<Response>;
}

/** Seconds before expiry at which a cached token is renewed, so it never expires in flight. */
const RENEW_BEFORE_SECONDS = 30;

// #region service-client
const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

export async function createServiceClient(options: ServiceClientOptions): Promise<ServiceClient> {
  const issuer = new URL(options.issuer);
  // Plain http only for a Keyhold on this machine (development); anything else must be https.
  const execute = issuer.protocol === 'http:' && isLoopback(issuer) ? [oidc.allowInsecureRequests] : [];
  const config = await oidc.discovery(issuer, options.clientId, options.clientSecret, oidc.ClientSecretBasic(options.clientSecret), { execute });

  let cached: { token: string; renewAt: number } | undefined;
  const accessToken = async (): Promise<string> => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const tokens = await oidc.clientCredentialsGrant(config, { scope: options.scope, resource: options.resource });
    const lifetime = tokens.expiresIn() ?? 0;
    cached = { token: tokens.access_token, renewAt: Date.now() + Math.max(0, lifetime - RENEW_BEFORE_SECONDS) * 1000 };
    return cached.token;
  };
  return {
    async call(url, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${await accessToken()}`);
      return fetch(url, { ...init, headers });
    },
  };
}
// #endregion service-client
