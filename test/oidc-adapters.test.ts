// One contract suite for the engine's storage adapters, run against Redis, a real Redis
// Cluster (three masters started here: a command naming keys of two slots fails there with
// CROSSSLOT) and SQL alike, plus the few checks that only make sense for one store.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { Cluster, Redis } from 'ioredis';
import { sql } from 'kysely';
import type { AdapterConstructor, AdapterPayload } from 'oidc-provider';
import { hashToken, randomToken } from '#src/crypto.ts';
import { createRedisAdapter } from '#src/stores/oidc-adapter-redis.ts';
import { createSqlAdapter, sweepExpiredPayloads } from '#src/stores/oidc-adapter-sql.ts';
import { openTestDatabase, type TestDatabaseHandle } from './helpers/database.ts';
import { createTestRedisPrefix, testRedisUrl, type TestRedisPrefix } from './helpers/infra.ts';
import { startRedisCluster, type TestRedisCluster } from './helpers/redis-cluster.ts';

interface Backend {
  /** Two adapters over separate connections, like two Keyhold nodes sharing a store. */
  nodes: [AdapterConstructor, AdapterConstructor];
  revokeAccount(accountId: string): Promise<void>;
  /** An adapter on the same store under another encryption key. */
  withKey(key: Buffer): AdapterConstructor;
  /** Everything the store holds for this suite, as text. */
  dump(): Promise<string>;
}

const encryptionKey = randomBytes(32);
type BackendName = 'redis' | 'redis-cluster' | 'sql';
const backends: Partial<Record<BackendName, Backend>> = {};

let database: TestDatabaseHandle | undefined;
let redisPrefix: TestRedisPrefix | undefined;
const redisClients: Redis[] = [];
let cluster: TestRedisCluster | undefined;
const clusterClients: Cluster[] = [];

test.before(async () => {
  database = await openTestDatabase({ poolMax: 5 });
  const secondDatabase = await database.connect();
  const { db } = database;
  const sqlStores = [createSqlAdapter(database.db, { encryptionKey }), createSqlAdapter(secondDatabase.db, { encryptionKey })] as const;
  backends.sql = {
    nodes: [sqlStores[0].Adapter, sqlStores[1].Adapter],
    revokeAccount: (accountId) => sqlStores[1].revokeAccount(accountId),
    withKey: (key) => createSqlAdapter(db, { encryptionKey: key }).Adapter,
    async dump() {
      const { rows } = await sql<{ row: string }>`select t::text as row from oidc_payloads t`.execute(db);
      return rows.map((entry) => entry.row).join('\n');
    },
  };

  redisPrefix = createTestRedisPrefix();
  const { prefix } = redisPrefix;
  const first = new Redis(testRedisUrl);
  const second = new Redis(testRedisUrl);
  redisClients.push(first, second);
  const redisStores = [createRedisAdapter(first, { prefix, encryptionKey }), createRedisAdapter(second, { prefix, encryptionKey })] as const;
  backends.redis = {
    nodes: [redisStores[0].Adapter, redisStores[1].Adapter],
    revokeAccount: (accountId) => redisStores[1].revokeAccount(accountId),
    withKey: (key) => createRedisAdapter(first, { prefix, encryptionKey: key }).Adapter,
    async dump() {
      const lines: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await first.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          const type = await first.type(key);
          let value: unknown;
          if (type === 'hash') value = await first.hgetall(key);
          else if (type === 'set') value = await first.smembers(key);
          else if (type === 'string') value = await first.get(key);
          else value = `(${type})`;
          lines.push(`${key} ${JSON.stringify(value)}`);
        }
      } while (cursor !== '0');
      return lines.join('\n');
    },
  };

  cluster = await startRedisCluster();
  const seeds = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  const clusterFirst = new Cluster(seeds);
  const clusterSecond = new Cluster(seeds);
  clusterClients.push(clusterFirst, clusterSecond);
  const clusterPrefix = 'keyhold:';
  const clusterStores = [createRedisAdapter(clusterFirst, { prefix: clusterPrefix, encryptionKey }), createRedisAdapter(clusterSecond, { prefix: clusterPrefix, encryptionKey })] as const;
  backends['redis-cluster'] = {
    nodes: [clusterStores[0].Adapter, clusterStores[1].Adapter],
    revokeAccount: (accountId) => clusterStores[1].revokeAccount(accountId),
    withKey: (key) => createRedisAdapter(clusterFirst, { prefix: clusterPrefix, encryptionKey: key }).Adapter,
    async dump() {
      const lines: string[] = [];
      for (const node of clusterFirst.nodes('master')) {
        const keys = await node.keys('*');
        for (const key of keys) {
          const type = await node.type(key);
          const value = type === 'hash' ? await node.hgetall(key) : type === 'set' ? await node.smembers(key) : type === 'string' ? await node.get(key) : `(${type})`;
          lines.push(`${key} ${JSON.stringify(value)}`);
        }
      }
      return lines.join('\n');
    },
  };
});

