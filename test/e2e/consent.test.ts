// The consent page shows what the client will actually get (security review findings 1
// and 6): only the API scopes this client and account may have, and the claims asked for
// one by one with the `claims` parameter.
import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { createResource } from '#src/services/resources.ts';
import { grantRole } from '#src/services/roles.ts';
import { createUser, discover, finishAtClient, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { listItems } from '../helpers/page.ts';

const PAYROLL = 'https://payroll.example.test';

let server: TestServer;
let config: oidc.Configuration;
let firstPartyConfig: oidc.Configuration;

test.before(async () => {
  server = await startTestServer();
  await createResource(server.keyhold.db, { identifier: PAYROLL, scopes: ['payroll:read', 'payroll:admin'] });
  await grantRole(server.keyhold.db, { name: 'user', resource: PAYROLL, scopes: ['payroll:read'] });
  // A third-party client (consent is asked) allowed every payroll scope.
  const client = await registerClient(server, { scope: 'openid email profile phone payroll:read payroll:admin' });
  config = await discover(server, client);
  firstPartyConfig = await discover(server, await registerClient(server, { scope: 'openid email profile phone payroll:read payroll:admin', first_party: true }));
});
test.after.always(async () => {
  await server?.stop();
});

/** Signs a new user in and stops at the consent page. */
async function consentPage(parameters: Record<string, string>) {
  const user = await createUser(server);
  const flow = await openAuthorization(config, parameters);
  const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password });
  return { user, flow, page };
}


test('the consent page lists only the API scopes that will be granted, and the token matches it', async (t) => {
  const { flow, page } = await consentPage({ resource: PAYROLL, scope: 'openid payroll:read payroll:admin' });
  t.is(page.status, 200);
  t.regex(page.body, /action="[^"]*\/confirm"/);
  t.true(page.body.includes('payroll:read'));
  t.false(page.body.includes('payroll:admin'), 'a scope the account may not get is not offered');

  const { tokens } = await finishAtClient(config, flow, page);
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { audience: PAYROLL });
  t.deepEqual(payload.permissions, ['payroll:read']);
});

test('claims requested with the claims parameter are shown on the consent page', async (t) => {
  const claims = JSON.stringify({ userinfo: { phone_number: null, picture: null }, id_token: { locale: { essential: true } } });
  const { user, flow, page } = await consentPage({ scope: 'openid', claims });
  t.is(page.status, 200);
  const shown = listItems(page, 'claims');
  t.is(shown.length, 3, page.body);
  for (const claim of ['phone_number', 'picture', 'locale']) t.true(shown.some((item) => item.includes(claim)), `${claim} in ${JSON.stringify(shown)}`);
  t.true(shown.some((item) => item.startsWith('Your phone number')));

  // Allowing them grants them: the ID token carries the requested locale claim.
  await server.keyhold.db.updateTable('accounts').set({ locale: 'en-GB' }).where('id', '=', user.id).execute();
  const { claims: idToken } = await finishAtClient(config, flow, page);
  t.is(idToken.locale, 'en-GB');
});

test('claims already covered by a granted scope are not asked again; scopes are still listed', async (t) => {
  const claims = JSON.stringify({ userinfo: { email: null } });
  const { page } = await consentPage({ scope: 'openid email', claims });
  t.deepEqual(listItems(page, 'scopes'), ['See your email address']);
  t.deepEqual(listItems(page, 'claims'), []);
});

// A first-party client's grant is made as the sign-in finishes (first-party-grant.ts): the
// redirect after the password goes back to the engine and from there to the client, with no
// second interaction, and the grant holds what the consent route would have granted.
test('a first-party sign-in goes from the login form to the client without a consent interaction; the grant holds only what the account may get', async (t) => {
  const user = await createUser(server);
  const claims = JSON.stringify({ id_token: { locale: null } });
  const flow = await openAuthorization(firstPartyConfig, { resource: PAYROLL, scope: 'openid email payroll:read payroll:admin', claims });
  const posted = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { follow: false });
  t.is(posted.status, 303);
  const resumed = await flow.browser.request(new URL(posted.headers.get('location')!, posted.url).toString());
  const next = new URL(resumed.headers.get('location') ?? '', resumed.url);
  t.is(`${next.origin}${next.pathname}`, 'https://app.example.test/callback', `resumed to ${next}`);

  await server.keyhold.db.updateTable('accounts').set({ locale: 'en-GB' }).where('id', '=', user.id).execute();
  const { tokens, claims: idToken } = await finishAtClient(firstPartyConfig, flow, { ...resumed, url: next.toString() });
  t.is(idToken.email, user.email);
  t.is(idToken.locale, 'en-GB', 'a claim requested with the claims parameter is granted');
  t.is(idToken.phone_number, undefined, 'a scope not requested is not granted');
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { audience: PAYROLL });
  t.deepEqual(payload.permissions, ['payroll:read'], 'an API scope the account may not get is not granted');
});

test('attacker: after the same sign-in, a third-party client still asks for consent', async (t) => {
  const { page } = await consentPage({ scope: 'openid email' });
  t.regex(page.body, /action="[^"]*\/confirm"/);
});
