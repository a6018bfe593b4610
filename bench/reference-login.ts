// The bare engine's password sign-in, the reference for Keyhold's password logins: about
// the least an application on oidc-provider does to sign a user in through an HTML form.
// GET /interaction/<uid> renders the form; POST /interaction/<uid>/login reads it, finds the
// one in-memory user by email, does one argon2id verify (of a hash the bench made at
// Keyhold's parameters), and finishes the interaction with the login and a grant of the
// requested OpenID scopes, as a first-party client gets it (so no consent interaction).
// Whatever Keyhold adds (accounts in a database, CSRF, rate limits, the hashing queue,
// MFA and step-up checks, audit, session bookkeeping) is absent by design: what remains is
// the engine's work, the HTTP round trips and the argon2id verify.
import type { IncomingMessage, ServerResponse } from 'node:http';
import argon2 from 'argon2';
import type Provider from 'oidc-provider';

export interface ReferenceLoginUser {
  accountId: string;
  email: string;
  /** An argon2id PHC string. */
  passwordHash: string;
}

// The engine's interaction uids are URL-safe (nanoid), so they go into the page unescaped.
const INTERACTION_PATH = /^\/interaction\/([\w-]+)(\/login)?$/;

const loginPage = (uid: string) =>
  `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}/login"><input type="email" name="email"><input type="password" name="password"><button>Sign in</button></form>`;

function send(res: ServerResponse, status: number, body: string, contentType = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function answer(provider: Provider, user: ReferenceLoginUser, req: IncomingMessage, res: ServerResponse, uid: string, isLogin: boolean) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid || details.prompt.name !== 'login') return send(res, 400, `unexpected interaction ${details.uid} (prompt ${details.prompt.name})`, 'text/plain');
  if (!isLogin) return send(res, 200, loginPage(uid));

  const form = await readForm(req);
  const valid = form.get('email') === user.email && (await argon2.verify(user.passwordHash, form.get('password') ?? ''));
  if (!valid) return send(res, 401, loginPage(uid));
  const grant = new provider.Grant({ accountId: user.accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: user.accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

/**
 * The interaction routes in front of the engine: handles (and returns true for) GET
 * /interaction/<uid> and POST /interaction/<uid>/login; anything else is the engine's.
 */
export function referenceLogin(provider: Provider, user: ReferenceLoginUser) {
  return function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const match = INTERACTION_PATH.exec(new URL(req.url ?? '/', 'http://reference').pathname);
    const isLogin = Boolean(match?.[2]);
    if (!match || req.method !== (isLogin ? 'POST' : 'GET')) return false;
    answer(provider, user, req, res, match[1]!, isLogin).catch((error: unknown) => {
      // The bench's flow fails on any page but the redirect, and shows this body.
      if (!res.headersSent) send(res, 500, `reference login failed: ${error instanceof Error ? error.message : String(error)}`, 'text/plain');
      else res.destroy();
    });
    return true;
  };
}