test.after.always(async () => {
  await database?.close();
  await redisPrefix?.clear();
  await Promise.allSettled(redisClients.map((client) => client.quit()));
  await Promise.allSettled(clusterClients.map((client) => client.quit()));
  await cluster?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

function tokenPayload(kind: string, jti: string, extra: AdapterPayload = {}): AdapterPayload {
  return { iat: now(), exp: now() + 600, jti, kind, clientId: 'client-1', accountId: 'account-1', scope: 'openid', ...extra };
}

function grantPayload(grantId: string): AdapterPayload {
  return { iat: now(), exp: now() + 3600, jti: grantId, kind: 'Grant', clientId: 'client-1', accountId: 'account-1' };
}

function errorCode(reason: unknown): unknown {
  return (reason as { error?: unknown } | undefined)?.error;
}

function contract(name: BackendName) {
  const backend = (): Backend => {
    const found = backends[name];
    if (!found) throw new Error(`${name} backend not set up`);
    return found;
  };

  test(`${name}: upsert then find round-trips the payload and restores jti`, async (t) => {
    const [Adapter] = backend().nodes;
    const adapter = new Adapter('AccessToken');
    const id = randomToken();
    const payload = tokenPayload('AccessToken', id, { grantId: randomToken(), extra: { tenant: 'acme' } });
    await adapter.upsert(id, payload, 60);
    const found = await adapter.find(id);
    t.deepEqual(found, payload);
    t.is(found?.jti, id);
    t.is(found?.consumed, undefined);
  });

  test(`${name}: upsert replaces the stored payload`, async (t) => {
    const [Adapter] = backend().nodes;
    const adapter = new Adapter('Session');
    const id = randomToken();
    await adapter.upsert(id, { jti: id, kind: 'Session', uid: 'uid-a', accountId: 'first', exp: now() + 60 }, 60);
    await adapter.upsert(id, { jti: id, kind: 'Session', uid: 'uid-a', accountId: 'second', exp: now() + 60 }, 60);
    t.is((await adapter.find(id))?.accountId, 'second');
  });

  test(`${name}: a payload without jti comes back without one`, async (t) => {
    const [Adapter] = backend().nodes;
    const adapter = new Adapter('Client');
    const id = `client-${randomToken(6)}`;
    await adapter.upsert(id, { client_id: id, redirect_uris: ['https://rp.example/cb'] });
    t.deepEqual(await adapter.find(id), { client_id: id, redirect_uris: ['https://rp.example/cb'] });
  });

  test(`${name}: find of an unknown id, uid or user code is undefined`, async (t) => {
    const [Adapter] = backend().nodes;
    t.is(await new Adapter('AccessToken').find(randomToken()), undefined);
    t.is(await new Adapter('Session').findByUid(randomToken()), undefined);
    t.is(await new Adapter('DeviceCode').findByUserCode('ABCD-EFGH'), undefined);
  });

  test(`${name}: models are separate namespaces`, async (t) => {
    const [Adapter] = backend().nodes;
    const id = randomToken();
    await new Adapter('AccessToken').upsert(id, tokenPayload('AccessToken', id), 60);
    t.is(await new Adapter('RefreshToken').find(id), undefined);
  });

  test(`${name}: findByUid returns the session with its id restored`, async (t) => {
    const [Adapter, Other] = backend().nodes;
    const id = randomToken();
    const uid = randomToken();
    const payload: AdapterPayload = { jti: id, kind: 'Session', uid, accountId: 'account-1', exp: now() + 60, iat: now() };
    await new Adapter('Session').upsert(id, payload, 60);
    t.deepEqual(await new Other('Session').findByUid(uid), payload);
    t.is(await new Other('Session').findByUid(randomToken()), undefined);
  });

  test(`${name}: findByUserCode returns the device code with id and user code restored`, async (t) => {
    const [Adapter, Other] = backend().nodes;
    const id = randomToken();
    const userCode = randomToken(6).toUpperCase();
    const payload = tokenPayload('DeviceCode', id, { userCode, grantId: randomToken() });
    await new Adapter('DeviceCode').upsert(id, payload, 60);
    const found = await new Other('DeviceCode').findByUserCode(userCode);
    t.deepEqual(found, payload);
    t.is(found?.jti, id);
    t.is(found?.userCode, userCode);
    t.is(await new Other('DeviceCode').findByUserCode(`${userCode}X`), undefined);
  });

  test(`${name}: destroy removes the object and its uid index`, async (t) => {
    const [Adapter] = backend().nodes;
    const adapter = new Adapter('Session');
    const id = randomToken();
    const uid = randomToken();
    await adapter.upsert(id, { jti: id, kind: 'Session', uid, exp: now() + 60 }, 60);
    t.truthy(await adapter.find(id));
    await adapter.destroy(id);
    t.is(await adapter.find(id), undefined);
    t.is(await adapter.findByUid(uid), undefined);
    await t.notThrowsAsync(adapter.destroy(id));
  });

  test(`${name}: consume sets consumed (epoch seconds) on the next find`, async (t) => {
    const [Adapter, Other] = backend().nodes;
    const id = randomToken();
    await new Adapter('AuthorizationCode').upsert(id, tokenPayload('AuthorizationCode', id, { grantId: randomToken() }), 60);
    t.is((await new Adapter('AuthorizationCode').find(id))?.consumed, undefined);
    const before = now();
    await new Adapter('AuthorizationCode').consume(id);
    const consumed = (await new Other('AuthorizationCode').find(id))?.consumed;
    t.is(typeof consumed, 'number');
    t.true(consumed >= before - 1 && consumed <= now() + 1, `consumed=${String(consumed)}`);
  });

  test(`${name}: an upsert never clears consumed`, async (t) => {
    const [Adapter] = backend().nodes;
    const adapter = new Adapter('DeviceCode');
    const id = randomToken();
    const payload = tokenPayload('DeviceCode', id, { userCode: randomToken(6), grantId: randomToken() });
    await adapter.upsert(id, payload, 60);
    await adapter.consume(id);
    // A copy read before the consume and saved after it.
    await adapter.upsert(id, { ...payload, accountId: 'updated' }, 60);
    const found = await adapter.find(id);
    t.is(found?.accountId, 'updated');
    t.is(typeof found?.consumed, 'number');

    const other = randomToken();
    await adapter.upsert(other, { ...tokenPayload('DeviceCode', other), consumed: 1_700_000_000 }, 60);
    t.is((await adapter.find(other))?.consumed, 1_700_000_000);
  });

  test(`${name}: consume of an unknown id fails with invalid_grant`, async (t) => {
    const [Adapter] = backend().nodes;
    const error = await t.throwsAsync(new Adapter('RefreshToken').consume(randomToken()));
    t.is(errorCode(error), 'invalid_grant');
  });

  test(`${name}: concurrent consume: one wins, the other fails and the whole grant is revoked`, async (t) => {
    const [First, Second] = backend().nodes;
    for (let round = 0; round < 3; round += 1) {
      const grantId = randomToken();
      const otherGrantId = randomToken();
      const refreshToken = randomToken();
      const accessToken = randomToken();
      const otherAccessToken = randomToken();
      const deviceCode = randomToken();
      const userCode = randomToken(6);
      await Promise.all([
        new First('Grant').upsert(grantId, grantPayload(grantId), 3600),
        new First('RefreshToken').upsert(refreshToken, tokenPayload('RefreshToken', refreshToken, { grantId }), 3600),
        new First('AccessToken').upsert(accessToken, tokenPayload('AccessToken', accessToken, { grantId }), 600),
        new First('DeviceCode').upsert(deviceCode, tokenPayload('DeviceCode', deviceCode, { grantId, userCode }), 600),
        new First('Grant').upsert(otherGrantId, grantPayload(otherGrantId), 3600),
        new First('AccessToken').upsert(otherAccessToken, tokenPayload('AccessToken', otherAccessToken, { grantId: otherGrantId }), 600),
      ]);

      const results = await Promise.allSettled([
        new First('RefreshToken').consume(refreshToken),
        new Second('RefreshToken').consume(refreshToken),
      ]);
      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      t.is(fulfilled.length, 1, `round ${round}`);
      t.is(rejected.length, 1, `round ${round}`);
      t.is(errorCode(rejected[0]?.reason), 'invalid_grant');
      t.is((rejected[0]?.reason as { error_detail?: string }).error_detail, 'grant revoked: token reuse detected');

      t.is(await new First('RefreshToken').find(refreshToken), undefined);
      t.is(await new First('AccessToken').find(accessToken), undefined);
      t.is(await new First('DeviceCode').find(deviceCode), undefined);
      t.is(await new First('DeviceCode').findByUserCode(userCode), undefined);
      t.is(await new First('Grant').find(grantId), undefined);
      t.is((await new First('AccessToken').find(otherAccessToken))?.jti, otherAccessToken);
      t.is((await new First('Grant').find(otherGrantId))?.jti, otherGrantId);
    }
  });

  test(`${name}: consuming an already consumed object revokes the grant`, async (t) => {
    const [Adapter] = backend().nodes;
    const grantId = randomToken();
    const code = randomToken();
    const accessToken = randomToken();
    await new Adapter('Grant').upsert(grantId, grantPayload(grantId), 3600);
    await new Adapter('AuthorizationCode').upsert(code, tokenPayload('AuthorizationCode', code, { grantId }), 60);
    await new Adapter('AccessToken').upsert(accessToken, tokenPayload('AccessToken', accessToken, { grantId }), 600);
    await new Adapter('AuthorizationCode').consume(code);
    const error = await t.throwsAsync(new Adapter('AuthorizationCode').consume(code));
    t.is(errorCode(error), 'invalid_grant');
    t.is(await new Adapter('AccessToken').find(accessToken), undefined);
    t.is(await new Adapter('Grant').find(grantId), undefined);
  });

  test(`${name}: revokeAccount ends the account's sessions, grants and their tokens, and nothing else`, async (t) => {
    const [Adapter] = backend().nodes;
    const accountId = `account-${randomToken(6)}`;
    const grantId = randomToken();
    const sessionId = randomToken();
    const token = randomToken();
    const refresh = randomToken();
    const otherGrantId = randomToken();
    const otherToken = randomToken();
    await new Adapter('Grant').upsert(grantId, { ...grantPayload(grantId), accountId }, 3600);
    await new Adapter('Session').upsert(sessionId, { iat: now(), exp: now() + 3600, jti: sessionId, kind: 'Session', uid: randomToken(), accountId }, 3600);
    await new Adapter('AccessToken').upsert(token, tokenPayload('AccessToken', token, { grantId, accountId }), 600);
    await new Adapter('RefreshToken').upsert(refresh, tokenPayload('RefreshToken', refresh, { grantId, accountId }), 600);
    await new Adapter('Grant').upsert(otherGrantId, grantPayload(otherGrantId), 3600);
    await new Adapter('AccessToken').upsert(otherToken, tokenPayload('AccessToken', otherToken, { grantId: otherGrantId }), 600);

    await backend().revokeAccount(accountId);

    t.is(await new Adapter('Grant').find(grantId), undefined);
    t.is(await new Adapter('Session').find(sessionId), undefined);
    t.is(await new Adapter('AccessToken').find(token), undefined);
    t.is(await new Adapter('RefreshToken').find(refresh), undefined);
    t.is((await new Adapter('Grant').find(otherGrantId))?.jti, otherGrantId);
    t.is((await new Adapter('AccessToken').find(otherToken))?.jti, otherToken);
  });

  test(`${name}: revokeByGrantId removes every model's objects of that grant only`, async (t) => {
    const [Adapter, Other] = backend().nodes;
    const grantId = randomToken();
    const otherGrantId = randomToken();
    const ids = { AccessToken: randomToken(), RefreshToken: randomToken(), AuthorizationCode: randomToken(), DeviceCode: randomToken() };
    const userCode = randomToken(6);
    const kept = { AccessToken: randomToken(), RefreshToken: randomToken() };
    await Promise.all([
      ...Object.entries(ids).map(([model, id]) =>
        new Adapter(model).upsert(id, tokenPayload(model, id, model === 'DeviceCode' ? { grantId, userCode } : { grantId }), 600),
      ),
      ...Object.entries(kept).map(([model, id]) => new Adapter(model).upsert(id, tokenPayload(model, id, { grantId: otherGrantId }), 600)),
      new Adapter('Grant').upsert(grantId, grantPayload(grantId), 3600),
      new Adapter('Grant').upsert(otherGrantId, grantPayload(otherGrantId), 3600),
    ]);

    await new Other('AccessToken').revokeByGrantId(grantId);

    for (const [model, id] of Object.entries(ids)) {
      t.is(await new Adapter(model).find(id), undefined, `${model} of the revoked grant`);
    }
    t.is(await new Adapter('DeviceCode').findByUserCode(userCode), undefined);
    for (const [model, id] of Object.entries(kept)) {
      t.is((await new Adapter(model).find(id))?.jti, id, `${model} of the other grant`);
    }
    t.is((await new Adapter('Grant').find(otherGrantId))?.jti, otherGrantId);
    // The Grant object is the engine's to destroy (revokeGrantPolicy), not revokeByGrantId's.
    t.is((await new Adapter('Grant').find(grantId))?.jti, grantId);
    await t.notThrowsAsync(new Adapter('AccessToken').revokeByGrantId(grantId));
  });

  test(`${name}: objects expire after expiresIn seconds`, async (t) => {
    const [Adapter] = backend().nodes;
    const id = randomToken();
    const uid = randomToken();
    // Three seconds of life: at least two whole seconds are left for the first read, however
    // close to a second boundary (or however late, on a loaded machine) the write lands.
    const exp = now() + 3;
    await new Adapter('Session').upsert(id, { jti: id, kind: 'Session', uid, exp }, 3);
    const written = Date.now();
    t.truthy(await new Adapter('Session').find(id));
    // Past every clock: the payload's exp (whole seconds) and the store's own expiry, which
    // counts from when the write reached it (no earlier than `written` minus the round trip).
    await sleep(Math.max(0, Math.max((exp + 1) * 1000, written + 3000) + 300 - Date.now()));
    t.is(await new Adapter('Session').find(id), undefined);
    t.is(await new Adapter('Session').findByUid(uid), undefined);
    const error = await t.throwsAsync(new Adapter('Session').consume(id));
    t.is(errorCode(error), 'invalid_grant');
  });

  test(`${name}: raw ids, user codes and session cookies never reach storage`, async (t) => {
    const [Adapter] = backend().nodes;
    const token = 'raw-secret-token-value';
    const sessionId = 'raw-session-id-value';
    const userCode = 'RAWUSERCODEVALUE';
    const interactionId = 'raw-interaction-id-value';
    await new Adapter('AccessToken').upsert(token, tokenPayload('AccessToken', token, { grantId: randomToken() }), 60);
    await new Adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: randomToken(), exp: now() + 60 }, 60);
    await new Adapter('DeviceCode').upsert(randomToken(), tokenPayload('DeviceCode', randomToken(), { userCode }), 60);
    await new Adapter('Interaction').upsert(
      interactionId,
      { jti: interactionId, kind: 'Interaction', exp: now() + 60, session: { accountId: 'account-1', uid: randomToken(), cookie: sessionId } },
      60,
    );

    const dump = await backend().dump();
    t.true(dump.includes(hashToken(token)), 'the hashed id is stored');
    for (const secret of [token, sessionId, userCode, interactionId]) {
      t.false(dump.includes(secret), `${secret} is in storage`);
    }

    t.is((await new Adapter('AccessToken').find(token))?.jti, token);
    t.is((await new Adapter('DeviceCode').findByUserCode(userCode))?.userCode, userCode);
    t.is((await new Adapter('Interaction').find(interactionId))?.session?.cookie, sessionId);
  });

  test(`${name}: payloads written with another encryption key are not silently accepted`, async (t) => {
    const [Adapter] = backend().nodes;
    const id = randomToken();
    const uid = randomToken();
    await new Adapter('Session').upsert(id, { jti: id, kind: 'Session', uid, exp: now() + 60 }, 60);
    const foreign = backend().withKey(randomBytes(32));
    await t.throwsAsync(new foreign('Session').findByUid(uid), { message: /another KEYHOLD_SECRET/ });
  });

  test(`${name}: a one-time mark (ReplayDetection) stored at once on two nodes is stored by exactly one`, async (t) => {
    const [first, second] = backend().nodes;
    const id = randomToken();
    const mark = { jti: id, kind: 'ReplayDetection', iss: 'client-1', iat: now(), exp: now() + 60 };
    const results = await Promise.allSettled([new first('ReplayDetection').upsert(id, mark, 60), new second('ReplayDetection').upsert(id, mark, 60)]);
    t.is(results.filter((result) => result.status === 'fulfilled').length, 1);
    const refused = results.find((result) => result.status === 'rejected');
    t.is(errorCode(refused?.reason), 'invalid_request');
    t.is((await new first('ReplayDetection').find(id))?.iss, 'client-1');
    await t.throwsAsync(new second('ReplayDetection').upsert(id, mark, 60));
  });
}

