// The development mail page: the .eml outbox listed newest first (time, recipient, subject)
// with a view of each mail and its HTML part in a sandbox; absent in production, and never
// shown to another machine or for a file outside the outbox.
import { get as httpGet } from 'node:http';
import test from 'ava';
import { Browser } from '../helpers/browser.ts';
import { createUser, discover, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.ts';
import { h1, links } from '../helpers/page.ts';

let server: TestServer;

test.before(async () => {
  // No SMTP_URL: mail is written as .eml files under DATA_DIR/outbox. A long poll interval:
  // the test decides when the worker sends.
  server = await startTestServer({ env: { MAIL_POLL_INTERVAL: '3600', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', TRUST_PROXY: 'true' } });
});
test.after.always(async () => {
  await server?.stop();
});

async function requestReset(email: string, locale?: string): Promise<void> {
  const config = await discover(server, await registerClient(server));
  const flow = await openAuthorization(config, locale ? { ui_locales: locale } : {});
  const recovery = await flow.browser.get(new URL(Object.values(links(flow.page)).find((href) => href.includes('/recovery'))!, flow.page.url).toString());
  await flow.browser.submit(recovery, /\/recovery$/, { email });
  await server.keyhold.background.settled();
  await server.keyhold.mailWorker.drain();
}

const rows = (body: string) => [...body.matchAll(/<tr><td><time datetime="([^"]*)">[^<]*<\/time><\/td><td>([^<]*)<\/td><td><a href="([^"]+)">([^<]*)<\/a><\/td><\/tr>/g)].map((match) => ({ time: match[1]!, to: match[2]!, href: match[3]!, subject: match[4]! }));

test.serial('the outbox is listed newest first, each mail opens with its text and its HTML part in a sandbox', async (t) => {
  const first = await createUser(server);
  const second = await createUser(server);
  await requestReset(first.email);
  await requestReset(second.email, 'de');

  const browser = new Browser();
  const list = await browser.get(`${server.issuer}/dev/mail`);
  t.is(list.status, 200);
  t.is(h1(list), 'Development mail');
  const mails = rows(list.body);
  t.true(mails.length >= 2);
  t.is(mails[0]!.to, second.email, 'newest first');
  t.is(mails[0]!.subject, 'Ihr Keyhold-Passwort zurücksetzen');
  t.is(mails[1]!.to, first.email);
  t.is(mails[1]!.subject, 'Reset your Keyhold password');
  t.true(mails[0]!.time >= mails[1]!.time);

  const view = await browser.get(new URL(mails[1]!.href, list.url).toString());
  t.is(view.status, 200);
  t.is(h1(view), 'Reset your Keyhold password');
  t.regex(view.body, /Choose a new password:\n(http:\/\/[^\s<]+\/recovery\/reset\?token=[^\s<]+)/);
  t.false(view.headers.get('content-security-policy')!.includes('unsafe-inline'), 'the page itself keeps the strict CSP');

  const html = await fetch(new URL(links(view)['HTML part']!, view.url));
  t.is(html.status, 200);
  const policy = html.headers.get('content-security-policy')!;
  t.regex(policy, /^sandbox;/);
  t.regex(policy, /default-src 'none'/);
  t.false(policy.includes('script-src'));
  t.regex(await html.text(), /<html lang="en">[\s\S]*Choose a new password/);
});

test.serial('attacker: another machine, a path outside the outbox, or a made-up name gets 404 and no mail', async (t) => {
  const user = await createUser(server);
  await requestReset(user.email);
  const list = await new Browser().get(`${server.issuer}/dev/mail`);
  const href = rows(list.body)[0]!.href;

  // Through a trusted proxy, a client elsewhere: the mails hold live links, so nothing.
  const remote = new Browser({ 'x-forwarded-for': '203.0.113.7' });
  for (const path of ['/dev/mail', href, `${href}/html`]) {
    const page = await remote.get(`${server.issuer}${path}`);
    t.is(page.status, 404, path);
    t.false(page.body.includes(user.email), path);
  }
  for (const path of ['/dev/mail/..%2F..%2Fetc%2Fpasswd', '/dev/mail/..%2Fkeyhold-secret', '/dev/mail/2026-01-01T00-00-00-000Z-nope.eml', '/dev/mail/x.eml/html']) {
    const page = await new Browser().get(`${server.issuer}${path}`);
    t.is(page.status, 404, path);
  }
});

test('in production the page does not exist', async (t) => {
  const production = await startTestServer({ env: { NODE_ENV: 'production', ALLOW_INSECURE_ISSUER: 'true', KEYHOLD_SECRET: TEST_SECRET } });
  try {
    const user = await createUser(production);
    await production.keyhold.credentials.requestReset(user.email, '127.0.0.1');
    await production.keyhold.mailWorker.drain();
    for (const path of ['/dev/mail', '/dev/mail/', '/dev/mail/anything.eml']) {
      const response = await fetch(`${production.issuer}${path}`);
      t.is(response.status, 404, path);
      t.false((await response.text()).includes(user.email));
    }
  } finally {
    await production.stop();
  }
});

/** GET with a Host header of our choosing (fetch will not send one): what a rebound DNS name makes a browser send. */
function getWithHost(origin: string, target: string, host: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: hostname, port: Number(port), path: target, headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

test.serial('attacker: a page whose DNS name rebinds to 127.0.0.1 reads nothing through the developer\'s browser', async (t) => {
  const user = await createUser(server);
  await requestReset(user.email);
  const href = rows((await new Browser().get(`${server.issuer}/dev/mail`)).body)[0]!.href;
  const port = new URL(server.issuer).port;
  for (const path of ['/dev/mail', href, `${href}/html`]) {
    const page = await getWithHost(server.issuer, path, `rebind.attacker.example:${port}`);
    t.is(page.status, 404, path);
    t.false(page.body.includes(user.email), path);
  }
  // The machine's own names still open it.
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) t.is((await getWithHost(server.issuer, '/dev/mail', host)).status, 200, host);
});

test('attacker: without TRUST_PROXY, a request a local tunnel or proxy forwards (it arrives from 127.0.0.1) gets 404', async (t) => {
  const tunnelled = await startTestServer({ env: { MAIL_POLL_INTERVAL: '3600', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  try {
    const user = await createUser(tunnelled);
    await tunnelled.keyhold.credentials.requestReset(user.email, '127.0.0.1');
    await tunnelled.keyhold.mailWorker.drain();
    t.is((await new Browser().get(`${tunnelled.issuer}/dev/mail`)).status, 200, 'the developer at the machine');
    for (const headers of <Array<Record<string, string>>>[{ 'x-forwarded-for': '203.0.113.7' }, { forwarded: 'for=203.0.113.7' }, { 'x-real-ip': '203.0.113.7' }]) {
      const page = await new Browser(headers).get(`${tunnelled.issuer}/dev/mail`);
      t.is(page.status, 404, Object.keys(headers)[0]);
      t.false(page.body.includes(user.email));
    }
  } finally {
    await tunnelled.stop();
  }
});
