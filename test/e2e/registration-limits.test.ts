// Registration is rate-limited per address (IP) and per email address: each attempt hashes
// a password and may send a mail, so an unlimited form floods inboxes and burns CPU. Past a
// limit the form comes back with 429, Retry-After and the RateLimit headers, and nothing
// is mailed. The server trusts one proxy hop, so each test acts from its own address.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type * as oidc from 'openid-client';
import { parseForms, type Page } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { openAuthorization } from '../helpers/oidc.ts';
import { alerts } from '../helpers/page.ts';

let mailbox: Mailbox;
let config: oidc.Configuration;
let stop: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ mailbox, config, stop } = await startServerWithMailbox({ TRUST_PROXY: 'true', REGISTRATION_RATE_LIMIT: '4', REGISTRATION_EMAIL_RATE_LIMIT: '2' }));
});
test.after.always(async () => {
  await stop?.();
});

const PASSWORD = 'violet harbour lantern 91';
const newEmail = () => `limit-${randomBytes(5).toString('hex')}@example.test`;

/** prompt=create, the registration form sent from `address` (as the proxy reports it). */
async function register(email: string, address: string): Promise<Page> {
  const { browser, page } = await openAuthorization(config, { prompt: 'create' });
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/register'));
  if (!form) throw new Error(`no registration form (status ${page.status}):\n${page.body.slice(0, 300)}`);
  const body = new URLSearchParams({ csrf: form.fields.find((field) => field.name === 'csrf')!.value, email, password: PASSWORD, name: 'Ada' });
  return browser.request(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address } });
}

function assertLimited(t: { is(a: unknown, b: unknown): void; true(a: boolean): void; regex(a: string, r: RegExp): void; deepEqual(a: unknown, b: unknown): void }, page: Page, policy: string, points: number) {
  t.is(page.status, 429);
  t.true(Number(page.headers.get('retry-after')) > 0);
  t.regex(page.headers.get('ratelimit-policy') ?? '', new RegExp(`^"${policy}";q=${points};w=3600$`));
  t.regex(page.headers.get('ratelimit') ?? '', new RegExp(`^"${policy}";r=0;t=\\d+$`));
  t.deepEqual(alerts(page), ['Too many registration attempts. Try again later.']);
}

test('one email address: REGISTRATION_EMAIL_RATE_LIMIT attempts, from any address, then 429 and no mail', async (t) => {
  const email = newEmail();
  t.is((await register(email, '203.0.113.10')).status, 200);
  t.is((await register(email, '203.0.113.11')).status, 200);
  assertLimited(t, await register(email, '203.0.113.12'), 'registration-email', 2);
  // Whatever the case or spacing.
  assertLimited(t, await register(` ${email.toUpperCase()} `, '203.0.113.13'), 'registration-email', 2);
  // Each allowed attempt came from its own browser, so each got its own flow and mail;
  // the refused ones sent nothing.
  t.is((await mailbox.flush(email)).length, 2);
});

test('one address (IP): REGISTRATION_RATE_LIMIT attempts, whatever the email, then 429 and no mail', async (t) => {
  const address = '203.0.113.20';
  for (let attempt = 0; attempt < 4; attempt++) t.is((await register(newEmail(), address)).status, 200);
  const refusedEmail = newEmail();
  assertLimited(t, await register(refusedEmail, address), 'registration-address', 4);
  t.deepEqual(await mailbox.flush(refusedEmail), []);
  // Another address is not affected.
  t.is((await register(newEmail(), '203.0.113.21')).status, 200);
});
