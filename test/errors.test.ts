// The error registry and the message catalogue: every code has its text, every key the
// code names exists, and what services throw reaches HTTP with the registry's status and
// the catalogue's text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { errorCodes, errorRegistry, isKeyholdError, KeyholdError } from '#src/errors.ts';
import { en } from '#src/messages/en.ts';
import { formatMessage, isMessageKey, message } from '#src/messages/index.ts';
import { accountResourceFor } from '#src/services/resources.ts';
import { createUser, discover, login, registerClient } from './helpers/oidc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const srcDir = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const sources = sourceFiles(srcDir).map((path) => ({ path: path.slice(srcDir.length + 1), text: readFileSync(path, 'utf8') }));

/** Every match of `pattern`'s first group across src/, with the file it is in. */
function usesOf(pattern: RegExp): Array<{ path: string; value: string }> {
  return sources.flatMap(({ path, text }) => [...text.matchAll(pattern)].map((match) => ({ path, value: match[1]! })));
}

test('every registry code has a status and a catalogue text', (t) => {
  t.true(errorCodes.length > 0);
  for (const code of errorCodes) {
    const { status, key } = errorRegistry[code];
    t.true(Number.isInteger(status) && status >= 400 && status < 600, `${code}: status ${status}`);
    t.true(isMessageKey(key), `${code}: no catalogue entry ${key}`);
    t.true(en[key].length > 0, `${code}: empty text`);
    t.is(new KeyholdError(code).status, status);
  }
});

test('every code thrown in src/ is in the registry', (t) => {
  const thrown = usesOf(/new KeyholdError\(\s*'([^']+)'/g);
  t.true(thrown.length > 20, 'the scan finds the throw sites');
  for (const { path, value } of thrown) t.true(value in errorRegistry, `${path}: unknown code ${value}`);
  for (const { path, value } of usesOf(/isKeyholdError\([^)]*?'([a-z_]+)'/g)) t.true(value in errorRegistry, `${path}: unknown code ${value}`);
});

test('every catalogue key named in src/ exists', (t) => {
  // Keys passed to message(), as an error's key, as a one-off page or as a link label.
  // (Keys built from template literals are checked by the compiler: MessageKey is a closed union.)
  const named = usesOf(/(?:message\(|key: |pages\.message\(ctx, |label: )'([a-z_]+\.[a-z_.]+)'/g);
  t.true(named.length > 20, 'the scan finds the keys');
  // A one-off page (pages.message) is named by the prefix of its .title and .message keys.
  const known = (key: string) => isMessageKey(key) || (isMessageKey(`${key}.title`) && isMessageKey(`${key}.message`));
  for (const { path, value } of named) t.true(known(value), `${path}: no catalogue entry ${value}`);
});

test('no service or route throws a plain Error class of its own any more', (t) => {
  for (const { path, text } of sources) {
    if (!path.startsWith('services/') && !path.startsWith('routes/')) continue;
    // MailError guards the mail templates against programming mistakes; it never reaches a person.
    const own = [...text.matchAll(/class (\w+Error) extends Error/g)].map((match) => match[1]).filter((name) => name !== 'MailError');
    t.deepEqual(own, [], path);
  }
});

test('message() fills placeholders and leaves unknown ones visible', (t) => {
  t.is(message('error.unknown_role', { name: 'auditor' }), 'no role named auditor (create it with "keyhold role create")');
  t.is(message('page.login.too_many_attempts', { retryAfterMinutes: 3 }), 'Too many failed attempts. Try again in 3 minute(s).');
  t.is(formatMessage('{a} and {b}', { a: 1 }), '1 and {b}');
  t.is(message('page.login.title', {}, ['de-CH', 'en-GB']), 'Anmelden');
  t.is(message('page.login.title', {}, ['fr-CH', 'en-GB']), 'Sign in');
  // A key the German catalogue leaves out (a developer's text) is answered in English.
  t.is(message('error.invalid_client_metadata.not_object', {}, ['de']), 'client metadata must be a JSON object');
  const error = new KeyholdError('rate_limited', { key: 'error.rate_limited.wait', params: { retryAfterSeconds: 42 }, headers: { 'Retry-After': '42' } });
  t.is(error.message, 'Please wait 42 seconds before asking again.');
  t.is(error.status, 429);
  t.true(isKeyholdError(error, 'rate_limited'));
  t.false(isKeyholdError(error, 'invalid_code'));
  t.false(isKeyholdError(new Error('x')));
});

let server: TestServer | undefined;
test.after.always(async () => {
  await server?.stop();
});

test('errors thrown in services answer over HTTP with the registry status and the catalogue text', async (t) => {
  server = await startTestServer();
  const client = await registerClient(server, { first_party: true });
  const config: oidc.Configuration = await discover(server, client);
  const user = await createUser(server);
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' });
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${server!.issuer}${path}`, {
      method: 'POST',
      headers: { accept: 'application/json', authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
  };

  // services/credentials.ts: a wrong current password.
  const wrong = await call('/api/account/password', { current_password: 'not-the-password', new_password: 'a fresh and long passphrase 81' });
  t.is(wrong.status, errorRegistry.invalid_password.status);
  t.is(wrong.body.error, 'invalid_password');
  t.is(wrong.body.error_description, en['error.invalid_password.current']);
  t.truthy(wrong.body.request_id);

  // services/lifecycle.ts: a rejected password, with its violations as a field.
  const weak = await call('/api/account/password', { current_password: user.password, new_password: 'short' });
  t.is(weak.status, errorRegistry.password_rejected.status);
  t.is(weak.body.error, 'password_rejected');
  t.deepEqual(
    weak.body.violations.map((violation: { code: string }) => violation.code),
    ['too_short'],
  );
  t.is(weak.body.error_description, weak.body.violations[0].message);

  // services/email-change.ts: the same address, then a second request inside the cool-down.
  const same = await call('/api/account/email', { email: user.email, password: user.password });
  t.is(same.status, errorRegistry.invalid_email.status);
  t.is(same.body.error_description, en['error.invalid_email.unchanged']);
  const first = await call('/api/account/email', { email: `moved-${Date.now()}@example.test`, password: user.password });
  t.is(first.status, 202, JSON.stringify(first.body));
  const again = await call('/api/account/email', { email: `again-${Date.now()}@example.test`, password: user.password });
  t.is(again.status, errorRegistry.rate_limited.status);
  t.is(again.body.error, 'rate_limited');
  t.regex(again.headers.get('retry-after') ?? '', /^\d+$/);
  t.is(again.body.error_description, message('error.rate_limited.wait', { retryAfterSeconds: again.headers.get('retry-after')! }));

  // services/flows.ts: a code for another flow is invalid_code, with the reason as a field.
  const code = await call('/api/account/email/verify', { flow_id: '00000000-0000-4000-8000-000000000000', code: '123456' });
  t.is(code.status, errorRegistry.invalid_code.status);
  t.like(code.body, { error: 'invalid_code', reason: 'invalid', error_description: en['error.invalid_code'] });

  // The same registry renders the HTML error page for a browser.
  const page = await fetch(`${server.issuer}/verify?token=00000000-0000-4000-8000-000000000000.not-the-secret`, { headers: { accept: 'text/html' } });
  t.is(page.status, 400);
  t.true((await page.text()).includes(en['page.link_failure.invalid.message']));
});
