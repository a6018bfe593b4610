// Which errors are a dependency's outage (503) and which stay bugs (500), from errors the
// real clients produce: ioredis with Keyhold's options against a port nobody listens on,
// pg against the same, and ordinary failures that must not be hidden as outages.
import test from 'ava';
import pg from 'pg';
import { pino } from 'pino';
import { KeyholdError } from '#src/errors.ts';
import { unavailableDependency } from '#src/stores/dependency-failure.ts';
import { connectRedis, disconnectRedis } from '#src/stores/redis.ts';
import { freePort } from './helpers/free-port.ts';

const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

test('a command to an unreachable Redis fails at once, as a Redis outage', async (t) => {
  const redis = connectRedis({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_TIMEOUT: 1 }, pino({ level: 'silent' }))!;
  const error = await t.throwsAsync(redis.get('anything'));
  t.is(unavailableDependency(error), 'redis');
  await disconnectRedis(redis);
});

test('a query to an unreachable Postgres is a database outage', async (t) => {
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, connectionTimeoutMillis: 2000 });
  const error = await t.throwsAsync(pool.query('select 1'));
  t.is(unavailableDependency(error), 'database');
  await pool.end();
});

test('a wrapped outage is still one', (t) => {
  t.is(unavailableDependency(new Error('while saving', { cause: new Error('timeout exceeded when trying to connect') })), 'database');
});

test('ordinary failures are not outages: bad SQL, constraint violations, bugs, our own errors', async (t) => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const badSql = await t.throwsAsync(client.query('select * from no_such_table_here'));
  const violation = await t.throwsAsync(client.query("select 'x'::int"));
  await client.end();
  t.is(unavailableDependency(badSql), undefined);
  t.is(unavailableDependency(violation), undefined);
  t.is(unavailableDependency(new TypeError("Cannot read properties of undefined (reading 'id')")), undefined);
  t.is(unavailableDependency(new KeyholdError('invalid_request')), undefined);
  t.is(unavailableDependency('Connection is closed.'), undefined);
  t.is(unavailableDependency(undefined), undefined);
});
