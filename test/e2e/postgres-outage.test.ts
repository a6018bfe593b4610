// Postgres down and back under load, on a cluster of the test's own (initdb + pg_ctl):
// account and client paths answer 503 with Retry-After and service_unavailable (never a
// 500, never a hang), discovery, JWKS and static files keep working, /readyz names the
// database, and when Postgres returns the pool reconnects by itself: sign-ins succeed
// again, and every account and grant written before the outage is still there.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { basicAuth, createUser, discover, login, registerClient, tokenRequest } from '../helpers/oidc.ts';
import { assertOutageWindow, commonSteps, OUTAGE_ENV, startLoad, waitUntil } from '../helpers/outage-load.ts';
import { startOwnPostgres, type OwnPostgres } from '../helpers/own-services.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { accountResourceFor } from '#src/services/resources.ts';

let postgres: OwnPostgres;
let server: TestServer;

test.before(async () => {
  postgres = await startOwnPostgres();
  const databaseUrl = await postgres.createDatabase(`keyhold_outage_${randomBytes(4).toString('hex')}`);
  server = await startTestServer({
    databaseUrl,
    // Production's default: a down Postgres refuses connections at once, a silent one is
    // given this long.
    env: { ...OUTAGE_ENV, DATABASE_CONNECT_TIMEOUT: '10' },
  });
});

test.after.always(async () => {
  await server?.stop();
  await postgres?.destroy();
});

test('Postgres stops and returns mid-load: 503s only, nothing lost, the pool recovers', async (t) => {
  const client = await registerClient(server, { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] });
  // Registered before the outage, first used during it: its lookup needs the database.
  const unseenClient = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const user = await createUser(server);
  const config = await discover(server, client);
  // An Account API token (opaque, for the account resource) with a refresh token.
  const before = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid offline_access account:read', prompt: 'consent' }, new Browser());
  const rolling = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, new Browser());

  const load = startLoad({
    ...commonSteps(server.issuer, config, client, user, rolling.tokens.refresh_token!),
    account: async (observe) => {
      const response = await fetch(`${server.issuer}/api/account`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
      observe(response.status, ((await response.json()) as { error?: string }).error);
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));

  const downAt = load.now();
  await postgres.stop();
  t.true(await waitUntil(async () => (await fetch(`${server.issuer}/readyz`)).status === 503, 5000), '/readyz reports the outage');
  t.like(await (await fetch(`${server.issuer}/readyz`)).json(), { status: 'unavailable', checks: { database: 'unavailable', redis: 'ok' } });

  // Account path (Account API): JSON 503 with Retry-After.
  const account = await fetch(`${server.issuer}/api/account`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
  t.is(account.status, 503);
  t.truthy(account.headers.get('retry-after'));
  t.like(await account.json(), { error: 'service_unavailable' });
  // Client path (the engine looks the client up): JSON 503 with Retry-After.
  const token = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(unseenClient), accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  t.is(token.status, 503);
  t.truthy(token.headers.get('retry-after'));
  t.like(await token.json(), { error: 'service_unavailable' });

  await new Promise((resolve) => setTimeout(resolve, 1500));
  await postgres.start();
  const upAt = load.now();
  const recovered = await waitUntil(async () => (await fetch(`${server.issuer}/api/account`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } })).status === 200, 20_000); // Generous for a loaded CI runner: what matters is "without a restart".
  t.true(recovered, 'account requests succeed again within seconds of Postgres returning');
  t.is((await fetch(`${server.issuer}/readyz`)).status, 200);
  const recoveredAt = load.now();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await load.stop();

  assertOutageWindow(t, load, downAt, recoveredAt);
  t.deepEqual(load.observations.filter((o) => o.status >= 400 && o.status < 500), []);
  for (const worker of ['signIn', 'clientCredentials', 'refresh', 'account']) {
    t.true(load.observations.some((o) => o.worker === worker && o.at > upAt && o.status === 200), `${worker} succeeds after Postgres returns`);
  }

  // Nothing written before the outage was lost: the account signs in, both clients work,
  // the grant refreshes.
  t.truthy((await login(config, user, {}, new Browser())).tokens.id_token);
  t.is((await tokenRequest(server, unseenClient, { grant_type: 'client_credentials' })).status, 200);
  t.truthy((await oidc.refreshTokenGrant(config, before.tokens.refresh_token!)).access_token);
  const metrics = await (await fetch(`${server.issuer}/metrics`)).text();
  t.regex(metrics, /keyhold_dependency_unavailable_total\{dependency="database"\} [1-9]/);
});
