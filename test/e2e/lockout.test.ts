// Account lockout over real HTTP, on two nodes sharing one database (and one Redis prefix, or
// none): failures at either node add up, the lock holds at both, the right password gets the
// very page a wrong one gets (and an unknown address gets it too), the owner is mailed once,
// and `keyhold user unlock` lifts it.
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, parseForms, type Page } from '../helpers/browser.ts';
import { cliEnv, runKeyhold, succeeded } from '../helpers/cli.ts';
import { testRedisUrl } from '../helpers/infra.ts';
import { mailEnv, startMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { createUser, discover, finishAtClient, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

interface Cluster {
  nodes: [TestServer, TestServer];
  configs: [oidc.Configuration, oidc.Configuration];
  mailbox: Mailbox;
}

// Rate limits far above the lockout threshold: what stops the guesses here is the lockout.
const env = { LOCKOUT_THRESHOLD: '3', LOCKOUT_WINDOW: '900', LOCKOUT_DURATION: '900', LOGIN_RATE_LIMIT: '100', LOGIN_ACCOUNT_RATE_LIMIT: '100' };

async function startCluster(redis: boolean): Promise<Cluster> {
  const mailbox = await startMailbox();
  const first = await startTestServer({ redis, env: { ...env, ...mailEnv(mailbox) } });
  const second = await startTestServer({ redis, databaseUrl: first.databaseUrl, redisPrefix: first.redisPrefix, env: { ...env, ...mailEnv(mailbox), ISSUER: first.issuer } });
  mailbox.attach(() => first.keyhold.mailWorker.drain());
  const client = await registerClient(first, { first_party: true });
  const config = await discover(first, client);
  return { nodes: [first, second], configs: [config, atNode(config, first.issuer, second.issuer, client)], mailbox };
}

/** The client's view of another node: the same metadata (and issuer), every endpoint at that node's address. */
function atNode(config: oidc.Configuration, issuer: string, origin: string, client: { clientId: string; clientSecret?: string }): oidc.Configuration {
  const metadata = Object.fromEntries(
    Object.entries(config.serverMetadata()).map(([key, value]) => [key, typeof value === 'string' && key !== 'issuer' ? value.replace(issuer, origin) : value]),
  ) as oidc.ServerMetadata;
  const rewritten = new oidc.Configuration(metadata, client.clientId, client.clientSecret, client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None());
  oidc.allowInsecureRequests(rewritten);
  return rewritten;
}

const clusters: Record<'redis' | 'sql', Cluster | undefined> = { redis: undefined, sql: undefined };

test.before(async () => {
  [clusters.redis, clusters.sql] = await Promise.all([startCluster(true), startCluster(false)]);
});
test.after.always(async () => {
  for (const cluster of Object.values(clusters)) {
    if (!cluster) continue;
    await cluster.nodes[1].stop();
    await cluster.nodes[0].stop();
    await cluster.mailbox.close();
  }
});

async function attempt(config: oidc.Configuration, email: string, password: string) {
  const flow = await openAuthorization(config);
  const form = parseForms(flow.page.body, flow.page.url).find((candidate) => candidate.action.endsWith('/login'));
  if (!form) throw new Error(`no login form (status ${flow.page.status})`);
  const page = await flow.browser.submit(flow.page, /\/login$/, { email, password }, { stopAt: (url) => url.startsWith('https://app.example.test/') });
  return { flow, page };
}

/** What a login answer says, without what differs per request (CSRF token, passkey challenge, interaction id). */
function visible(page: Page): string {
  return page.body
    .replace(/name="csrf" value="[^"]*"/g, '')
    .replace(/name="challenge" value="[^"]*"/g, '')
    .replace(/"challenge":"[^"]*"/g, '')
    .replace(/\/interaction\/[\w-]+/g, '/interaction/X')
    .replace(/interaction=[\w-]+/g, 'interaction=X');
}

for (const kind of ['redis', 'sql'] as const) {
  test.serial(`${kind}: failures on two nodes lock the account everywhere; the right password then gets the wrong password's page`, async (t) => {
    const { configs, mailbox, nodes } = clusters[kind]!;
    const user = await createUser(nodes[0]);

    const wrong = await attempt(configs[0], user.email, 'wrong password 1');
    t.is(wrong.page.status, 401);
    t.is((await attempt(configs[1], user.email, 'wrong password 2')).page.status, 401);
    t.false(await nodes[0].keyhold.lockout.isLocked(user.id));
    // The third failure, at the other node, reaches the threshold.
    t.is((await attempt(configs[1], user.email, 'wrong password 3')).page.status, 401);
    t.true(await nodes[0].keyhold.lockout.isLocked(user.id));
    t.true(await nodes[1].keyhold.lockout.isLocked(user.id));

    // Locked: the right password, at either node, is answered exactly like a wrong one…
    for (const config of configs) {
      const right = await attempt(config, user.email, user.password);
      t.is(right.page.status, wrong.page.status);
      t.is(visible(right.page), visible(wrong.page));
      t.false(right.page.url.startsWith('https://app.example.test/'), 'no sign-in while locked');
    }
    // …and so is an address that has no account (no enumeration through the lock).
    const unknown = await attempt(configs[0], `nobody-${user.id}@example.test`, 'whatever it is');
    t.is(unknown.page.status, wrong.page.status);
    t.is(visible(unknown.page).replace(`nobody-${user.id}@example.test`, user.email), visible(wrong.page));

    // The owner hears of it once, however many more guesses arrive while locked.
    await attempt(configs[0], user.email, 'wrong password 4');
    const mail = await mailbox.next(user.email, /locked/);
    t.regex(mail.text, /locked for 15 minutes/);
    t.deepEqual((await mailbox.flush(user.email)).filter((message) => /locked/.test(message.subject)), []);

    // The operator lifts the lock; the right password works again.
    t.true(await nodes[1].keyhold.lockout.unlock(user.id));
    t.false(await nodes[0].keyhold.lockout.isLocked(user.id));
    const after = await attempt(configs[0], user.email, user.password);
    const { claims } = await finishAtClient(configs[0], after.flow, after.page);
    t.is(claims.sub, user.id);
  });
}

test.serial('`keyhold user unlock --email` lifts a lock held in Redis', async (t) => {
  const { configs, nodes } = clusters.redis!;
  const user = await createUser(nodes[0]);
  for (let failure = 1; failure <= 3; failure++) await attempt(configs[failure % 2], user.email, `wrong ${failure}`);
  t.true(await nodes[0].keyhold.lockout.isLocked(user.id));

  const run = await runKeyhold(
    ['user', 'unlock', '--email', user.email.toUpperCase()],
    cliEnv({ DATABASE_URL: nodes[0].databaseUrl!, REDIS_URL: testRedisUrl, REDIS_PREFIX: nodes[0].redisPrefix!, KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef' }),
  );
  const output = succeeded(t, run);
  t.like(output, { id: user.id, email: user.email, was_locked: true, locked: false });
  t.false(await nodes[1].keyhold.lockout.isLocked(user.id));
  // The Admin API's unlock (it emits no event): one entry, the operator's, not also the lockout's account.unlocked.
  const entries = await nodes[0].keyhold.db.selectFrom('audit_log').select(['event', 'details']).where('account_id', '=', user.id).where('event', 'like', '%unlocked').execute();
  t.is(entries.length, 1);
  t.is(entries[0]!.event, 'admin.account_unlocked');
  t.like(entries[0]!.details, { actor: 'cli', was_locked: true });
  const again = await attempt(configs[1], user.email, user.password);
  t.true(again.page.url.startsWith('https://app.example.test/') || /\/confirm"/.test(again.page.body));
});

test.serial('the reset link in the lock mail lifts the lock with the new password', async (t) => {
  const { configs, nodes, mailbox } = clusters.redis!;
  const user = await createUser(nodes[0]);
  for (let failure = 1; failure <= 3; failure++) await attempt(configs[0], user.email, `wrong ${failure}`);
  const locked = await mailbox.next(user.email, /locked/);
  const recovery = locked.links.find((link) => link.endsWith('/recovery'))!;
  const browser = new Browser();
  const sent = await browser.submit(await browser.get(recovery), /\/recovery$/, { email: user.email });
  t.is(sent.status, 200);
  const reset = (await mailbox.next(user.email, /Reset/)).links.find((link) => link.includes('/recovery/reset?token='))!;
  const done = await browser.submit(await browser.get(reset), /\/recovery\/reset$/, { password: 'a brand new passphrase 42' });
  t.is(done.status, 200);
  t.false(await nodes[1].keyhold.lockout.isLocked(user.id));
  const after = await attempt(configs[1], user.email, 'a brand new passphrase 42');
  t.true(after.page.url.startsWith('https://app.example.test/') || /\/confirm"/.test(after.page.body));
});

test.serial('a burst of concurrent wrong passwords locks once and mails once', async (t) => {
  const { configs, nodes, mailbox } = clusters.sql!;
  const user = await createUser(nodes[0]);
  const lockoutCount = async () => {
    let total = 0;
    for (const node of nodes) total += (await node.keyhold.metricsRegistry.getSingleMetric('keyhold_lockouts_total')!.get()).values[0]?.value ?? 0;
    return total;
  };
  const lockoutsBefore = await lockoutCount();
  await Promise.all(Array.from({ length: 8 }, (_, index) => attempt(configs[index % 2], user.email, `wrong ${index}`)));
  t.true(await nodes[0].keyhold.lockout.isLocked(user.id));
  await mailbox.next(user.email, /locked/);
  t.deepEqual((await mailbox.flush(user.email)).filter((message) => /locked/.test(message.subject)), []);
  t.is((await lockoutCount()) - lockoutsBefore, 1, 'keyhold_lockouts_total moved once across both nodes');
});
