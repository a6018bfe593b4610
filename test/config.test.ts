// Settings that decide how exposed a node is: the issuer's scheme in production, loopback
// back-channel requests, and where /metrics is served.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig, loadEnvFile, settingWarnings } from '#src/config.ts';

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

test('setting errors are plain words, show the value, and name the key the user set', (t) => {
  const port = t.throws(() => loadConfig({ PORT: 'three thousand' }), { instanceOf: ConfigError });
  t.is(port.message, 'invalid setting PORT: must be a number (you set PORT="three thousand")');
  t.is(t.throws(() => loadConfig({ PORT: '3000.5' }))!.message, 'invalid setting PORT: must be a whole number (you set PORT="3000.5")');
  t.is(t.throws(() => loadConfig({ PORT: '70000' }))!.message, 'invalid setting PORT: must be at most 65535 (you set PORT="70000")');
  t.is(t.throws(() => loadConfig({ TRUST_PROXY: 'maybe' }))!.message, 'invalid setting TRUST_PROXY: must be true or false (you set TRUST_PROXY="maybe")');
  t.is(t.throws(() => loadConfig({ REGISTRATION: 'public' }))!.message, 'invalid setting REGISTRATION: must be one of open, invite, closed (you set REGISTRATION="public")');
  t.is(t.throws(() => loadConfig({ BREACH_CHECK_URL: 'pwned' }))!.message, 'invalid setting BREACH_CHECK_URL: must be an http:// or https:// URL (you set BREACH_CHECK_URL="pwned")');
  // Nothing of the validator's own language.
  for (const env of [{ PORT: 'x' }, { ACCESS_TOKEN_TTL: '5' }, { LOG_LEVEL: 'loud' }]) {
    t.notRegex(t.throws(() => loadConfig(env))!.message, /NaN|expected|received|Invalid input|Too small/);
  }
});

test('an alias is named as the user set it, in its own unit', (t) => {
  t.is(
    t.throws(() => loadConfig({ ACCESS_TOKEN_EXPIRE_MINUTES: 'ten' }))!.message,
    'invalid setting ACCESS_TOKEN_EXPIRE_MINUTES: must be a number of minutes (you set ACCESS_TOKEN_EXPIRE_MINUTES="ten")',
  );
  t.is(
    t.throws(() => loadConfig({ ACCESS_TOKEN_EXPIRE_MINUTES: '0' }))!.message,
    'invalid setting ACCESS_TOKEN_EXPIRE_MINUTES: must be at least 0.5 minutes (you set ACCESS_TOKEN_EXPIRE_MINUTES="0")',
  );
  t.is(loadConfig({ ACCESS_TOKEN_EXPIRE_MINUTES: '15' }).ACCESS_TOKEN_TTL, 900);
  t.is(loadConfig({ ACCESS_TOKEN_EXPIRE_MINUTES: '15', ACCESS_TOKEN_TTL: '300' }).ACCESS_TOKEN_TTL, 300, 'the canonical key wins');
});

test('secret values never appear in a setting error; URL passwords are masked', (t) => {
  const secret = t.throws(() => loadConfig({ KEYHOLD_SECRET: 'hunter2-short' }))!.message;
  t.is(secret, 'invalid setting KEYHOLD_SECRET: must be at least 32 characters (you set KEYHOLD_SECRET=a value of 13 characters)');
  t.false(secret.includes('hunter2'));
  const database = t.throws(() => loadConfig({ DATABASE_URL: 'mysql://admin:s3cret-pw@db.example.test/keyhold' }))!.message;
  t.false(database.includes('s3cret-pw'));
  t.regex(database, /^invalid setting DATABASE_URL: must be a postgres:\/\/ URL \(you set DATABASE_URL="mysql:\/\/admin:\*\*\*@db\.example\.test\/keyhold"\)$/);
});

test('names that look meant for Keyhold but are not read are warned about', (t) => {
  const warnings = settingWarnings({
    ACCES_TOKEN_TTL: '60',
    KEYHOLD_ISSUER: 'https://id.example.test',
    KEYHOLD_COLOUR: 'blue',
    REDIS_HOST: 'cache',
    port: '4000',
    REFRESH_TOKEN_EXPIRE_DAYS: '3',
    REFRESH_TOKEN_TTL: '600',
    // Everyone's variables stay quiet.
    PATH: '/usr/bin',
    HOME: '/home/me',
    HOSTNAME: 'box',
    MAIL: '/var/mail/me',
    NODE_OPTIONS: '--max-old-space-size=512',
    npm_config_cache: '/tmp',
    ISSUER: 'https://id.example.test',
    KEYHOLD_SECRET: SECRET,
  });
  t.deepEqual(warnings, [
    'ACCES_TOKEN_TTL is not a Keyhold setting and is ignored: did you mean ACCESS_TOKEN_TTL?',
    'KEYHOLD_COLOUR is not a Keyhold setting and is ignored (the README\'s "Settings" lists every key)',
    'KEYHOLD_ISSUER is not a Keyhold setting and is ignored: did you mean ISSUER?',
    'REDIS_HOST is not a Keyhold setting and is ignored (the README\'s "Settings" lists every key)',
    'REFRESH_TOKEN_EXPIRE_DAYS is ignored: REFRESH_TOKEN_TTL is also set and wins',
    'port is not read (setting names are upper case): did you mean PORT?',
  ]);
  t.deepEqual(settingWarnings({ PORT: '3000', ISSUER: 'http://localhost:3000' }), []);
});

test('.env is read when present, and the environment wins over it', (t) => {
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-envfile-'));
  const file = path.join(directory, '.env');
  t.is(loadEnvFile(file), undefined, 'a missing file is no error');
  writeFileSync(file, 'KEYHOLD_ENVFILE_TEST_A=from-file\nKEYHOLD_ENVFILE_TEST_B=from-file\n');
  process.env.KEYHOLD_ENVFILE_TEST_A = 'from-environment';
  try {
    t.is(loadEnvFile(file), file);
    t.is(process.env.KEYHOLD_ENVFILE_TEST_A, 'from-environment');
    t.is(process.env.KEYHOLD_ENVFILE_TEST_B, 'from-file');
  } finally {
    delete process.env.KEYHOLD_ENVFILE_TEST_A;
    delete process.env.KEYHOLD_ENVFILE_TEST_B;
    rmSync(directory, { recursive: true, force: true });
  }
});
