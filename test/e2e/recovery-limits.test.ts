// Password reset requests are rate-limited per address (IP) and per email address: each may
// send a mail to whoever owns the address typed, so an unlimited form mails anyone, as often
// as an attacker likes. Known and unknown addresses count alike (the limit must not tell
// which have accounts). The server trusts one proxy hop, so each request picks its address.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Browser, type Page } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { createUser } from '../helpers/oidc.ts';
import { alerts } from '../helpers/page.ts';
import type { TestServer } from '../helpers/server.ts';

let mailbox: Mailbox;
let server: TestServer;
let stop: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ mailbox, server, stop } = await startServerWithMailbox({ TRUST_PROXY: 'true', RECOVERY_RATE_LIMIT: '3', RECOVERY_EMAIL_RATE_LIMIT: '2' }));
});
test.after.always(async () => {
  await stop?.();
});

const unknownEmail = () => `nobody-${randomBytes(5).toString('hex')}@example.test`;

async function requestResetFrom(email: string, address: string): Promise<Page> {
  const browser = new Browser();
  const form = await browser.get(`${server.issuer}/recovery`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  return browser.request(`${server.issuer}/recovery`, {
    method: 'POST',
    body: new URLSearchParams({ csrf, email }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
  });
}

function assertLimited(t: { is(a: unknown, b: unknown): void; true(a: boolean): void; regex(a: string, r: RegExp): void; deepEqual(a: unknown, b: unknown): void }, page: Page, policy: string, points: number) {
  t.is(page.status, 429);
  t.true(Number(page.headers.get('retry-after')) > 0);
  t.regex(page.headers.get('ratelimit-policy') ?? '', new RegExp(`^"${policy}";q=${points};w=3600$`));
  t.deepEqual(alerts(page), ['Too many password reset requests. Try again later.']);
}

test('one email address: RECOVERY_EMAIL_RATE_LIMIT requests from any address, then 429 and no further mail', async (t) => {
  const user = await createUser(server);
  t.is((await requestResetFrom(user.email, '203.0.113.20')).status, 200);
  t.is((await requestResetFrom(user.email, '203.0.113.21')).status, 200);
  assertLimited(t, await requestResetFrom(user.email, '203.0.113.22'), 'recovery-email', 2);
  assertLimited(t, await requestResetFrom(` ${user.email.toUpperCase()} `, '203.0.113.23'), 'recovery-email', 2);
  // The first request mailed a link; the second fell within the one-a-minute interval.
  t.is((await mailbox.flush(user.email)).length, 1);
});

test('reset requests for one account at the same moment mail one link', async (t) => {
  const user = await createUser(server);
  const pages = await Promise.all(['203.0.113.40', '203.0.113.41'].map((address) => requestResetFrom(user.email, address)));
  t.deepEqual(pages.map((page) => page.status), [200, 200]);
  t.is((await mailbox.flush(user.email)).length, 1);
});

test('one address (IP): RECOVERY_RATE_LIMIT requests whatever the email, known or not, then 429', async (t) => {
  const user = await createUser(server);
  const address = '198.51.100.30';
  t.is((await requestResetFrom(unknownEmail(), address)).status, 200);
  t.is((await requestResetFrom(unknownEmail(), address)).status, 200);
  t.is((await requestResetFrom(unknownEmail(), address)).status, 200);
  // A known address is refused the same way as an unknown one would be.
  assertLimited(t, await requestResetFrom(user.email, address), 'recovery-address', 3);
  assertLimited(t, await requestResetFrom(unknownEmail(), address), 'recovery-address', 3);
  t.deepEqual(await mailbox.flush(user.email), []);
  // Another address is not affected.
  t.is((await requestResetFrom(user.email, '198.51.100.31')).status, 200);
});
