// Passkeys in real Chromium with the DevTools virtual authenticator: register one from the
// security page, sign in passwordless and as a second factor (acr phr, amr hwk), and the
// refusals — an assertion claiming another origin, a counter that went backwards, a removed
// credential — each audited. Plus, over plain HTTP: acr_values=phr asks for a passkey.
import test from 'ava';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { ACR } from '#src/services/authentication/assurance.ts';
import { callbackNumber, launchChromium, pageWithAuthenticator, type AuthenticatorPage } from '../helpers/chromium.ts';
import { atRedirectUri, authorizationRequest, createUser, discover, openAuthorization, registerClient, type AuthorizationRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let browser: Browser;
let config: oidc.Configuration;

test.before(async () => {
  // WebAuthn needs a domain for the relying party id: the issuer is http://localhost:<port>.
  server = await startTestServer({ host: 'localhost', env: { LOGIN_RATE_LIMIT: '1000' } });
  config = await discover(server, await registerClient(server, { first_party: true }));
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

async function startAuthorization(ap: AuthenticatorPage, parameters: Record<string, string> = {}): Promise<AuthorizationRequest & { callbacksBefore: number }> {
  const request = { ...(await authorizationRequest(config, parameters)), callbacksBefore: ap.callbacks.length };
  await ap.page.goto(request.url.toString());
  return request;
}

async function tokensAfter(ap: AuthenticatorPage, request: AuthorizationRequest & { callbacksBefore: number }) {
  const callback = await callbackNumber(ap, request.callbacksBefore + 1);
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
}

async function passwordSignIn(ap: AuthenticatorPage, user: { email: string; password: string }): Promise<void> {
  await ap.page.fill('#email', user.email);
  await ap.page.fill('#password', user.password);
  await ap.page.click('form[action$="/login"] button[type="submit"]');
}

/** Reasons of refused passkeys audited for the account (or, `undefined`, for no known account). */
async function refusals(accountId: string | undefined) {
  let query = server.keyhold.db.selectFrom('audit_log').select(['event', 'details']).where('event', '=', 'passkey.refused');
  query = accountId ? query.where('account_id', '=', accountId) : query.where('account_id', 'is', null);
  const rows = await query.execute();
  return rows.map((row) => (row.details as { reason?: string } | null)?.reason);
}

test.serial('register on the security page, then sign in passwordless and as a second factor; refusals are audited', async (t) => {
  const user = await createUser(server);
  const ap = await pageWithAuthenticator(browser);
  try {
    // Signed in with the password, the owner adds a passkey (a recent sign-in stands in for the password).
    let request = await startAuthorization(ap);
    await passwordSignIn(ap, user);
    await tokensAfter(ap, request);
    // The callback is seen when it is requested; its navigation must end before the next one
    // starts, or (on a loaded machine) the two collide.
    await ap.page.waitForURL((url) => url.hostname === 'app.example.test');
    await ap.page.goto(`${server.issuer}/account/security`);
    await ap.page.click('form:has(input[name="kind"][value="passkey"]) button[type="submit"]');
    await ap.page.fill('#passkey-name', 'Laptop');
    await ap.page.click('#passkey-button');
    await ap.page.waitForSelector('ul.recovery-codes');
    t.is(await ap.page.locator('ul.recovery-codes code').count(), 10);
    const stored = await server.keyhold.db.selectFrom('mfa_factors').selectAll().where('account_id', '=', user.id).where('kind', '=', 'passkey').executeTakeFirstOrThrow();
    t.is(stored.name, 'Laptop');
    t.truthy(stored.public_key);
    t.truthy(stored.credential_id);

    // Passwordless: nothing typed. The email field offers the passkey (conditional UI); the
    // virtual authenticator picks it at once, as a person choosing it from autofill would.
    await ap.context.clearCookies();
    request = await startAuthorization(ap);
    let claims = (await tokensAfter(ap, request)).claims()!;
    t.is(claims.sub, user.id);
    t.is(claims.acr, ACR.phr);
    t.deepEqual([...(claims.amr as string[])].sort(), ['hwk', 'user']);

    // Second factor after the password, on a device whose copy of the passkey is not
    // discoverable (so autofill offers nothing): the challenge page offers the passkey first.
    const { credentials } = await ap.cdp.send('WebAuthn.getCredentials', { authenticatorId: ap.authenticatorId });
    const second = await pageWithAuthenticator(browser);
    try {
      await second.cdp.send('WebAuthn.addCredential', { authenticatorId: second.authenticatorId, credential: { ...credentials[0]!, isResidentCredential: false } });
      request = await startAuthorization(second);
      await passwordSignIn(second, user);
      await second.page.waitForSelector('#passkey-button');
      await second.page.click('#passkey-button');
      claims = (await tokensAfter(second, request)).claims()!;
      t.is(claims.acr, ACR.phr);
      t.deepEqual([...(claims.amr as string[])].sort(), ['hwk', 'mfa', 'pwd', 'user']);
    } finally {
      await second.context.close();
    }

    // An assertion claiming another origin (as a phishing proxy would relay it): refused.
    await ap.context.clearCookies();
    await ap.page.route('**/interaction/*/passkey', async (route) => {
      const body = new URLSearchParams(route.request().postData() ?? '');
      const response = JSON.parse(body.get('response') ?? '{}') as { response: { clientDataJSON: string } };
      const clientData = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString()) as { origin: string };
      clientData.origin = 'https://keyhold.evil.test';
      response.response.clientDataJSON = Buffer.from(JSON.stringify(clientData)).toString('base64url');
      body.set('response', JSON.stringify(response));
      await route.continue({ postData: body.toString() });
    });
    request = await startAuthorization(ap);
    await ap.page.waitForSelector('p.alert');
    await ap.page.unroute('**/interaction/*/passkey');
    t.true((await refusals(user.id)).includes('wrong_origin'));

    // A counter lower than the one stored (a cloned authenticator): refused.
    await server.keyhold.db.updateTable('mfa_factors').set({ sign_count: 1_000_000 }).where('id', '=', stored.id).execute();
    request = await startAuthorization(ap);
    await ap.page.waitForSelector('p.alert');
    t.true((await refusals(user.id)).includes('counter_regression'));

    // A removed passkey no longer signs anyone in.
    const account = (await server.keyhold.accounts.findById(user.id))!;
    await server.keyhold.mfa.removeFactor(account, stored.id, { mustKeepOne: false });
    request = await startAuthorization(ap);
    await ap.page.waitForSelector('p.alert');
    // The credential no longer belongs to anyone: the refusal is audited without an account.
    t.true((await refusals(undefined)).includes('unknown_credential'));
    // Only the password sign-in and the passwordless one reached the client.
    t.is(ap.callbacks.length, 2);
  } finally {
    await ap.context.close();
  }
});

test.serial('a passkey created at sign-in, where the client requires a second factor, counts at once: amr hwk with the password', async (t) => {
  const user = await createUser(server);
  const strict = await discover(server, await registerClient(server, { first_party: true, require_mfa: true }));
  const ap = await pageWithAuthenticator(browser);
  try {
    const request = await authorizationRequest(strict);
    await ap.page.goto(request.url.toString());
    await passwordSignIn(ap, user);
    await ap.page.click('form:has(input[name="kind"][value="passkey"]) button[type="submit"]');
    await ap.page.click('#passkey-button');
    // The first factor of the account: recovery codes, then on to the client.
    await ap.page.waitForSelector('ul.recovery-codes');
    await ap.page.click('form[action$="/mfa/continue"] button[type="submit"]');
    const callback = await callbackNumber(ap, 1);
    const claims = (await oidc.authorizationCodeGrant(strict, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce })).claims()!;
    t.is(claims.sub, user.id);
    // The virtual authenticator's passkey is bound to it (not synced): hwk, not swk.
    t.deepEqual([...(claims.amr as string[])].sort(), ['hwk', 'mfa', 'pwd', 'user']);
  } finally {
    await ap.context.close();
  }
});

test('acr_values=urn:keyhold:acr:phr asks an account without a passkey to create one (the only choice offered)', async (t) => {
  const user = await createUser(server);
  const flow = await openAuthorization(config, { acr_values: ACR.phr });
  const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.false(atRedirectUri(page.url));
  t.true(page.body.includes('name="kind" value="passkey"'));
  t.false(page.body.includes('name="kind" value="totp"'));
  const options = await flow.browser.submit(page, /\/mfa\/enrol$/, { kind: 'passkey' });
  t.true(options.body.includes('data-passkey="register"'));
  t.regex(options.body, /"rp":\{"name":"Keyhold","id":"localhost"\}/);
});
