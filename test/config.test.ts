// Settings that decide how exposed a node is: the issuer's scheme in production, loopback
// back-channel requests, and where /metrics is served.
import test from 'ava';
import { ConfigError, loadConfig } from '#src/config.ts';

const SECRET = 'config-test-secret-0123456789abcdef0123456789';
const production = { NODE_ENV: 'production', KEYHOLD_SECRET: SECRET };

test('production refuses an http issuer unless ALLOW_INSECURE_ISSUER is set', (t) => {
  for (const issuer of ['http://localhost:3000', 'http://auth.example.test', undefined]) {
    const error = t.throws(() => loadConfig({ ...production, ISSUER: issuer }), { instanceOf: ConfigError });
    t.regex(error.message, /^invalid setting ISSUER: must be an https URL when NODE_ENV=production/);
    t.notRegex(error.message, /\n/);
  }
  const trial = loadConfig({ ...production, ISSUER: 'http://localhost:3000', ALLOW_INSECURE_ISSUER: 'true' });
  t.false(trial.secureCookies);
  const deployed = loadConfig({ ...production, ISSUER: 'https://auth.example.test' });
  t.true(deployed.secureCookies);
  // Development and tests keep working on http.
  t.notThrows(() => loadConfig({ NODE_ENV: 'development', ISSUER: 'http://localhost:3000' }));
});

test('production never infers loopback back-channel requests from the issuer', (t) => {
  t.false(loadConfig({ ...production, ISSUER: 'http://localhost:3000', ALLOW_INSECURE_ISSUER: 'true' }).ALLOW_LOOPBACK_REQUESTS);
  t.false(loadConfig({ ...production, ISSUER: 'https://127.0.0.1:8443' }).ALLOW_LOOPBACK_REQUESTS);
  t.true(loadConfig({ ...production, ISSUER: 'https://127.0.0.1:8443', ALLOW_LOOPBACK_REQUESTS: 'true' }).ALLOW_LOOPBACK_REQUESTS, 'only when asked for');
  t.true(loadConfig({ NODE_ENV: 'development', ISSUER: 'http://localhost:3000' }).ALLOW_LOOPBACK_REQUESTS, 'development on loopback');
  t.false(loadConfig({ NODE_ENV: 'development', ISSUER: 'https://auth.example.test' }).ALLOW_LOOPBACK_REQUESTS);
});

test('metrics settings are validated', (t) => {
  t.regex(t.throws(() => loadConfig({ PORT: '3000', METRICS_PORT: '3000' }))!.message, /^invalid setting METRICS_PORT: must differ from PORT/);
  t.regex(t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }))!.message, /^invalid setting METRICS_TOKEN: /);
  const config = loadConfig({ METRICS_PORT: '9464' });
  t.is(config.METRICS_PORT, 9464);
  t.is(config.METRICS_HOST, '127.0.0.1', 'a private interface by default');
});

test('a Redis Cluster is given by its seed nodes, never together with REDIS_URL', (t) => {
  const config = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000,rediss://:secret@redis-3.internal:7000' });
  t.deepEqual(config.REDIS_CLUSTER_NODES, ['10.0.0.1:7000', '10.0.0.2:7000', 'rediss://:secret@redis-3.internal:7000']);
  t.deepEqual(config.process.REDIS_CLUSTER_NODES, config.REDIS_CLUSTER_NODES);
  t.regex(t.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }))!.message, /^invalid setting REDIS_CLUSTER_NODES: set REDIS_URL .* not both/);
  for (const bad of ['10.0.0.1', 'http://10.0.0.1:7000', '10.0.0.1:7000/0?x', ',']) {
    t.regex(t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: bad }), { instanceOf: ConfigError })!.message, /^invalid setting REDIS_CLUSTER_NODES/, bad);
  }
});

test('a read replica needs a primary Postgres', (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgres://db-primary/keyhold', DATABASE_REPLICA_URL: 'postgres://db-replica/keyhold' });
  t.is(config.process.DATABASE_REPLICA_URL, 'postgres://db-replica/keyhold');
  t.regex(t.throws(() => loadConfig({ DATABASE_REPLICA_URL: 'postgres://db-replica/keyhold' }))!.message, /^invalid setting DATABASE_REPLICA_URL: needs DATABASE_URL/);
  t.regex(t.throws(() => loadConfig({ DATABASE_URL: 'postgres://db/keyhold', DATABASE_REPLICA_URL: 'mysql://db/keyhold' }))!.message, /^invalid setting DATABASE_REPLICA_URL/);
});