contract('redis');
contract('redis-cluster');
contract('sql');

test('redis-cluster: engine state is spread over every master (keys are not pinned to one slot)', async (t) => {
  const [Adapter] = backends['redis-cluster']!.nodes;
  for (let index = 0; index < 30; index += 1) {
    const id = randomToken();
    await new Adapter('AccessToken').upsert(id, tokenPayload('AccessToken', id, { grantId: randomToken() }), 60);
  }
  const sizes = await Promise.all(clusterClients[0]!.nodes('master').map((node) => node.dbsize()));
  t.is(sizes.length, 3);
  for (const size of sizes) t.true(size > 0, `sizes=${sizes.join(',')}`);
});

test('redis: the grant index lives as long as its longest-lived member', async (t) => {
  const [Adapter] = backends.redis!.nodes;
  const grantId = randomToken();
  const longLived = randomToken();
  const shortLived = randomToken();
  await new Adapter('RefreshToken').upsert(longLived, tokenPayload('RefreshToken', longLived, { grantId }), 3600);
  await new Adapter('AccessToken').upsert(shortLived, tokenPayload('AccessToken', shortLived, { grantId }), 60);
  const ttl = await redisClients[0]!.pttl(`${redisPrefix!.prefix}{grant:${hashToken(grantId)}}`);
  t.true(ttl > 3590 * 1000 && ttl <= 3600 * 1000, `ttl=${ttl}`);
  const objectTtl = await redisClients[0]!.ttl(`${redisPrefix!.prefix}{AccessToken:${hashToken(shortLived)}}`);
  t.true(objectTtl > 50 && objectTtl <= 60, `object ttl=${objectTtl}`);
});

