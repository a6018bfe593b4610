// Who gets which API scope (security review finding 1): roles grant API scopes, a client's
// `scope` metadata is its allow-list, tokens carry only the intersection, JWTs carry
// `permissions`, a scope nobody defines is invalid_scope, and a role taken away stops new
// tokens. Real server, real login and registration pages, real token endpoint.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { updateAccountAuthorization } from '#src/services/account-admin.ts';
import { createResource } from '#src/services/resources.ts';
import { createRole, grantRole } from '#src/services/roles.ts';
import { Browser } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, authorizationRequest, createUser, discover, finishAtClient, login, openAuthorization, registerClient, tokenRequest, type RegisteredClient } from '../helpers/oidc.ts';
import type { TestServer } from '../helpers/server.ts';

const PAYROLL = 'https://payroll.example.test';
const PASSWORD = 'violet harbour lantern 91';

let server: TestServer;
let mailbox: Mailbox;
let stop: (() => Promise<void>) | undefined;
/** A first-party app whose allow-list names every payroll scope: only roles can stop a user. */
let firstParty: RegisteredClient;
let firstPartyConfig: oidc.Configuration;

test.before(async () => {
  // Accounts here carry tiers and roles as data; second factors are test/e2e/mfa*.test.ts's subject.
  ({ server, mailbox, stop } = await startServerWithMailbox({ MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' }));
  const { db } = server.keyhold;
  await createResource(db, { identifier: PAYROLL, scopes: ['payroll:read', 'payroll:admin'] });
  // Every account (DEFAULT_ROLES=user) may read payroll; only payroll-admin may administer it.
  await grantRole(db, { name: 'user', resource: PAYROLL, scopes: ['payroll:read'] });
  await createRole(db, { name: 'payroll-admin' });
  await grantRole(db, { name: 'payroll-admin', resource: PAYROLL, scopes: ['payroll:read', 'payroll:admin'] });
  firstParty = await registerClient(server, { first_party: true, scope: 'openid email profile offline_access roles payroll:read payroll:admin' });
  firstPartyConfig = await discover(server, firstParty);
});
test.after.always(async () => {
  await stop?.();
});

const jwks = () => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));

async function verifyPayrollToken(token: string) {
  const { payload } = await jwtVerify(token, jwks(), { issuer: server.issuer, audience: PAYROLL, typ: 'at+jwt' });
  return payload;
}

const serviceClient = (metadata: Record<string, unknown> = {}) => registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], ...metadata });

test('client_credentials: a client without API scopes in its metadata gets none of payroll:admin', async (t) => {
  const client = await serviceClient();
  const response = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: PAYROLL, scope: 'payroll:admin' });
  t.is(response.status, 200, JSON.stringify(response.body));
  t.is(response.body.scope, undefined);
  const payload = await verifyPayrollToken(response.body.access_token as string);
  t.is(payload.scope, undefined);
  t.deepEqual(payload.permissions, []);
});

test('client_credentials: requested ∩ allow-list, and permissions equals the granted scopes', async (t) => {
  const client = await serviceClient({ scope: 'payroll:read' });
  const response = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: PAYROLL, scope: 'payroll:read payroll:admin' });
  t.is(response.status, 200, JSON.stringify(response.body));
  t.is(response.body.scope, 'payroll:read');
  const payload = await verifyPayrollToken(response.body.access_token as string);
  t.is(payload.scope, 'payroll:read');
  t.deepEqual(payload.permissions, ['payroll:read']);
  t.is(payload.roles, undefined, 'a client on its own has no roles');

  const admin = await serviceClient({ scope: 'payroll:read payroll:admin' });
  const full = await tokenRequest(server, admin, { grant_type: 'client_credentials', resource: PAYROLL, scope: 'payroll:read payroll:admin' });
  t.is(full.body.scope, 'payroll:read payroll:admin');
  t.deepEqual((await verifyPayrollToken(full.body.access_token as string)).permissions, ['payroll:read', 'payroll:admin']);
});

test('client_credentials never gets the Account API: it has no account to act on', async (t) => {
  const client = await serviceClient({ scope: 'account:read' });
  const response = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: `${server.issuer}/api/account`, scope: 'account:read' });
  t.is(response.status, 200);
  t.is(response.body.scope, undefined);
});

