// Account API sessions over HTTP: each device's session is listed with its device, address
// and times; one device ends another's session (whose refresh token then fails at once);
// revoke-others keeps only the caller's; CONCURRENT_SESSION_LIMIT ends the oldest. And the
// attacker's side: another account's session id is not found, and reading does not allow ending.
import test from 'ava';
import * as oidc from 'openid-client';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { DeviceBrowser } from '../helpers/browser.ts';
import { createUser, discover, login, registerClient, silentAuthorization } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const LAPTOP = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

interface Target {
  server: TestServer;
  config: oidc.Configuration;
}

let open: Target;
let limited: Target;

async function start(env: Record<string, string> = {}, redis = true): Promise<Target> {
  const server = await startTestServer({ env, redis });
  return { server, config: await discover(server, await registerClient(server, { first_party: true })) };
}

test.before(async () => {
  [open, limited] = await Promise.all([start(), start({ CONCURRENT_SESSION_LIMIT: '2' }, false)]);
});
test.after.always(async () => {
  await Promise.all([open?.server.stop(), limited?.server.stop()]);
});

/** Signs `user` in on a new device: its browser, an Account API token and a refresh token. */
async function device(target: Target, user: { email: string; password: string }, userAgent: string, scope = 'openid offline_access account:read account:write') {
  const browser = new DeviceBrowser(userAgent);
  const { tokens } = await login(target.config, user, { resource: accountResourceFor(target.server.issuer), scope, prompt: 'consent' }, browser);
  // Devices are recorded after the engine saved the session, off the response's path.
  await target.server.keyhold.background.settled();
  return { browser, token: tokens.access_token, refreshToken: tokens.refresh_token! };
}

const sessionsOf = async (target: Target, token: string) => {
  const response = await callApi(target.server, token, 'GET', '/api/account/sessions');
  if (response.status !== 200) throw new Error(`sessions: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as unknown as Array<Record<string, any>>;
};

async function refreshFails(target: Target, refreshToken: string): Promise<boolean> {
  try {
    await oidc.refreshTokenGrant(target.config, refreshToken);
    return false;
  } catch (error) {
    return (error as oidc.ResponseBodyError).error === 'invalid_grant';
  }
}

test('each device is listed; the phone ends the laptop session, whose refresh token and browser session stop at once', async (t) => {
  const user = await createUser(open.server);
  const laptop = await device(open, user, LAPTOP);
  const phone = await device(open, user, PHONE);

  const listed = await sessionsOf(open, phone.token);
  t.is(listed.length, 2);
  const mine = listed.find((session) => session.current)!;
  const other = listed.find((session) => !session.current)!;
  t.is(mine.user_agent, PHONE);
  t.regex(mine.device, /Safari 17 on iOS/);
  t.is(other.device, 'Chrome 120 on macOS');
  for (const session of listed) {
    t.is(session.ip, '127.0.0.1');
    t.false(Number.isNaN(Date.parse(session.created_at)));
    t.true(Date.parse(session.last_active_at) >= Date.parse(session.created_at));
    t.regex(session.id, /^[\w-]{43}$/);
  }
  // The laptop sees the same two, with itself as current.
  const fromLaptop = await sessionsOf(open, laptop.token);
  t.is(fromLaptop.find((session) => session.current)?.id, other.id);

  const revoked = await callApi(open.server, phone.token, 'DELETE', `/api/account/sessions/${other.id}`);
  t.is(revoked.status, 204);
  t.true(await refreshFails(open, laptop.refreshToken), 'the laptop refresh token is dead');
  const laptopApi = await callApi(open.server, laptop.token, 'GET', '/api/account');
  t.is(laptopApi.status, 401, 'the laptop access token is dead too (its grant ended)');
  const silent = await silentAuthorization(open.config, laptop.browser);
  t.is(silent.searchParams.get('error'), 'login_required', 'the laptop browser is signed out');

  // The phone is untouched.
  t.deepEqual((await sessionsOf(open, phone.token)).map((session) => session.id), [mine.id]);
  const rotated = await oidc.refreshTokenGrant(open.config, phone.refreshToken);
  t.truthy(rotated.access_token);
  // Ending it again: not found.
  t.is((await callApi(open.server, phone.token, 'DELETE', `/api/account/sessions/${other.id}`)).status, 404);
});

test('revoke-others keeps only the calling session', async (t) => {
  const user = await createUser(open.server);
  const first = await device(open, user, LAPTOP);
  const second = await device(open, user, PHONE);
  const third = await device(open, user, LAPTOP);

  const response = await callApi(open.server, third.token, 'POST', '/api/account/sessions/revoke-others');
  t.is(response.status, 200);
  t.deepEqual(response.body, { revoked: 2 });
  const left = await sessionsOf(open, third.token);
  t.is(left.length, 1);
  t.true(left[0]!.current);
  t.true(await refreshFails(open, first.refreshToken));
  t.true(await refreshFails(open, second.refreshToken));
  t.falsy(await refreshFails(open, third.refreshToken));
});

test('attacker: another account\'s session id is not found, and nothing of it ends', async (t) => {
  const victim = await createUser(open.server);
  const attacker = await createUser(open.server);
  const victimDevice = await device(open, victim, LAPTOP);
  const attackerDevice = await device(open, attacker, PHONE);
  const [victimSession] = await sessionsOf(open, victimDevice.token);

  for (const id of [victimSession!.id, 'x'.repeat(43), '..%2F..%2Fadmin', '{Session:abc}']) {
    const response = await callApi(open.server, attackerDevice.token, 'DELETE', `/api/account/sessions/${id}`);
    t.is(response.status, 404, id);
    t.is(response.body.error, 'not_found');
  }
  t.is((await sessionsOf(open, attackerDevice.token)).some((session) => session.id === victimSession!.id), false, 'never listed to another account');
  t.is((await sessionsOf(open, victimDevice.token)).length, 1, 'the victim is still signed in');
  t.falsy(await refreshFails(open, victimDevice.refreshToken));

  // No token, or a read-only token, ends nothing.
  t.is((await callApi(open.server, undefined, 'DELETE', `/api/account/sessions/${victimSession!.id}`)).status, 401);
  const reader = await device(open, victim, PHONE, 'openid account:read');
  const forbidden = await callApi(open.server, reader.token, 'POST', '/api/account/sessions/revoke-others');
  t.is(forbidden.status, 403);
  t.is((await sessionsOf(open, victimDevice.token)).length, 2);
});

test('CONCURRENT_SESSION_LIMIT ends the oldest session when one more starts (SQL engine state)', async (t) => {
  const user = await createUser(limited.server);
  const oldest = await device(limited, user, LAPTOP);
  const middle = await device(limited, user, PHONE);
  t.is((await sessionsOf(limited, middle.token)).length, 2);
  const newest = await device(limited, user, LAPTOP);

  const listed = await sessionsOf(limited, newest.token);
  t.is(listed.length, 2);
  t.true(await refreshFails(limited, oldest.refreshToken), 'the oldest session ended with its grants');
  t.falsy(await refreshFails(limited, middle.refreshToken));
});
