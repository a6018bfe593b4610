// A tenant's registration override, over HTTP: an account registers into the tenant of the
// client it signs up at, and that tenant's `registration` (open, invite, closed; null: the
// node's REGISTRATION) decides self-service registration and the accounts federation creates.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type * as oidc from 'openid-client';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import type { RegistrationMode } from '#src/services/tenants.ts';
import { Browser } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, discover, finishAtClient, openAuthorization } from '../helpers/oidc.ts';
import { alerts, fieldNames, fieldValue, h1, links } from '../helpers/page.ts';
import type { TestServer } from '../helpers/server.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';

const PASSWORD = 'violet harbour lantern 91';
const VERIFY_SUBJECT = /^Confirm your email address/;

let server: TestServer;
let mailbox: Mailbox;
let stop: () => Promise<void>;
let upstream: UpstreamIdp;
/** A first-party client in each tenant: `shut` (closed), `club` (invite), `wide` (no override, the node's open). */
const clients: Record<'shut' | 'club' | 'wide', oidc.Configuration> = {} as never;

test.before(async () => {
  ({ server, mailbox, stop } = await startServerWithMailbox({ REGISTRATION: 'open', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' }));
  const modes: Record<keyof typeof clients, RegistrationMode | null> = { shut: 'closed', club: 'invite', wide: null };
  for (const [tenant, registration] of Object.entries(modes) as Array<[keyof typeof clients, RegistrationMode | null]>) {
    await server.keyhold.admin.tenants.create(CLI_ACTOR, tenant, { registration });
    const { client, clientSecret } = await server.keyhold.admin.clients.create(
      CLI_ACTOR,
      { client_id: `app-${tenant}`, redirect_uris: ['https://app.example.test/callback'], grant_types: ['authorization_code'], response_types: ['code'], first_party: true },
      { tenant },
    );
    clients[tenant] = await discover(server, { clientId: client.client_id, clientSecret, metadata: { ...client } });
  }
  upstream = await startUpstreamIdp({ redirectUri: `${server.issuer}/connect/corp/callback` });
  await server.keyhold.connectors.create({ id: 'corp', type: 'oidc', name: 'Corp Identity', client_id: upstream.clientId, client_secret: upstream.clientSecret, issuer: upstream.issuer });
});
test.after.always(async () => {
  await upstream?.stop();
  await stop?.();
});

const newEmail = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}@example.test`;
const accountRow = (email: string) => server.keyhold.db.selectFrom('accounts').selectAll().where('email_normalized', '=', email).executeTakeFirst();

async function registerAt(config: oidc.Configuration, email: string, extra: Record<string, string> = {}) {
  const flow = await openAuthorization(config, { prompt: 'create' });
  const check = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'Tenant Member', ...extra });
  return { flow, check };
}

async function confirm(flow: Awaited<ReturnType<typeof registerAt>>['flow'], check: Awaited<ReturnType<typeof registerAt>>['check'], email: string) {
  const mail = await mailbox.next(email, VERIFY_SUBJECT);
  return flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
}

test.serial('a tenant without an override follows the node: registration works, and the account is in the client\'s tenant', async (t) => {
  const email = newEmail('wide');
  const { flow, check } = await registerAt(clients.wide, email);
  t.is(h1(check), 'Check your email');
  const done = await confirm(flow, check, email);
  const { claims } = await finishAtClient(clients.wide, flow, done);
  const account = await accountRow(email);
  t.is(claims.sub, account!.id);
  t.is(account?.tenant, 'wide');
});

test.serial('a tenant with registration closed: no "Create account", the register page and form are 403, prompt=create shows the login form', async (t) => {
  const flow = await openAuthorization(clients.shut);
  t.is(h1(flow.page), 'Sign in');
  t.falsy(links(flow.page)['Create account']);
  const uid = /\/interaction\/([^/?"]+)\/login/.exec(flow.page.body)![1]!;
  const page = await flow.browser.get(`${server.issuer}/interaction/${uid}/register`);
  t.is(page.status, 403);
  t.regex(page.body, /Registration is closed/);
  // The attacker's view: the form posted anyway, with a valid CSRF token, creates nothing.
  const email = newEmail('shut');
  const posted = await flow.browser.request(`${server.issuer}/interaction/${uid}/register`, {
    method: 'POST',
    body: new URLSearchParams({ csrf: fieldValue(flow.page, /\/login$/, 'csrf')!, email, password: PASSWORD, name: 'X' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(posted.status, 403);
  t.deepEqual(await mailbox.flush(email), []);
  t.is(await accountRow(email), undefined);

  const asked = await openAuthorization(clients.shut, { prompt: 'create' });
  t.false(/\/register$/.test(asked.page.url));
  t.is(h1(asked.page), 'Sign in');

  // The same node's other tenant still registers (the override is per tenant).
  t.truthy(links((await openAuthorization(clients.wide)).page)['Create account']);
});

test.serial('a tenant with registration by invitation asks for one; an invitation for the address works', async (t) => {
  const email = newEmail('club');
  const flow = await openAuthorization(clients.club, { prompt: 'create' });
  t.deepEqual(fieldNames(flow.page, /\/register$/), ['csrf', 'email', 'invitation', 'name', 'password']);
  const without = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'Invited' });
  t.is(without.status, 400);
  t.true(alerts(without).some((text) => /invitation is not valid/.test(text)), JSON.stringify(alerts(without)));

  const { invitation } = await server.keyhold.registration.invite(email);
  await mailbox.next(email, /invited/);
  const check = await flow.browser.submit(without, /\/register$/, { email, password: PASSWORD, name: 'Invited', invitation });
  t.is(h1(check), 'Check your email');
  const done = await confirm(flow, check, email);
  await finishAtClient(clients.club, flow, done);
  t.is((await accountRow(email))?.tenant, 'club');
});

test.serial('clearing the override (null) goes back to the node\'s REGISTRATION', async (t) => {
  await server.keyhold.admin.tenants.update(CLI_ACTOR, 'shut', { registration: null });
  try {
    const email = newEmail('reopened');
    const { flow, check } = await registerAt(clients.shut, email);
    t.is(h1(check), 'Check your email');
    await finishAtClient(clients.shut, flow, await confirm(flow, check, email));
    t.is((await accountRow(email))?.tenant, 'shut');
  } finally {
    await server.keyhold.admin.tenants.update(CLI_ACTOR, 'shut', { registration: 'closed' });
  }
});

test.serial('federation creates accounts only where the tenant\'s registration is open, in that tenant', async (t) => {
  const signInUpstream = (label: string) => {
    const subject = `${label}-${randomBytes(4).toString('hex')}`;
    const email = `${subject}@corp.example.test`;
    upstream.users.set(subject, { email, email_verified: true, name: 'Fed Member' });
    upstream.signIn(subject);
    return email;
  };
  const viaConnector = async (config: oidc.Configuration) => {
    const flow = await openAuthorization(config, {}, new Browser());
    return { flow, page: await flow.browser.submit(flow.page, /\/federation\/start$/, {}, { button: 'connector', stopAt: atRedirectUri }) };
  };

  const opened = signInUpstream('wide');
  const created = await viaConnector(clients.wide);
  const { claims } = await finishAtClient(clients.wide, created.flow, created.page);
  t.is(claims.sub, (await accountRow(opened))!.id);
  t.is((await accountRow(opened))?.tenant, 'wide');

  for (const tenant of ['shut', 'club'] as const) {
    const email = signInUpstream(tenant);
    const { page } = await viaConnector(clients[tenant]);
    t.is(page.status, 403, tenant);
    t.is(h1(page), 'No account');
    t.is(await accountRow(email), undefined);
  }
});
