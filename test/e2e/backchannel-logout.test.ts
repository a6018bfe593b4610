// OpenID Connect Back-Channel Logout 1.0: on logout the OP POSTs a signed logout token to
// each signed-in client's backchannel_logout_uri. The receiver here is a real HTTP server on
// loopback, which Keyhold reaches only while ALLOW_LOOPBACK_REQUESTS is on (the default for
// a loopback issuer such as the test server's).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser } from '../helpers/browser.ts';
import { signInNewUser, silentAuthorization } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const POST_LOGOUT_URI = 'https://app.example.test/logged-out';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  uri: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  const receiver: Receiver = {
    uri: '',
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`;
  return receiver;
}

/** Signs a user in for a client that registered `receiver` as its back-channel logout URI. */
async function signedInWithBackchannel(server: TestServer, receiver: Receiver) {
  const { client, user, config, tokens, browser } = await signInNewUser(server, {
    client: { backchannel_logout_uri: receiver.uri, backchannel_logout_session_required: true },
  });
  if (client.metadata.backchannel_logout_uri !== receiver.uri) throw new Error('backchannel_logout_uri not stored');
  const idToken = tokens.id_token!;
  return { client, user, config, browser, idToken, idTokenClaims: tokens.claims()! };
}

/** RP-initiated logout with id_token_hint, confirmed with logout=yes; returns the final redirect. */
async function logout(config: oidc.Configuration, browser: Browser, idToken: string, state: string): Promise<URL> {
  const url = new URL(config.serverMetadata().end_session_endpoint!);
  url.searchParams.set('id_token_hint', idToken);
  url.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_URI);
  url.searchParams.set('state', state);
  const page = await browser.get(url.toString());
  if (page.status !== 200) throw new Error(`logout page: ${page.status}\n${page.body.slice(0, 500)}`);
  const confirmed = await browser.submit(page, /\/session\/end\/confirm$/, {}, { button: 'logout', follow: false });
  if (confirmed.status !== 303) throw new Error(`logout confirm: ${confirmed.status}\n${confirmed.body.slice(0, 500)}`);
  return new URL(confirmed.headers.get('location')!);
}

async function assertLoginRequired(t: ExecutionContext, config: oidc.Configuration, browser: Browser) {
  const callback = await silentAuthorization(config, browser, { state: 'after-logout' });
  t.is(callback.searchParams.get('error'), 'login_required');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

test('oidcc-backchannel-rp-initiated-logout: logout token POSTed to backchannel_logout_uri, signed, with sub, sid, events, no nonce', async (t) => {
  const server = await startTestServer();
  const receiver = await startReceiver();
  t.teardown(async () => {
    await receiver.close();
    await server.stop();
  });
  t.true(server.keyhold.config.ALLOW_LOOPBACK_REQUESTS, 'loopback issuer turns loopback requests on by default');
  const metadataResponse = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  const metadata = (await metadataResponse.json()) as Record<string, unknown>;
  t.is(metadata.backchannel_logout_supported, true);
  t.is(metadata.backchannel_logout_session_supported, true);

  const { client, user, config, browser, idToken, idTokenClaims } = await signedInWithBackchannel(server, receiver);
  t.is(typeof idTokenClaims.sid, 'string', 'the ID token carries sid for a client that requires it');
  t.is(receiver.requests.length, 0);

  const successes: unknown[] = [];
  const failures: unknown[] = [];
  server.keyhold.engine.provider.on('backchannel.success', (_ctx, c) => successes.push(c));
  server.keyhold.engine.provider.on('backchannel.error', (_ctx, error) => failures.push(error));

  const redirect = await logout(config, browser, idToken, 'bc-state');
  t.is(`${redirect.origin}${redirect.pathname}`, POST_LOGOUT_URI);
  t.is(redirect.searchParams.get('state'), 'bc-state');

  t.true(await waitFor(() => receiver.requests.length > 0, 3000), 'a logout token reached the receiver');
  t.deepEqual(failures, []);
  t.is(successes.length, 1);
  t.is(receiver.requests.length, 1, 'exactly one delivery');
  const [delivery] = receiver.requests;
  t.is(delivery!.method, 'POST');
  t.is(delivery!.url, '/backchannel-logout');
  t.regex(String(delivery!.headers['content-type']), /^application\/x-www-form-urlencoded/);
  const form = new URLSearchParams(delivery!.body);
  t.deepEqual([...form.keys()], ['logout_token']);
  const logoutToken = form.get('logout_token')!;

  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const { payload, protectedHeader } = await jwtVerify(logoutToken, jwks, {
    issuer: server.issuer,
    audience: client.clientId,
    typ: 'logout+jwt',
    algorithms: ['RS256'],
  });
  t.is(protectedHeader.alg, 'RS256');
  t.is(typeof protectedHeader.kid, 'string');
  t.is(decodeProtectedHeader(logoutToken).kid, decodeProtectedHeader(idToken).kid);
  t.is(payload.iss, server.issuer);
  t.is(payload.aud, client.clientId);
  t.is(typeof payload.iat, 'number');
  t.true(Math.abs(payload.iat! - Date.now() / 1000) < 60, 'iat is now');
  t.is(typeof payload.exp, 'number');
  t.true(payload.exp! > payload.iat!);
  t.is(typeof payload.jti, 'string');
  t.true(payload.jti!.length >= 16);
  t.is(payload.sub, user.id);
  t.is(payload.sid, idTokenClaims.sid);
  t.deepEqual(payload.events, { [BACKCHANNEL_EVENT]: {} });
  t.false('nonce' in payload, 'a logout token must not contain a nonce');

  await assertLoginRequired(t, config, browser);
});

test('with ALLOW_LOOPBACK_REQUESTS=false nothing is delivered to a loopback receiver, and logout still completes', async (t) => {
  const server = await startTestServer({ env: { ALLOW_LOOPBACK_REQUESTS: 'false' } });
  const receiver = await startReceiver();
  t.teardown(async () => {
    await receiver.close();
    await server.stop();
  });
  t.false(server.keyhold.config.ALLOW_LOOPBACK_REQUESTS);

  const { config, browser, idToken } = await signedInWithBackchannel(server, receiver);
  const failures: Error[] = [];
  const successes: unknown[] = [];
  server.keyhold.engine.provider.on('backchannel.error', (_ctx, error) => failures.push(error as Error));
  server.keyhold.engine.provider.on('backchannel.success', (_ctx, c) => successes.push(c));

  const redirect = await logout(config, browser, idToken, 'blocked-state');
  t.is(`${redirect.origin}${redirect.pathname}`, POST_LOGOUT_URI);
  t.is(redirect.searchParams.get('state'), 'blocked-state');

  // The engine did try (so the test is not vacuous) and its guard stopped it.
  t.true(await waitFor(() => failures.length > 0, 3000), 'the engine attempted the delivery');
  t.is(successes.length, 0);
  const causes: string[] = [];
  for (let error: unknown = failures[0]; error instanceof Error; error = error.cause) causes.push(error.message);
  t.true(causes.some((message) => /special-use IP address/.test(message)), causes.join(' <- '));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(receiver.requests.length, 0, 'no request reached the receiver');

  await assertLoginRequired(t, config, browser);
});