test('a scope no API or OIDC defines is invalid_scope at the token endpoint', async (t) => {
  const client = await serviceClient({ scope: 'payroll:read' });
  const bodies: Array<Record<string, string>> = [
    { grant_type: 'client_credentials', resource: PAYROLL, scope: 'payroll:read payroll:delete' },
    { grant_type: 'client_credentials', scope: 'payroll:delete' },
  ];
  for (const body of bodies) {
    const response = await tokenRequest(server, client, body);
    t.is(response.status, 400, JSON.stringify(body));
    t.is(response.body.error, 'invalid_scope');
    t.regex(String(response.body.error_description), /payroll:delete|not defined/);
  }
});

test('a scope no API or OIDC defines is invalid_scope at the authorization endpoint (with and without resource)', async (t) => {
  const requests: Array<Record<string, string>> = [{ resource: PAYROLL, scope: 'openid payroll:delete' }, { scope: 'openid nothing:here' }];
  for (const parameters of requests) {
    const { url, state } = await authorizationRequest(firstPartyConfig, parameters);
    const page = await new Browser().get(url.toString(), atRedirectUri);
    t.true(atRedirectUri(page.url), `redirected to the client, got ${page.status} ${page.url}`);
    const callback = new URL(page.url);
    t.is(callback.searchParams.get('error'), 'invalid_scope', JSON.stringify(parameters));
    t.is(callback.searchParams.get('state'), state);
  }
});

test('an allow-list of API scopes alone allows no OIDC scope beyond openid: profile, roles or offline_access are invalid_scope', async (t) => {
  const client = await registerClient(server, { first_party: true, scope: 'payroll:read', grant_types: ['authorization_code', 'refresh_token'] });
  const config = await discover(server, client);
  for (const scope of ['openid profile', 'openid roles', 'openid offline_access']) {
    const { url, state } = await authorizationRequest(config, { scope, prompt: 'consent' });
    const page = await new Browser().get(url.toString(), atRedirectUri);
    const callback = new URL(page.url);
    t.is(callback.searchParams.get('error'), 'invalid_scope', scope);
    t.is(callback.searchParams.get('state'), state);
  }
  // openid with the allowed API scope still signs in.
  const user = await createUser(server);
  const { tokens } = await login(config, user, { resource: PAYROLL, scope: 'openid payroll:read' });
  t.deepEqual((await verifyPayrollToken(tokens.access_token)).permissions, ['payroll:read']);
});

test('a self-registered user signing in through a first-party app does not get payroll:admin', async (t) => {
  const email = `self-${randomBytes(5).toString('hex')}@example.test`;
  const flow = await openAuthorization(firstPartyConfig, { prompt: 'create', resource: PAYROLL, scope: 'openid payroll:read payroll:admin' });
  const check = await flow.browser.submit(flow.page, /\/register$/, { email, password: PASSWORD, name: 'Eve Self' });
  const mail = await mailbox.next(email, /^Confirm your email address/);
  const done = await flow.browser.submit(check, /\/register\/confirm$/, { code: mail.code! }, { stopAt: atRedirectUri });
  const { tokens } = await finishAtClient(firstPartyConfig, flow, done);
  const payload = await verifyPayrollToken(tokens.access_token);
  t.is(payload.scope, 'payroll:read');
  t.deepEqual(payload.permissions, ['payroll:read']);
  t.deepEqual(payload.roles, ['user'], 'a new account gets DEFAULT_ROLES');
  t.is(tokens.scope?.includes('payroll:admin'), false);
});

test('a user whose role grants payroll:admin gets it; taking the role away stops new tokens (refresh and sign-in)', async (t) => {
  const user = await createUser(server, { roles: ['payroll-admin'], tier: 'pro', tenant: 'acme' });
  const browser = new Browser();
  const { tokens } = await login(firstPartyConfig, user, { resource: PAYROLL, scope: 'openid offline_access payroll:read payroll:admin', prompt: 'consent' }, browser);
  const payload = await verifyPayrollToken(tokens.access_token);
  t.is(payload.scope, 'payroll:read payroll:admin');
  t.deepEqual(payload.permissions, ['payroll:read', 'payroll:admin']);
  t.deepEqual(payload.roles, ['payroll-admin']);
  t.is(payload.tier, 'pro');
  t.is(payload.tenant, 'acme');
  t.truthy(tokens.refresh_token);

  await updateAccountAuthorization(server.keyhold.db, user.email, { roles: ['user'] }, 'test');

  const refreshed = await oidc.refreshTokenGrant(firstPartyConfig, tokens.refresh_token!);
  const afterRefresh = await verifyPayrollToken(refreshed.access_token);
  t.is(afterRefresh.scope, 'payroll:read');
  t.deepEqual(afterRefresh.permissions, ['payroll:read']);
  t.deepEqual(afterRefresh.roles, ['user']);

  // The same browser, the same session and grant: a new sign-in no longer gets it either.
  const again = await login(firstPartyConfig, user, { resource: PAYROLL, scope: 'openid payroll:read payroll:admin' }, browser);
  const afterLogin = await verifyPayrollToken(again.tokens.access_token);
  t.deepEqual(afterLogin.permissions, ['payroll:read']);
});