test('redis: a prefix with braces is refused', (t) => {
  t.throws(() => createRedisAdapter(redisClients[0]!, { prefix: 'keyhold:{x}:', encryptionKey }), { message: /braces/ });
});

test('sql: a NUL in stored engine state is refused as invalid_request, not a database error', async (t) => {
  const [Adapter] = backends.sql!.nodes;
  const id = randomToken();
  const error = await t.throwsAsync(new Adapter('Interaction').upsert(id, { params: { ui_locales: '\0' } } as unknown as AdapterPayload, 60));
  t.is((error as { error?: string }).error, 'invalid_request');
  t.is((error as { statusCode?: number }).statusCode, 400);
  t.is(await new Adapter('Interaction').find(id), undefined);
});

test('sql: sweepExpiredPayloads deletes expired rows', async (t) => {
  const [Adapter] = backends.sql!.nodes;
  const { db } = database!;
  const expiring = randomToken();
  const lasting = randomToken();
  await new Adapter('AccessToken').upsert(expiring, tokenPayload('AccessToken', expiring), 1);
  await new Adapter('AccessToken').upsert(lasting, tokenPayload('AccessToken', lasting), 600);
  await sleep(1600);
  t.is(await new Adapter('AccessToken').find(expiring), undefined);
  const rowsFor = async (id: string) =>
    (await db.selectFrom('oidc_payloads').select('id').where('id', '=', hashToken(id)).execute()).length;
  t.is(await rowsFor(expiring), 1, 'an expired row stays until swept');

  t.true((await sweepExpiredPayloads(db)) >= 1);
  t.is(await rowsFor(expiring), 0);
  t.is(await rowsFor(lasting), 1);
});

test('sql: sweepExpiredPayloads works through more rows than one batch', async (t) => {
  const { db } = database!;
  const model = `Sweep${randomToken(4).replace(/[^a-z]/gi, '')}`;
  await sql`
    insert into oidc_payloads (model, id, payload, expires_at)
    select ${model}, 'row-' || n, '{}'::jsonb, now() - interval '1 minute' from generate_series(1, 2500) as n
  `.execute(db);
  t.true((await sweepExpiredPayloads(db)) >= 2500);
  const left = await db.selectFrom('oidc_payloads').select('id').where('model', '=', model).execute();
  t.is(left.length, 0);
});

test('redis: revokeByGrantId leaves no grant index behind', async (t) => {
  const [Adapter] = backends.redis!.nodes;
  const grantId = randomToken();
  const ids = [randomToken(), randomToken()];
  for (const id of ids) await new Adapter('AccessToken').upsert(id, tokenPayload('AccessToken', id, { grantId }), 60);
  const index = `${redisPrefix!.prefix}{grant:${hashToken(grantId)}}`;
  t.is(await redisClients[0]!.scard(index), 2);
  await new Adapter('AccessToken').revokeByGrantId(grantId);
  t.is(await redisClients[0]!.exists(index), 0);
});
