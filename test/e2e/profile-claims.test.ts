// Profile fields are OIDC standard claims, released by scope at userinfo (and in the ID
// token when requested with the claims parameter).
import test from 'ava';
import * as oidc from 'openid-client';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

async function profiledUser() {
  const user = await createUser(server, { name: 'Grace Hopper' });
  await server.keyhold.accountData.updateProfile(user.id, {
    given_name: 'Grace',
    family_name: 'Hopper',
    picture: 'https://images.example.test/grace.png',
    locale: 'en-US',
    zoneinfo: 'America/New_York',
    phone_number: '+14155550123',
  });
  return user;
}

test('scope profile releases the profile claims, phone the phone claims, and nothing more', async (t) => {
  const user = await profiledUser();
  const config = await discover(server, await registerClient(server, { first_party: true }));

  const profile = await login(config, user, { scope: 'openid profile' });
  const profileInfo = await oidc.fetchUserInfo(config, profile.tokens.access_token, user.id);
  t.like(profileInfo, { name: 'Grace Hopper', given_name: 'Grace', family_name: 'Hopper', picture: 'https://images.example.test/grace.png', locale: 'en-US', zoneinfo: 'America/New_York' });
  t.is(typeof profileInfo.updated_at, 'number');
  t.is(profileInfo.email, undefined);
  t.is(profileInfo.phone_number, undefined);

  const phone = await login(config, user, { scope: 'openid phone', prompt: 'login' });
  const phoneInfo = await oidc.fetchUserInfo(config, phone.tokens.access_token, user.id);
  t.is(phoneInfo.phone_number, '+14155550123');
  t.is(phoneInfo.phone_number_verified, false);
  t.is(phoneInfo.given_name, undefined);
});

test('the claims parameter puts profile claims into the ID token', async (t) => {
  const user = await profiledUser();
  const config = await discover(server, await registerClient(server, { first_party: true }));
  const { tokens } = await login(config, user, { scope: 'openid profile', claims: JSON.stringify({ id_token: { given_name: null, zoneinfo: null } }) });
  t.like(tokens.claims(), { given_name: 'Grace', zoneinfo: 'America/New_York' });
});

test('invalid profile values are refused by the service rules', async (t) => {
  const user = await createUser(server);
  const { profilePatchSchema } = await import('#src/services/account-data.ts');
  t.false(profilePatchSchema.safeParse({ zoneinfo: 'Mars/Olympus' }).success);
  t.false(profilePatchSchema.safeParse({ picture: 'http://insecure.example.test/a.png' }).success);
  t.false(profilePatchSchema.safeParse({ phone_number: '0123' }).success);
  t.false(profilePatchSchema.safeParse({ locale: 'not a locale' }).success);
  t.false(profilePatchSchema.safeParse({ email: 'x@example.test' }).success);
  t.true(profilePatchSchema.safeParse({ given_name: null, locale: 'pt-BR' }).success);
  const updated = await server.keyhold.accountData.updateProfile(user.id, { given_name: null, locale: 'pt-BR' });
  t.is(updated.locale, 'pt-BR');
  t.is(updated.givenName, null);
});