test("for a user's token the client's allow-list applies too: requested ∩ allow-list ∩ role grants", async (t) => {
  const user = await createUser(server, { roles: ['payroll-admin'] });
  const narrow = await registerClient(server, { first_party: true, scope: 'openid payroll:read' });
  const { tokens } = await login(await discover(server, narrow), user, { resource: PAYROLL, scope: 'openid payroll:read payroll:admin' });
  const payload = await verifyPayrollToken(tokens.access_token);
  t.is(payload.scope, 'payroll:read');
  t.deepEqual(payload.permissions, ['payroll:read']);

  const none = await registerClient(server, { first_party: true });
  const { tokens: noneTokens } = await login(await discover(server, none), user, { resource: PAYROLL, scope: 'openid payroll:read payroll:admin' });
  const nonePayload = decodeJwt(noneTokens.access_token);
  t.is(nonePayload.scope, undefined);
  t.deepEqual(nonePayload.permissions, []);
});

test('the Account API stays self-service: any signed-in user, whatever the roles or allow-list', async (t) => {
  const user = await createUser(server, { roles: [] });
  const client = await registerClient(server, { first_party: true, scope: 'openid' });
  const { tokens } = await login(await discover(server, client), user, { resource: `${server.issuer}/api/account`, scope: 'openid account:read' });
  const response = await fetch(`${server.issuer}/api/account`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(response.status, 200);
  t.is(((await response.json()) as { email: string }).email, user.email);
});

test('scope roles releases roles, tier and tenant at userinfo and in the ID token; without it they stay out', async (t) => {
  const user = await createUser(server, { roles: ['payroll-admin', 'user'], tier: 'team', tenant: 'globex' });
  const { tokens } = await login(firstPartyConfig, user, { scope: 'openid roles' });
  const userinfo = await oidc.fetchUserInfo(firstPartyConfig, tokens.access_token, user.id);
  t.deepEqual(userinfo.roles, ['payroll-admin', 'user']);
  t.is(userinfo.tier, 'team');
  t.is(userinfo.tenant, 'globex');

  // With an access token for an API, the ID token carries the scope's claims itself.
  const withResource = await login(firstPartyConfig, user, { scope: 'openid roles payroll:read', resource: PAYROLL });
  const idToken = withResource.tokens.claims()!;
  t.deepEqual(idToken.roles, ['payroll-admin', 'user']);
  t.is(idToken.tier, 'team');
  t.is(idToken.tenant, 'globex');

  const plain = await login(firstPartyConfig, user, { scope: 'openid email' });
  const plainInfo = await oidc.fetchUserInfo(firstPartyConfig, plain.tokens.access_token, user.id);
  t.is(plainInfo.roles, undefined);
  t.is(plainInfo.tier, undefined);
  t.is(plainInfo.tenant, undefined);

  // Unset tier and tenant are absent, not null.
  const bare = await createUser(server);
  const bareTokens = await login(firstPartyConfig, bare, { scope: 'openid roles' });
  const bareInfo = await oidc.fetchUserInfo(firstPartyConfig, bareTokens.tokens.access_token, bare.id);
  t.deepEqual(bareInfo.roles, ['user']);
  t.false('tier' in bareInfo);
  t.false('tenant' in bareInfo);
});

test('discovery lists the roles scope and its claims', async (t) => {
  const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[]; claims_supported: string[] };
  t.true(metadata.scopes_supported.includes('roles'));
  for (const claim of ['roles', 'tier', 'tenant']) t.true(metadata.claims_supported.includes(claim), claim);
});

test('the Admin API resource is seeded: role admin gets admin and admin:read, other accounts get neither', async (t) => {
  const adminApi = `${server.issuer}/api/admin`;
  const client = await registerClient(server, { first_party: true, scope: 'openid admin admin:read' });
  const clientConfig = await discover(server, client);
  const admin = await createUser(server, { roles: ['admin'] });
  const granted = await login(clientConfig, admin, { resource: adminApi, scope: 'openid admin admin:read' });
  t.deepEqual(granted.tokens.scope?.split(' ').sort(), ['admin', 'admin:read']);

  const user = await createUser(server);
  const refused = await login(clientConfig, user, { resource: adminApi, scope: 'openid admin admin:read' });
  t.falsy(refused.tokens.scope?.split(' ').some((scope) => scope.startsWith('admin')));
});
