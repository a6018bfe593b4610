// Every form and API route of Keyhold's own, fed hostile input: repeated fields (arrays),
// huge values, wrong types, garbage tokens. Each answer is a 4xx with a stable code or a
// normal page, never a 5xx.
import test, { type ExecutionContext } from 'ava';
import { message } from '#src/messages/index.ts';
import { accountResourceFor } from '#src/services/resources.ts';
import { Browser, parseForms } from '../helpers/browser.ts';
import { atRedirectUri, authorizationRequest, createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
// Engine state in SQL (jsonb cannot hold U+0000) as well as in Redis.
let sqlStateServer: TestServer;
test.before(async () => {
  [server, sqlStateServer] = await Promise.all([startTestServer(), startTestServer({ redis: false })]);
});
test.after.always(async () => {
  await Promise.all([server?.stop(), sqlStateServer?.stop()]);
});

const hostileBodies = [
  'email=a&email=b&password=x&password=y&name=n&name=m&code=1&code=2&flow=f&flow=g&token=t&token=u',
  `email=${'a'.repeat(5000)}@x&password=${'p'.repeat(5000)}&name=${'n'.repeat(3000)}&code=${'9'.repeat(100)}&flow=${'f'.repeat(100)}&token=${'t'.repeat(1000)}`,
  'email[]=a&password[a]=b&code[]=1&flow[x]=1&token[]=x&current_password[]=x&keep_other_sessions[]=on',
  '%ZZ%&=&&==&email',
  'email=%00%01%02&password=%F0%9F%92%A9&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
];

test('form routes under an interaction never answer 5xx, whatever the body', async (t) => {
  const config = await discover(server, await registerClient(server));
  const browser = new Browser();
  const { url } = await authorizationRequest(config, { prompt: 'create' });
  const page = await browser.get(url.toString(), atRedirectUri);
  const csrf = parseForms(page.body, page.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
  const uid = /\/interaction\/([^/]+)\/register/.exec(page.url)![1]!;
  const paths = ['login', 'verify-email', 'verify-email/resend', 'confirm', 'abort', 'register', 'register/confirm', 'register/resend', 'verify-link'];
  for (const path of paths) {
    for (const body of hostileBodies) {
      for (const withCsrf of [false, true]) {
        const response = await browser.request(`${server.issuer}/interaction/${uid}/${path}`, {
          method: 'POST',
          body: withCsrf ? `csrf=${encodeURIComponent(csrf)}&${body}` : body,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        t.true(response.status < 500, `${path} answered ${response.status} to ${body.slice(0, 40)}: ${response.body.slice(0, 200)}`);
        // Without its token a POST is refused by the CSRF check (403), unless the edge already
        // refused a control character in the body (400).
        if (!withCsrf) t.is(response.status, body.includes('%00') ? 400 : 403, `${path} without CSRF, body ${body.slice(0, 40)}`);
      }
    }
  }
});

test('self-service pages never answer 5xx, whatever the query or body', async (t) => {
  const browser = new Browser();
  // Each bad link or parameter is a 400 page; the change-password page without a session a 401.
  const gets: Array<[string, number]> = [
    ['/verify?token=x', 400],
    ['/verify?token=a.b.c', 400],
    [`/verify?token=${'x'.repeat(5000)}`, 400],
    ['/verify?token=x&token=y', 400],
    ['/verify', 400],
    ['/recovery/reset?token[]=1', 400],
    ['/recovery/reset?token=00000000-0000-0000-0000-000000000000.abc', 400],
    ['/recovery?interaction=%00', 400],
    ['/account/password', 401],
    ['/interaction/%E0%A4%A', 400],
    ['/', 200],
  ];
  for (const [path, status] of gets) {
    const response = await browser.request(`${server.issuer}${path}`);
    t.is(response.status, status, `GET ${path.slice(0, 60)}`);
  }
  const recovery = await browser.get(`${server.issuer}/recovery`);
  const csrf = parseForms(recovery.body, recovery.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
  for (const path of ['/verify', '/recovery', '/recovery/reset', '/account/password']) {
    for (const body of hostileBodies) {
      const response = await browser.request(`${server.issuer}${path}`, { method: 'POST', body: `csrf=${encodeURIComponent(csrf)}&${body}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.true(response.status < 500, `POST ${path} answered ${response.status} to ${body.slice(0, 40)}`);
    }
  }
});

test('the Account API never answers 5xx to malformed requests; with a valid token they reach the parser and get a body error', async (t) => {
  // A first-party client and a real token: the bodies must get past authentication, or the
  // parser would never see them.
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const user = await createUser(server);
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' });
  const bodies = ['{"email": ["a"]}', '[]', 'null', '"x"', '{"current_password": {}, "new_password": 1}', '{'.repeat(1000), '{"__proto__": {"admin": true}}'];
  const routes = [['PATCH', '/api/account'], ['POST', '/api/account/password'], ['POST', '/api/account/email'], ['POST', '/api/account/email/verify'], ['DELETE', '/api/account']] as const;
  for (const [method, path] of routes) {
    for (const body of bodies) {
      const response = await fetch(`${server.issuer}${path}`, { method, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.access_token}` } });
      t.regex(response.headers.get('content-type') ?? '', /json/);
      const answer = (await response.json()) as Record<string, unknown>;
      t.is(response.status, 400, `${method} ${path} answered ${response.status} to ${body.slice(0, 30)}`);
      t.true(['invalid_body', 'validation_failed'].includes(String(answer.error)), `${method} ${path}: ${String(answer.error)}`);
    }
    // Without a usable token nothing is parsed: 401 whatever the body.
    const anonymous = await fetch(`${server.issuer}${path}`, { method, body: '{', headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' } });
    t.is(anonymous.status, 401);
  }
});

function refusedAsInvalidRequest(t: ExecutionContext, response: { status: number; body: string }, what: string): void {
  t.is(response.status, 400, `${what} answered ${response.status}: ${response.body.slice(0, 200)}`);
  t.true(response.body.includes('invalid_request'), `${what}: ${response.body.slice(0, 200)}`);
}

for (const mode of ['redis', 'sql'] as const) {
  test(`control characters in authorization parameters are refused with invalid_request (engine state in ${mode})`, async (t) => {
    const target = mode === 'redis' ? server : sqlStateServer;
    const config = await discover(target, await registerClient(target));
    for (const [name, value] of [['ui_locales', '\0'], ['login_hint', 'a\0b@example.test'], ['state', 'x\0'], ['nonce', '\0'], ['claims_locales', 'en\0'], ['acr_values', '\0'], ['client_id', '\0'], ['ui_locales', 'en\u0007'], ['login_hint', 'a\u007f']]) {
      const { url } = await authorizationRequest(config, { [name]: value });
      const response = await new Browser().request(url.toString());
      refusedAsInvalidRequest(t, response, `${name}=${JSON.stringify(value)}`);
    }
    // The same request sent as a form POST to the authorization endpoint.
    const { url } = await authorizationRequest(config, { ui_locales: '\0' });
    const posted = await new Browser().request(`${target.issuer}/auth`, { method: 'POST', body: url.searchParams.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    refusedAsInvalidRequest(t, posted, 'POST /auth');
    // Nothing else is refused: a pretty-printed claims parameter keeps its line breaks.
    const { url: fine } = await authorizationRequest(config, { claims: '{\n  "userinfo": { "email": null }\n}' });
    t.is((await new Browser().request(fine.toString())).status, 303);
  });

  test(`a NUL in a client_id sent to the engine is a client error, not a 500 (engine state in ${mode})`, async (t) => {
    const target = mode === 'redis' ? server : sqlStateServer;
    const response = await fetch(`${target.issuer}/token`, { method: 'POST', body: 'grant_type=client_credentials&client_id=%00&client_secret=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.is(response.status, 401);
    t.is(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  test(`control characters in registration fields are refused with invalid_request (engine state in ${mode})`, async (t) => {
    const target = mode === 'redis' ? server : sqlStateServer;
    const config = await discover(target, await registerClient(target));
    for (const fields of <Array<Record<string, string>>>[{ name: 'Ada\0' }, { name: 'Ada\nBcc: x' }, { name: 'Ada\tLovelace' }, { email: 'ada\0@example.test' }, { invitation: '\0' }, { password: 'pass\0word long enough' }]) {
      const browser = new Browser();
      const { url } = await authorizationRequest(config, { prompt: 'create' });
      const page = await browser.get(url.toString(), atRedirectUri);
      const csrf = parseForms(page.body, page.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
      const body = new URLSearchParams({ csrf, email: `reg-${Math.random().toString(16).slice(2)}@example.test`, password: 'a perfectly fine passphrase', name: 'Ada', ...fields });
      const response = await browser.request(page.url, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      if (Object.values(fields).some((value) => value.includes('\0'))) refusedAsInvalidRequest(t, response, JSON.stringify(fields));
      else {
        // Other controls pass the edge; the form's schema refuses them, and the form comes
        // back (400) saying which field.
        t.is(response.status, 400, JSON.stringify(fields));
        t.true(response.body.includes(`${message('form.label.name')}: ${message('validation.control_characters')}`), response.body.slice(0, 400));
      }
    }
  });
}

test('control characters in Account API bodies and query strings are refused with a stable code', async (t) => {
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const user = await createUser(server);
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.issuer}${path}`, { method, headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { error: string; issues?: Array<{ path: string }> } };
  };
  for (const body of [{ name: 'Ada\0' }, { given_name: '\0' }, { family_name: 'x\u0000y' }, { locale: 'en\0' }, { zoneinfo: 'UTC\0' }, { family_name: '\u001b[31m' }, { '\0': 'x' }]) {
    const response = await call('PATCH', '/api/account', body);
    t.is(response.status, 400, JSON.stringify(body));
    t.is(response.body.error, 'invalid_request', JSON.stringify(body));
  }
  for (const [field, value] of [['name', 'Ada\r\nLovelace'], ['given_name', 'A\tda'], ['family_name', 'Love\nlace']]) {
    const response = await call('PATCH', '/api/account', { [field]: value });
    t.is(response.status, 400, field);
    t.is(response.body.error, 'validation_failed');
    t.is(response.body.issues?.[0]?.path, field);
  }
  for (const [method, path, body] of [['POST', '/api/account/email', { email: 'a\0@example.test' }], ['POST', '/api/account/password', { current_password: user.password, new_password: 'new\0 passphrase here' }], ['POST', '/api/account/email/verify', { flow_id: '00000000-0000-4000-8000-000000000000', code: '\0' }], ['GET', '/api/account?x=%00', undefined]] as const) {
    const response = await call(method, path, body);
    t.is(response.status, 400, path);
    t.is(response.body.error, 'invalid_request', path);
  }
  const profile = await call('GET', '/api/account');
  t.is(profile.status, 200);
  t.is((profile.body as { name?: string }).name, 'Test User', 'the profile is unchanged');
});

test('control characters in self-service pages are refused with the error page', async (t) => {
  const browser = new Browser();
  for (const path of ['/verify?token=%00', '/recovery/reset?token=a%00b', '/recovery?interaction=%00', '/interaction/%00/login']) {
    refusedAsInvalidRequest(t, await browser.request(`${server.issuer}${path}`), `GET ${path}`);
  }
  const recovery = await browser.get(`${server.issuer}/recovery`);
  const csrf = parseForms(recovery.body, recovery.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
  for (const path of ['/verify', '/recovery', '/recovery/reset', '/account/password']) {
    const response = await browser.request(`${server.issuer}${path}`, { method: 'POST', body: `csrf=${encodeURIComponent(csrf)}&email=a%00%40example.test&token=%00&password=x%00y`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    refusedAsInvalidRequest(t, response, `POST ${path}`);
    t.regex(response.headers.get('content-type') ?? '', /html/);
  }
});
