// The parsed configuration as two slices: process settings (how this node runs) and product
// policy (what Keyhold allows). Every setting is in exactly one of them, with the value the
// flat configuration has.
import test from 'ava';
import { loadConfig } from '#src/config.ts';

test('every setting is in exactly one slice, with the same value', (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgres://db.example.test/keyhold', PASSWORD_MIN_LENGTH: '12', REGISTRATION: 'invite', SIGNING_ALGS: 'ES256 RS256' });
  const { process: processSettings, policy, ...flat } = config;
  for (const [key, value] of Object.entries(flat)) {
    const inProcess = Object.hasOwn(processSettings, key);
    const inPolicy = Object.hasOwn(policy, key);
    t.true(inProcess !== inPolicy, `${key} is in exactly one slice`);
    t.deepEqual((inProcess ? processSettings : policy)[key as never], value, key);
  }
  t.is(Object.keys(processSettings).length + Object.keys(policy).length, Object.keys(flat).length, 'the slices hold nothing else');
  t.is(config.process.DATABASE_URL, 'postgres://db.example.test/keyhold');
  t.is(config.policy.PASSWORD_MIN_LENGTH, 12);
  t.is(config.policy.REGISTRATION, 'invite');
  t.deepEqual(config.policy.SIGNING_ALGS, ['ES256', 'RS256']);
  t.true(Object.isFrozen(config.process) && Object.isFrozen(config.policy) && Object.isFrozen(config));
});

test('where a node runs is process settings; what users are allowed is policy', (t) => {
  const { process: processSettings, policy } = loadConfig({
    DATABASE_URL: 'postgres://db.example.test/keyhold',
    REDIS_URL: 'redis://cache.example.test',
    METRICS_PORT: '9464',
    KEYHOLD_SECRET: 'slice-test-secret-0123456789abcdef0123456789',
  });
  for (const key of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'TRUST_PROXY', 'METRICS_PORT', 'SHUTDOWN_TIMEOUT', 'KEYHOLD_SECRET']) {
    t.true(Object.hasOwn(processSettings, key), key);
  }
  for (const key of ['ACCESS_TOKEN_TTL', 'PASSWORD_MIN_LENGTH', 'REGISTRATION', 'LOGIN_RATE_LIMIT', 'DEFAULT_ROLES', 'RECENT_LOGIN_WINDOW']) {
    t.true(Object.hasOwn(policy, key), key);
  }
});
