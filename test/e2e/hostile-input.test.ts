// Every form and API route of Keyhold's own, fed hostile input: repeated fields (arrays),
// huge values, wrong types, garbage tokens. Each answer is a 4xx with a stable code or a
// normal page, never a 5xx.
import test from 'ava';
import { Browser, parseForms } from '../helpers/browser.ts';
import { accountResourceFor } from '#src/services/resources.ts';
import { atRedirectUri, authorizationRequest, createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
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
      }
    }
  }
});

test('self-service pages never answer 5xx, whatever the query or body', async (t) => {
  const browser = new Browser();
  const gets = ['/verify?token=x', '/verify?token=a.b.c', `/verify?token=${'x'.repeat(5000)}`, '/verify?token=x&token=y', '/verify', '/recovery/reset?token[]=1', '/recovery/reset?token=00000000-0000-0000-0000-000000000000.abc', '/recovery?interaction=%00', '/account/password', '/interaction/%E0%A4%A', '/'];
  for (const path of gets) {
    const response = await browser.request(`${server.issuer}${path}`);
    t.true(response.status < 500, `GET ${path} answered ${response.status}`);
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
