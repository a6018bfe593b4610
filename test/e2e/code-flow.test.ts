import test from 'ava';
import * as oidc from 'openid-client';
import { signInNewUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

test('oidcc-server: code flow with PKCE, valid ID token, userinfo', async (t) => {
  const { client, user, config, tokens } = await signInNewUser(server);
  const claims = tokens.claims()!;
  t.is(claims.sub, user.id);
  t.is(claims.iss, server.issuer);
  t.is(claims.aud, client.clientId);
  // The Contract: ID tokens say how the user authenticated.
  t.deepEqual(claims.amr, ['pwd']);
  t.is(claims.acr, 'urn:keyhold:acr:password');
  t.true(typeof claims.auth_time === 'number');
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(userinfo.email, user.email);
  t.is(userinfo.email_verified, true);
});
