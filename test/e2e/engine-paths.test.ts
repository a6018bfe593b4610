// The engine's machine endpoints skip Keyhold's page routers but keep what every response
// owes: security headers, a request id, metrics by route, and CORS only for the client's
// own registered web origins.
import test from 'ava';
import { registerClient, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer({ redis: false });
});
test.after.always(async () => {
  await server?.stop();
});

const securityHeaderNames = ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'x-request-id'];

test('token, introspection, revocation, userinfo and jwks answers carry the security headers', async (t) => {
  const client = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], post_logout_redirect_uris: [] });
  const issued = await tokenRequest(server, client, { grant_type: 'client_credentials' });
  t.is(issued.status, 200);
  const responses = await Promise.all([
    fetch(`${server.issuer}/jwks`),
    fetch(`${server.issuer}/me`, { headers: { authorization: 'Bearer nope' } }),
    fetch(`${server.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }),
    fetch(`${server.issuer}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' }),
    fetch(`${server.issuer}/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' }),
  ]);
  for (const response of responses) {
    for (const name of securityHeaderNames) t.truthy(response.headers.get(name), `${response.url}: ${name}`);
    await response.arrayBuffer();
  }
  t.is(responses[0]!.status, 200);
  t.is(responses[1]!.status, 401);
  // No client authentication: invalid_client with a challenge (RFC 6749 §5.2), not invalid_request.
  t.is(responses[2]!.status, 401);
  t.is(responses[3]!.status, 401);
});

test('CORS at the token endpoint: the client\'s registered origin only', async (t) => {
  const client = await registerClient(server, { token_endpoint_auth_method: 'none', redirect_uris: ['https://spa.example.test/cb'] });
  const preflight = (origin: string) =>
    fetch(`${server.issuer}/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  const token = (origin: string) =>
    fetch(`${server.issuer}/token`, { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', client_id: client.clientId, redirect_uri: 'https://spa.example.test/cb', code_verifier: 'x'.repeat(43) }) });
  t.is((await preflight('https://spa.example.test')).headers.get('access-control-allow-origin'), 'https://spa.example.test');
  const allowed = await token('https://spa.example.test');
  t.is(allowed.headers.get('access-control-allow-origin'), 'https://spa.example.test');
  const other = await token('https://evil.example.test');
  t.is(other.headers.get('access-control-allow-origin'), null);
  await allowed.arrayBuffer();
  await other.arrayBuffer();
});

test('engine requests are counted under their route in /metrics', async (t) => {
  await (await fetch(`${server.issuer}/jwks`)).arrayBuffer();
  const metrics = await (await fetch(`${server.issuer}/metrics`)).text();
  t.regex(metrics, /keyhold_http_request_duration_seconds_count\{route="\/jwks",method="GET",status="200"\} [1-9]/);
});

test('control characters in an engine URL are refused with invalid_request', async (t) => {
  const response = await fetch(`${server.issuer}/jwks?x=%00`, { headers: { accept: 'application/json' } });
  t.is(response.status, 400);
  t.is(((await response.json()) as { error: string }).error, 'invalid_request');
});
