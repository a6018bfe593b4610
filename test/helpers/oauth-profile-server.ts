// A small OAuth 2.0 provider with a GitHub-style profile API, on a random loopback port, for
// the OAuth-only connector types: /login/oauth/authorize (answers at once for the signed-in
// user), /login/oauth/access_token (client secret and PKCE checked), /api/v3/user and
// /api/v3/user/emails. It is what a GitHub Enterprise Server looks like to Keyhold.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProfileUser {
  id: number;
  login: string;
  name?: string;
  emails: Array<{ email: string; primary: boolean; verified: boolean }>;
}

export interface OAuthProfileServer {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  signIn(user: ProfileUser): void;
  stop(): Promise<void>;
}

const readBody = async (request: import('node:http').IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
};

export async function startOAuthProfileServer(): Promise<OAuthProfileServer> {
  const clientId = 'gh-client';
  const clientSecret = 'gh-secret-0123456789abcdefghijklmnopqrstuvwxyzABCD';
  let current: ProfileUser | undefined;
  const codes = new Map<string, { user: ProfileUser; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, ProfileUser>();

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://local');
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/login/oauth/authorize') {
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      if (url.searchParams.get('client_id') !== clientId || !current || url.searchParams.get('code_challenge_method') !== 'S256') return json(400, { error: 'invalid_request' });
      const code = randomBytes(16).toString('hex');
      codes.set(code, { user: current, challenge: url.searchParams.get('code_challenge') ?? '', redirectUri: redirect.toString() });
      redirect.searchParams.set('code', code);
      redirect.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: redirect.toString() });
      return response.end();
    }
    if (url.pathname === '/login/oauth/access_token' && request.method === 'POST') {
      const form = await readBody(request);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!grant || form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret || challenge !== grant.challenge || form.get('redirect_uri') !== grant.redirectUri) {
        return json(400, { error: 'bad_verification_code' });
      }
      const token = randomBytes(16).toString('hex');
      tokens.set(token, grant.user);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const user = tokens.get((request.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!user) return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/api/v3/user') return json(200, { id: user.id, login: user.login, name: user.name ?? null, email: null });
    if (url.pathname === '/api/v3/user/emails') return json(200, user.emails.map((entry) => ({ ...entry, visibility: null })));
    return json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clientId,
    clientSecret,
    signIn(user) {
      current = user;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
