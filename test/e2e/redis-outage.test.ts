// Redis down and back under load, on a redis-server of the test's own (AOF on, as the
// README asks of operators): requests needing Redis answer 503 with Retry-After and
// service_unavailable (never a 500, never a hang), discovery, JWKS and static files keep
// working, /readyz names Redis, and when Redis returns traffic succeeds again without a
// restart and nothing written before the outage is lost.
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { authorizationRequest, createUser, discover, login, registerClient, tokenRequest } from '../helpers/oidc.ts';
import { assertOutageWindow, commonSteps, OUTAGE_ENV, startLoad, waitUntil } from '../helpers/outage-load.ts';
import { startOwnRedis, type OwnRedis } from '../helpers/own-services.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let redis: OwnRedis;
let server: TestServer;

test.before(async () => {
  redis = await startOwnRedis();
  server = await startTestServer({
    redisUrl: redis.url,
    env: OUTAGE_ENV,
  });
});

test.after.always(async () => {
  await server?.stop();
  await redis?.destroy();
});

const metric = async (name: string) => {
  const text = await (await fetch(`${server.issuer}/metrics`)).text();
  return text.split('\n').find((line) => line.startsWith(name))?.split(' ').at(-1);
};

test('Redis stops and returns mid-load: 503s only, nothing lost, traffic back by itself', async (t) => {
  const client = await registerClient(server, { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] });
  const user = await createUser(server);
  const config = await discover(server, client);
  // State written before the outage: a grant with its refresh token, an access token.
  const before = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, new Browser());
  const keptRefreshToken = before.tokens.refresh_token!;
  const keptAccessToken = before.tokens.access_token;
  const rolling = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, new Browser());
  // A recovery form opened before the outage, sent during it.
  const recoveryBrowser = new Browser();
  const recoveryForm = await recoveryBrowser.get(`${server.issuer}/recovery`);

  const load = startLoad(commonSteps(server.issuer, config, client, user, rolling.tokens.refresh_token!));
  await new Promise((resolve) => setTimeout(resolve, 1500));

  const downAt = load.now();
  await redis.stop();
  t.true(await waitUntil(async () => (await fetch(`${server.issuer}/readyz`)).status === 503, 5000), '/readyz reports the outage');
  const ready = await fetch(`${server.issuer}/readyz`);
  t.like(await ready.json(), { status: 'unavailable', checks: { redis: 'unavailable', database: 'ok' } });

  const token = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  t.is(token.status, 503);
  t.truthy(token.headers.get('retry-after'));
  t.like(await token.json(), { error: 'service_unavailable' });

  // A browser gets a page, with the same code and Retry-After.
  const authorization = await fetch((await authorizationRequest(config)).url, { headers: { accept: 'text/html' }, redirect: 'manual' });
  t.is(authorization.status, 503);
  t.truthy(authorization.headers.get('retry-after'));
  t.regex(authorization.headers.get('content-type') ?? '', /text\/html/);
  t.regex(await authorization.text(), /service_unavailable/);

  // Account API (a Keyhold route whose bearer token lives in Redis): JSON 503.
  const account = await fetch(`${server.issuer}/api/account`, { headers: { authorization: `Bearer ${keptAccessToken}` } });
  t.is(account.status, 503);
  t.like(await account.json(), { error: 'service_unavailable' });

  // The recovery (and sign-in, registration) limits fail closed (RATE_LIMIT_REDIS_FAILURE
  // default): a 503 page, each failure logged and counted.
  const recovery = await recoveryBrowser.submit(recoveryForm, /\/recovery$/, { email: user.email });
  t.is(recovery.status, 503);
  t.truthy(recovery.headers.get('retry-after'));
  t.regex(recovery.body, /service_unavailable/);
  t.true(Number(await metric('keyhold_rate_limit_store_errors_total{limit="recovery-address"}')) > 0);

  await new Promise((resolve) => setTimeout(resolve, 1500));
  await redis.start();
  const upAt = load.now();
  const recovered = await waitUntil(async () => (await tokenRequest(server, client, { grant_type: 'client_credentials' })).status === 200, 20_000); // Generous for a loaded CI runner: what matters is "without a restart".
  t.true(recovered, 'token requests succeed again within seconds of Redis returning');
  t.is((await fetch(`${server.issuer}/readyz`)).status, 200);
  const recoveredAt = load.now();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await load.stop();

  // Never a dropped connection nor a 5xx but 503; 503s only while Redis was away (and the
  // moment it took to notice its return); paths that do not need Redis never failed.
  assertOutageWindow(t, load, downAt, recoveredAt);
  // Every kind of traffic succeeded again after the return.
  for (const worker of ['signIn', 'clientCredentials']) {
    t.true(load.observations.some((o) => o.worker === worker && o.at > upAt && o.status === 200), `${worker} succeeds after Redis returns`);
  }
  // The rolling refresh either goes on, or (known limit, see README "Operations") the
  // rotation the outage cut between spending its token and storing the next one left the
  // client a spent token: invalid_grant from then on, and the only 4xx allowed.
  const refused = load.observations.filter((o) => o.status >= 400 && o.status < 500);
  t.deepEqual(refused.filter((o) => o.worker !== 'refresh' || o.error !== 'invalid_grant' || o.at < downAt), []);
  const refreshesAfter = load.observations.filter((o) => o.worker === 'refresh' && o.at > recoveredAt);
  t.true(refreshesAfter.every((o) => o.status === 200) || refreshesAfter.every((o) => o.error === 'invalid_grant'));
  if (refused.length > 0) t.log(`the rolling refresh token was spent by a rotation the outage cut (${refused.length} invalid_grant)`);

  // Nothing written before the outage was lost: the grant refreshes, the token is valid.
  const refreshed = await oidc.refreshTokenGrant(config, keptRefreshToken);
  t.truthy(refreshed.access_token);
  t.is((await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${keptAccessToken}` } })).status, 200);
  // The outage was logged and counted.
  t.true(Number(await metric('keyhold_dependency_unavailable_total{dependency="redis"}')) > 0);
});
