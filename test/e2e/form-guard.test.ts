// The form side of the route guard (src/http/form.ts): a form's body is checked by a zod
// schema and a refusal re-renders the form with its field errors (400), never the error page
// nor a 500; and a JSON route and a form refuse the same input with the same issue paths.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import test from 'ava';
import Koa from 'koa';
import { z } from 'zod';
import { readForm } from '#src/http/form.ts';
import { defineRoute, mountRoutes } from '#src/http/route.ts';
import { message } from '#src/messages/index.ts';
import { formBody } from '#src/middleware/body.ts';
import { errorHandler } from '#src/middleware/errors.ts';
import { singleLineText } from '#src/text-input.ts';
import { Browser, parseForms } from '../helpers/browser.ts';
import { alerts, alertText, fieldValue } from '../helpers/page.ts';
import { atRedirectUri, authorizationRequest, discover, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

/** prompt=create: the registration page of a fresh browser, and a poster of raw bodies to it (with its CSRF token). */
async function registrationPage() {
  const config = await discover(server, await registerClient(server));
  const browser = new Browser();
  const { url } = await authorizationRequest(config, { prompt: 'create' });
  const page = await browser.get(url.toString(), atRedirectUri);
  const csrf = parseForms(page.body, page.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
  const post = (path: string, body: string) =>
    browser.request(page.url.replace(/\/register$/, path), { method: 'POST', body: `csrf=${encodeURIComponent(csrf)}&${body}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { page, post };
}

test('a form with a bad field comes back with that field error, the typed values kept, and 400', async (t) => {
  const { post } = await registrationPage();
  const refused = await post('/register', `email=ada%40example.test&password=a+perfectly+fine+passphrase&name=${'n'.repeat(1001)}`);
  t.is(refused.status, 400);
  t.deepEqual(alerts(refused), [message('validation.field', { label: message('form.label.name'), problem: message('validation.at_most', { max: 1000 }) })]);
  t.is(fieldValue(refused, /\/register$/, 'email'), 'ada@example.test');
  t.truthy(fieldValue(refused, /\/register$/, 'csrf'), 'the form can be sent again');
});

test('a repeated field (an array) gets a field error, not a 500 or the error page', async (t) => {
  const { post } = await registrationPage();
  const refused = await post('/register', 'email=a%40example.test&email=b%40example.test&password=a+perfectly+fine+passphrase');
  t.is(refused.status, 400);
  t.deepEqual(alerts(refused), [message('validation.field', { label: message('form.label.email'), problem: message('validation.invalid') })]);
  // The code form answers a repeated code like a wrong one, on its own page.
  const code = await post('/register/confirm', 'flow=f&code=1&code=2');
  t.is(code.status, 400);
  t.is(alertText(code), message('page.code.invalid'));
  // The login form says no more than "invalid email or password".
  const login = await post('/login', 'email=a%40example.test&password=x&password=y');
  t.is(login.status, 400);
  t.is(alertText(login), message('page.login.invalid_credentials'));
});

test('a JSON route and a form refuse the same input with the same issue paths', async (t) => {
  const schema = z.object({ email: singleLineText(20), tags: z.array(z.string().max(3)).max(2), age: z.coerce.number().int() });
  const router = new Router();
  mountRoutes(router, [defineRoute({ method: 'post', path: '/json', operationId: 'json', summary: 'json', body: schema, success: { status: 204, description: 'ok' }, handle: () => undefined })], { bodyLimit: '10kb', authenticators: {}, checkResponses: true });
  router.post('/form', formBody('10kb'), (ctx) => {
    const posted = readForm(ctx, schema);
    ctx.body = posted.ok ? { ok: true } : { issues: posted.issues, fieldErrors: posted.fieldErrors };
  });
  const app = new Koa().use(errorHandler()).use(router.routes());
  const listener = app.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  t.teardown(() => listener.close());
  const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;

  const json = await fetch(`${base}/json`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ email: 'x'.repeat(30), tags: ['a', 'long one'], age: 'old' }) });
  t.is(json.status, 400);
  const jsonIssues = ((await json.json()) as { issues: Array<{ path: string; message: string }> }).issues;
  const form = await fetch(`${base}/form`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${'x'.repeat(30)}&tags=a&tags=long+one&age=old` });
  const formAnswer = (await form.json()) as { issues: Array<{ path: string; message: string }>; fieldErrors: Record<string, string> };
  const paths = (issues: Array<{ path: string }>) => issues.map((issue) => issue.path).sort();
  t.deepEqual(paths(jsonIssues), ['age', 'email', 'tags.1']);
  t.deepEqual(paths(formAnswer.issues), paths(jsonIssues));
  // Same texts too, from the catalogue; a form keys them by field.
  t.deepEqual(formAnswer.issues.sort((a, b) => a.path.localeCompare(b.path)), jsonIssues.sort((a, b) => a.path.localeCompare(b.path)));
  t.is(formAnswer.fieldErrors.email, message('validation.at_most', { max: 20 }));
  t.is(formAnswer.fieldErrors.tags, message('validation.at_most', { max: 3 }));
});
