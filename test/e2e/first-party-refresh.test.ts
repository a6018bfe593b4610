// offline_access without prompt=consent: a first-party client that asks for it gets a refresh
// token after sign-in (what SPA libraries send); everyone else keeps the engine's rule.
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { createUser, discover, login, registerClient, silentAuthorization } from '../helpers/oidc.ts';
import { discoverWith, exchangeAt, keyPair, preparedRequest, privateKeyOf, signInAt } from '../helpers/protocol.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

const offline = { scope: 'openid email offline_access' };

test('a first-party client asking offline_access without prompt=consent gets a working refresh token', async (t) => {
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const user = await createUser(server);
  const { tokens } = await login(config, user, offline);
  t.truthy(tokens.refresh_token);
  t.true(tokens.scope?.split(' ').includes('offline_access'));
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.truthy(refreshed.access_token);
  t.truthy(refreshed.refresh_token);
});

test('a signed-in browser gets one too from a first-party client whose grant lacked offline_access', async (t) => {
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const user = await createUser(server);
  const browser = new Browser();
  const first = await login(config, user, { scope: 'openid email' }, browser);
  t.is(first.tokens.refresh_token, undefined);
  const second = await login(config, user, offline, browser);
  t.truthy(second.tokens.refresh_token);
});

test('without offline_access, or without the refresh_token grant, a first-party client gets none', async (t) => {
  const user = await createUser(server);
  const plain = await login(await discover(server, await registerClient(server, { first_party: true })), user, { scope: 'openid email' });
  t.is(plain.tokens.refresh_token, undefined);
  const noGrant = await discover(server, await registerClient(server, { first_party: true, grant_types: ['authorization_code'] }));
  const withoutGrant = await login(noGrant, user, offline);
  t.is(withoutGrant.tokens.refresh_token, undefined);
});

test('a first-party client whose scope allow-list lacks offline_access gets none', async (t) => {
  const config = await discover(server, await registerClient(server, { first_party: true, scope: 'openid email' }));
  const { tokens } = await login(config, await createUser(server), offline);
  t.is(tokens.refresh_token, undefined);
});

test('a third-party client still needs prompt=consent for offline_access', async (t) => {
  const config = await discover(server, await registerClient(server));
  const user = await createUser(server);
  const silent = await login(config, user, offline);
  t.is(silent.tokens.refresh_token, undefined);
  const consented = await login(config, user, { ...offline, prompt: 'consent' });
  t.truthy(consented.tokens.refresh_token);
});

test('prompt=none never gains offline_access (a silent renewal never needs consent)', async (t) => {
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const user = await createUser(server);
  const browser = new Browser();
  await login(config, user, { scope: 'openid' }, browser);
  const callback = await silentAuthorization(config, browser, { scope: 'openid offline_access' });
  t.truthy(callback.searchParams.get('code'), callback.toString());
  t.is(callback.searchParams.get('error'), null);
});

test('a first-party client gets it through a pushed request and a signed request object too', async (t) => {
  const pair = await keyPair('ES256');
  const client = await registerClient(server, { first_party: true, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pair.jwk] } });
  const config = await discoverWith(server.issuer, client.clientId, oidc.PrivateKeyJwt(privateKeyOf(pair)));
  const user = await createUser(server);
  const pushed = await preparedRequest(offline);
  const viaPar = await exchangeAt(config, await signInAt(await oidc.buildAuthorizationUrlWithPAR(config, pushed.parameters), user), pushed);
  t.truthy(viaPar.refresh_token);
  const signed = await preparedRequest(offline);
  const { searchParams } = await oidc.buildAuthorizationUrlWithJAR(config, signed.parameters, privateKeyOf(pair));
  const viaJar = await exchangeAt(config, await signInAt(await oidc.buildAuthorizationUrlWithPAR(config, searchParams), user), signed);
  t.truthy(viaJar.refresh_token);
});
