// Health, readiness, metrics, request ids, and hostile input: every bad request gets a 4xx
// with a stable code, never a 5xx or a stack trace.
import test from 'ava';
import { Browser, parseForms } from '../helpers/browser.ts';
import { atRedirectUri, authorizationRequest, discover, registerClient } from '../helpers/oidc.ts';
import { loadConfig } from '#src/config.ts';
import { createKeyhold } from '#src/keyhold.ts';
import { createLogger } from '#src/logger.ts';
import { listen } from '#src/server.ts';
import { createTestDatabase } from '../helpers/infra.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer({ env: { BODY_LIMIT: '2kb' } });
});
test.after.always(async () => {
  await server?.stop();
});

test('/healthz and /readyz report the process and its dependencies', async (t) => {
  const health = await fetch(`${server.issuer}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await health.json(), { status: 'ok' });
  const ready = await fetch(`${server.issuer}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', redis: 'ok' } });
});

test('/metrics serves Prometheus text with request durations', async (t) => {
  await fetch(`${server.issuer}/.well-known/openid-configuration`);
  const response = await fetch(`${server.issuer}/metrics`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /text\/plain/);
  const text = await response.text();
  t.regex(text, /keyhold_http_request_duration_seconds_bucket\{[^}]*route="\/\.well-known"/);
  t.regex(text, /keyhold_process_resident_memory_bytes/);
});

test('METRICS_PORT moves /metrics off the main port; METRICS_TOKEN guards it', async (t) => {
  const database = await createTestDatabase();
  const token = 'metrics-token-0123456789abcdef0123456789';
  const config = loadConfig({
    NODE_ENV: 'test',
    KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    METRICS_TOKEN: token,
    LOG_LEVEL: 'silent',
  });
  const keyhold = await createKeyhold(config, createLogger(config.LOG_LEVEL));
  const running = await listen(keyhold);
  try {
    t.truthy(running.metricsUrl);
    t.not(running.metricsUrl, running.url);
    const onMain = await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    t.is(onMain.status, 404, 'the public port does not serve /metrics at all');
    t.is(((await onMain.json()) as { error: string }).error, 'not_found');
    t.is((await fetch(`${running.url}/healthz`)).status, 200);

    const anonymous = await fetch(`${running.metricsUrl}/metrics`);
    t.is(anonymous.status, 401);
    t.regex(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    t.is((await fetch(`${running.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
    const scraped = await fetch(`${running.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    t.is(scraped.status, 200);
    t.regex(await scraped.text(), /keyhold_http_request_duration_seconds_bucket/);
    t.is((await fetch(`${running.metricsUrl}/healthz`)).status, 404, 'the metrics port serves /metrics alone');
  } finally {
    await running.stop();
    await database.drop();
  }
});

test('METRICS_TOKEN alone guards /metrics on the main port', async (t) => {
  const token = 'metrics-token-0123456789abcdef0123456789';
  const guarded = await startTestServer({ env: { METRICS_TOKEN: token } });
  try {
    const anonymous = await fetch(`${guarded.issuer}/metrics`, { headers: { accept: 'application/json' } });
    t.is(anonymous.status, 401);
    t.is(((await anonymous.json()) as { error: string }).error, 'unauthorized');
    t.is((await fetch(`${guarded.issuer}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    t.is((await fetch(`${guarded.issuer}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  } finally {
    await guarded.stop();
  }
});

test('a well-formed X-Request-Id is echoed; a hostile one is replaced', async (t) => {
  const kept = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'trace-123.abc' } });
  t.is(kept.headers.get('x-request-id'), 'trace-123.abc');
  const replaced = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'x'.repeat(300) } });
  t.regex(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('security headers are set on every response', async (t) => {
  const response = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  t.is(response.headers.get('x-content-type-options'), 'nosniff');
  t.is(response.headers.get('x-frame-options'), 'DENY');
  t.regex(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  t.notRegex(response.headers.get('content-security-policy') ?? '', /form-action/);
});

test('unknown paths are a JSON 404 with a stable code', async (t) => {
  const response = await fetch(`${server.issuer}/no/such/path`, { headers: { accept: 'application/json' } });
  t.is(response.status, 404);
  const body = (await response.json()) as Record<string, unknown>;
  t.is(body.error, 'not_found');
  t.truthy(body.request_id);
});

test('an unknown or expired interaction is a 400 page, not a 500', async (t) => {
  const response = await fetch(`${server.issuer}/interaction/does-not-exist`, { headers: { accept: 'text/html' } });
  t.is(response.status, 400);
  const html = await response.text();
  t.regex(html, /invalid_request/);
  t.notRegex(html, /at .*\.ts:\d+/);
});

test('a form POST with the wrong content type is 415; an oversized one 413', async (t) => {
  const wrongType = await fetch(`${server.issuer}/interaction/abc/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email: 'a@b.c' }),
  });
  t.is(wrongType.status, 415);
  t.is(((await wrongType.json()) as Record<string, unknown>).error, 'unsupported_media_type');

  const oversized = await fetch(`${server.issuer}/interaction/abc/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: `email=${'a'.repeat(10_000)}`,
  });
  t.is(oversized.status, 413);
  t.is(((await oversized.json()) as Record<string, unknown>).error, 'payload_too_large');
});

test('a login POST to a live interaction without its CSRF token is refused with csrf_failed', async (t) => {
  const config = await discover(server, await registerClient(server));
  const browser = new Browser();
  const { url } = await authorizationRequest(config);
  const page = await browser.get(url.toString(), atRedirectUri);
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/login'))!;
  const csrf = form.fields.find((field) => field.name === 'csrf')!.value;
  for (const forged of ['forged', '', csrf.slice(0, -2) + (csrf.endsWith('AA') ? 'BB' : 'AA')]) {
    const response = await browser.request(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ email: 'a@b.c', password: 'x', csrf: forged }).toString(),
    });
    t.is(response.status, 403, `csrf=${forged}`);
    t.is((JSON.parse(response.body) as Record<string, string>).error, 'csrf_failed');
  }
  // The same interaction with its own token gets past the CSRF check (a failed login, 401).
  const genuine = await browser.request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'nobody@example.test', password: 'wrong password', csrf }).toString(),
  });
  t.is(genuine.status, 401);
});

test('the engine answers malformed token requests with 4xx protocol errors', async (t) => {
  // Without client authentication the engine stops at invalid_client; a body it cannot read
  // at all is an invalid_request first.
  const cases: Array<[string, RequestInit, number, string]> = [
    ['garbage form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%%%&&&=' }, 401, 'invalid_client'],
    ['json body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' }, 400, 'invalid_request'],
    ['no body', { method: 'POST' }, 401, 'invalid_client'],
    ['huge body', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=${'x'.repeat(200_000)}` }, 400, 'invalid_request'],
  ];
  for (const [name, init, status, error] of cases) {
    const response = await fetch(`${server.issuer}/token`, init);
    const body = await response.text();
    t.is(response.status, status, `${name}: ${body.slice(0, 200)}`);
    t.is((JSON.parse(body) as Record<string, unknown>).error, error, name);
  }
});

test('POST to the authorization endpoint is answered with a 303 to the same request by GET', async (t) => {
  const response = await fetch(`${server.issuer}/auth`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'c1', response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.test/cb', state: 'a b&c' }),
  });
  t.is(response.status, 303);
  const location = new URL(response.headers.get('location')!, server.issuer);
  t.is(location.pathname, '/auth');
  t.is(location.searchParams.get('state'), 'a b&c');
  t.is(location.searchParams.get('client_id'), 'c1');
});
