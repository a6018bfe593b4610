// Sign-in through Keyhold itself: authorization code with PKCE (S256) as the built-in public
// client. Tokens live in this module's memory only (never localStorage): a reload signs in
// again, silently while the Keyhold session lasts. The PKCE verifier and state wait in
// sessionStorage for the one round trip, and are removed when the code is redeemed.
export interface ConsoleSettings {
  issuer: string;
  clientId: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  scope?: string;
}

interface Tokens {
  access: string;
  refresh?: string;
  idToken?: string;
  expiresAt: number;
  scopes: Set<string>;
}

const PENDING_KEY = 'keyhold-console-pkce';
// Refreshed this long before the token expires, so a request never carries a stale one.
const EXPIRY_MARGIN_MS = 30_000;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

export function createSession(settings: ConsoleSettings) {
  const resource = `${settings.issuer}/api/admin`;
  const redirectUri = `${settings.issuer}/console/callback`;
  let discovery: Promise<Discovery> | undefined;
  let tokens: Tokens | undefined;
  let refreshing: Promise<boolean> | undefined;

  const endpoints = () =>
    (discovery ??= fetch(`${settings.issuer}/.well-known/openid-configuration`).then((response) => {
      if (!response.ok) throw new Error('discovery failed');
      return response.json() as Promise<Discovery>;
    }));

  async function tokenRequest(params: Record<string, string>): Promise<boolean> {
    const { token_endpoint } = await endpoints();
    const response = await fetch(token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: settings.clientId, resource, ...params }),
    });
    if (!response.ok) return false;
    const answer = (await response.json()) as TokenAnswer;
    tokens = {
      access: answer.access_token,
      refresh: answer.refresh_token ?? tokens?.refresh,
      idToken: answer.id_token ?? tokens?.idToken,
      expiresAt: Date.now() + (answer.expires_in ?? 300) * 1000,
      scopes: new Set((answer.scope ?? '').split(' ')),
    };
    return true;
  }

  async function signIn(): Promise<never> {
    const { authorization_endpoint } = await endpoints();
    const verifier = randomText();
    const state = randomText();
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
    const url = new URL(authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: settings.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid offline_access admin admin:read',
      resource,
      state,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: 'S256',
    }).toString();
    location.assign(url.toString());
    return new Promise<never>(() => {});
  }

  /** Redeems the code on /console/callback; the hash the person was on before comes back. */
  async function finishSignIn(): Promise<string> {
    const params = new URLSearchParams(location.search);
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string; hash: string } | null;
    sessionStorage.removeItem(PENDING_KEY);
    const error = params.get('error');
    if (error) throw new Error(params.get('error_description') ?? error);
    const code = params.get('code');
    if (!pending || !code || params.get('state') !== pending.state) throw new Error('The sign-in answer does not match the request; sign in again.');
    if (!(await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pending.verifier }))) {
      throw new Error('The sign-in code was refused; sign in again.');
    }
    return pending.hash;
  }

  async function refresh(): Promise<boolean> {
    const refreshToken = tokens?.refresh;
    if (!refreshToken) return false;
    refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  async function currentToken(): Promise<string> {
    if (tokens && Date.now() > tokens.expiresAt - EXPIRY_MARGIN_MS && !(await refresh())) await signIn();
    if (!tokens) await signIn();
    return tokens!.access;
  }

  /** Calls the Admin API; on 401 refreshes once, then signs in again. */
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    const attempt = async () =>
      fetch(`${settings.issuer}${path}`, {
        method,
        headers: { Authorization: `Bearer ${await currentToken()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const response = await attempt();
    if (response.status !== 401) return response;
    if (await refresh()) return attempt();
    return signIn();
  }

  async function signOut(): Promise<void> {
    const { end_session_endpoint } = await endpoints();
    const idToken = tokens?.idToken;
    tokens = undefined;
    if (!end_session_endpoint) return location.assign(`${settings.issuer}/console/`);
    const url = new URL(end_session_endpoint);
    url.search = new URLSearchParams({ client_id: settings.clientId, post_logout_redirect_uri: `${settings.issuer}/console/`, ...(idToken ? { id_token_hint: idToken } : {}) }).toString();
    location.assign(url.toString());
  }

  return {
    signIn,
    finishSignIn,
    signOut,
    send,
    signedIn: () => tokens !== undefined,
    /** `admin` writes; `admin:read` reads; neither: the console refuses. */
    access: (): 'write' | 'read' | 'none' => (tokens?.scopes.has('admin') ? 'write' : tokens?.scopes.has('admin:read') ? 'read' : 'none'),
  };
}

export type ConsoleSession = ReturnType<typeof createSession>;
