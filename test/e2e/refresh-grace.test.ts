// REFRESH_REUSE_GRACE (DESIGN.md, "Refresh tokens"): strict by default, where any reuse of a
// rotated refresh token revokes the grant; with a grace, a concurrent or retried refresh
// from the same client gets the very same successor tokens, never a second branch, and
// after the window reuse revokes again. Run against both engine-state stores, each with a
// hundred refreshes of one token at once.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { registerClient, signInNewUser, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// A long window for the races (a hundred requests on a loaded runner can take seconds to
// all reach the store), a short one to see it close.
const GRACE = 60;
const SHORT_GRACE = 2;
const CONCURRENT = 100;
type Store = 'redis' | 'sql';
const strict: Record<Store, TestServer> = {} as never;
const grace: Record<Store, TestServer> = {} as never;
const shortGrace: Record<Store, TestServer> = {} as never;

test.before(async () => {
  const env = { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' };
  const graceEnv = { ...env, REFRESH_REUSE_GRACE: String(GRACE) };
  const shortEnv = { ...env, REFRESH_REUSE_GRACE: String(SHORT_GRACE) };
  [strict.redis, strict.sql, grace.redis, grace.sql, shortGrace.redis, shortGrace.sql] = await Promise.all([
    startTestServer({ env }),
    startTestServer({ redis: false, env }),
    startTestServer({ env: graceEnv }),
    startTestServer({ redis: false, env: graceEnv }),
    startTestServer({ env: shortEnv }),
    startTestServer({ redis: false, env: shortEnv }),
  ]);
});
test.after.always(async () => {
  await Promise.all([strict, grace, shortGrace].flatMap((servers) => Object.values(servers)).map((server) => server?.stop()));
});

async function offlineSession(server: TestServer) {
  const { client, tokens } = await signInNewUser(server, { client: { first_party: true }, parameters: { scope: 'openid offline_access', prompt: 'consent' } });
  if (!tokens.refresh_token) throw new Error('no refresh token issued');
  return { client, refreshToken: tokens.refresh_token };
}

const refresh = (server: TestServer, client: { clientId: string; clientSecret?: string }, refreshToken: string) =>
  tokenRequest(server, client, { grant_type: 'refresh_token', refresh_token: refreshToken });

async function userinfo(server: TestServer, accessToken: string) {
  const response = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return response.status;
}

for (const store of ['redis', 'sql'] as const) {
  test(`${store}, strict: of ${CONCURRENT} concurrent refreshes of one token exactly one wins, and the grant is revoked`, async (t) => {
    const server = strict[store];
    const { client, refreshToken } = await offlineSession(server);
    const results = await Promise.all(Array.from({ length: CONCURRENT }, () => refresh(server, client, refreshToken)));
    const winners = results.filter((result) => result.status === 200);
    t.is(winners.length, 1, JSON.stringify(results.filter((result) => result.status !== 400 && result.status !== 200)));
    for (const loser of results.filter((result) => result.status !== 200)) {
      t.is(loser.status, 400);
      t.is(loser.body.error, 'invalid_grant');
    }
    // The reuse burnt the family: the winner's successor is dead too.
    const successor = await refresh(server, client, winners[0]!.body.refresh_token as string);
    t.is(successor.status, 400);
    t.is(successor.body.error, 'invalid_grant');
    t.is(await userinfo(server, winners[0]!.body.access_token as string), 401);
  });

  test(`${store}, strict: a sequential reuse revokes the grant at once`, async (t) => {
    const server = strict[store];
    const { client, refreshToken } = await offlineSession(server);
    const first = await refresh(server, client, refreshToken);
    t.is(first.status, 200);
    const reuse = await refresh(server, client, refreshToken);
    t.is(reuse.status, 400);
    t.is((await refresh(server, client, first.body.refresh_token as string)).status, 400);
  });

  test(`${store}, grace: ${CONCURRENT} concurrent refreshes of one token all get the same successor, which works`, async (t) => {
    const server = grace[store];
    const { client, refreshToken } = await offlineSession(server);
    const results = await Promise.all(Array.from({ length: CONCURRENT }, () => refresh(server, client, refreshToken)));
    t.deepEqual(results.filter((result) => result.status !== 200), [], 'every refresh succeeds');
    // No second branch: one refresh token, one access token, one ID token for everyone.
    t.is(new Set(results.map((result) => result.body.refresh_token)).size, 1);
    t.is(new Set(results.map((result) => result.body.access_token)).size, 1);
    t.is(new Set(results.map((result) => result.body.id_token)).size, 1);
    const successor = results[0]!.body;
    t.not(successor.refresh_token, refreshToken);
    t.is(await userinfo(server, successor.access_token as string), 200);

    // A retry within the window still gets that successor, not a new one.
    const retry = await refresh(server, client, refreshToken);
    t.is(retry.status, 200);
    t.is(retry.body.refresh_token, successor.refresh_token);

    const next = await refresh(server, client, successor.refresh_token as string);
    t.is(next.status, 200, JSON.stringify(next.body));
    t.not(next.body.refresh_token, successor.refresh_token);
    t.is(await userinfo(server, next.body.access_token as string), 200);
  });

  test(`${store}, grace: another client presenting a rotated token is refused and burns nothing`, async (t) => {
    const server = grace[store];
    const { client, refreshToken } = await offlineSession(server);
    const first = await refresh(server, client, refreshToken);
    t.is(first.status, 200);
    const intruder = await registerClient(server, { first_party: true });
    const stolen = await refresh(server, intruder, refreshToken);
    t.is(stolen.status, 400);
    t.is(stolen.body.error, 'invalid_grant');
    t.false(JSON.stringify(stolen.body).includes(first.body.refresh_token as string));
    // Also when racing the rotation itself.
    const { client: racer, refreshToken: racing } = await offlineSession(server);
    const mixed = await Promise.all([refresh(server, racer, racing), refresh(server, intruder, racing), refresh(server, racer, racing)]);
    t.is(mixed[1]!.status, 400);
    t.is(mixed[0]!.status, 200);
    t.is(mixed[2]!.status, 200);
    t.is(mixed[0]!.body.refresh_token, mixed[2]!.body.refresh_token);
    t.is((await refresh(server, client, first.body.refresh_token as string)).status, 200);
  });

  test(`${store}, grace: the kept response is sealed, and lives only as long as the window`, async (t) => {
    const server = grace[store];
    const { client, refreshToken } = await offlineSession(server);
    const first = await refresh(server, client, refreshToken);
    t.is(first.status, 200);
    const kept: Array<{ text: string; ttl: number }> = [];
    if (store === 'sql') {
      const rows = await sql<{ text: string; ttl: number }>`select payload::text as text, extract(epoch from expires_at - now())::float as ttl from oidc_payloads where model = 'RefreshGrace'`.execute(server.keyhold.db);
      kept.push(...rows.rows);
    } else {
      const redis = server.keyhold.redis!;
      for (const key of await redis.keys(`${server.redisPrefix}{RefreshGrace:*`)) kept.push({ text: JSON.stringify(await redis.hgetall(key)), ttl: await redis.ttl(key) });
    }
    t.true(kept.length >= 1);
    for (const { text, ttl } of kept) {
      for (const secret of [refreshToken, first.body.refresh_token, first.body.access_token, first.body.id_token] as string[]) t.false(text.includes(secret));
      t.true(ttl > 0 && ttl <= GRACE, `ttl ${ttl}`);
    }
  });

  test(`${store}, grace: after the window a reuse revokes the grant`, async (t) => {
    t.timeout(60_000);
    const server = shortGrace[store];
    const { client, refreshToken } = await offlineSession(server);
    const first = await refresh(server, client, refreshToken);
    t.is(first.status, 200);
    await sleep((SHORT_GRACE + 1.5) * 1000);
    const reuse = await refresh(server, client, refreshToken);
    t.is(reuse.status, 400);
    t.is(reuse.body.error, 'invalid_grant');
    t.is((await refresh(server, client, first.body.refresh_token as string)).status, 400, 'the successor was revoked with the grant');
    t.is(await userinfo(server, first.body.access_token as string), 401);
  });
}
