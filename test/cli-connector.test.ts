// `keyhold connector create|list|delete` through the real bin shim: the printed redirect URI
// to register upstream, the secret never printed nor stored in clear, and one-line refusals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import pg from 'pg';
import { cliEnv, failed, runKeyhold, succeeded } from './helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from './helpers/infra.ts';

const ISSUER = 'https://id.example.test';
const SECRET = 'upstream-secret-ab12cd34ef56gh78ij90kl12mn34op56';

let database: TestDatabase;
let dataDir: string;
let env: Record<string, string>;

test.before(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-cli-connector-'));
  env = { ...cliEnv(), DATABASE_URL: database.url, DATA_DIR: dataDir, ISSUER };
});
test.after.always(async () => {
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const keyhold = (args: string[], settings = env) => runKeyhold(args, settings, { timeoutMs: 30_000 });

test.serial('create prints the redirect URI to register upstream, list shows connectors in order without secrets, delete removes one', async (t) => {
  const google = succeeded(t, await keyhold(['connector', 'create', '--metadata', JSON.stringify({ id: 'google', type: 'google', name: 'Google', client_id: 'gid.apps.googleusercontent.com', client_secret: SECRET })]));
  t.is(google.redirect_uri, `${ISSUER}/connect/google/callback`);
  t.is(google.issuer, 'https://accounts.google.com');
  t.is(google.scope, 'openid email profile');
  t.false(JSON.stringify(google).includes(SECRET));

  const corp = succeeded(t, await keyhold(['connector', 'create', '--metadata', JSON.stringify({ id: 'corp', type: 'oidc', name: 'Corp SSO', client_id: 'keyhold', client_secret: SECRET, issuer: 'https://sso.corp.example.test' })]));
  t.is(corp.redirect_uri, `${ISSUER}/connect/corp/callback`);

  const listed = succeeded<Array<{ id: string }>>(t, await keyhold(['connector', 'list']));
  t.deepEqual(listed.map((connector) => connector.id), ['google', 'corp']);
  t.false(JSON.stringify(listed).includes(SECRET));

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const rows = await client.query('select * from connectors');
    t.is(rows.rows.length, 2);
    t.false(JSON.stringify(rows.rows).includes(SECRET));
  } finally {
    await client.end();
  }

  const NEW_SECRET = 'rotated-secret-zy98xw76vu54ts32rq10po98nm76lk54';
  const updated = succeeded(t, await keyhold(['connector', 'update', '--id', 'corp', '--metadata', JSON.stringify({ name: 'Corp', client_secret: NEW_SECRET, trust_upstream_mfa: true })]));
  t.is(updated.name, 'Corp');
  t.is(updated.issuer, 'https://sso.corp.example.test');
  t.true(updated.trust_upstream_mfa);
  t.false(JSON.stringify(updated).includes(NEW_SECRET));
  failed(t, await keyhold(['connector', 'update', '--id', 'corp', '--metadata', JSON.stringify({ issuer: 'https://elsewhere.example.test' })]), 1, /issuer/);

  t.deepEqual(succeeded(t, await keyhold(['connector', 'delete', '--id', 'google'])), { id: 'google', deleted: true });
  t.deepEqual(succeeded<Array<{ id: string }>>(t, await keyhold(['connector', 'list'])).map((connector) => connector.id), ['corp']);
});

test.serial('refusals are one line with a non-zero exit', async (t) => {
  const create = (metadata: unknown, settings = env) => keyhold(['connector', 'create', '--metadata', JSON.stringify(metadata)], settings);
  failed(t, await create({ id: 'x', type: 'oidc', name: 'X', client_id: 'c', client_secret: SECRET }), 1, /issuer is required/);
  failed(t, await create({ id: 'x', type: 'oidc', name: 'X', client_id: 'c', client_secret: SECRET, issuer: 'http://sso.example.test' }), 1, /issuer must be an https URL/);
  failed(t, await create({ id: 'x', type: 'myspace', name: 'X', client_id: 'c', client_secret: SECRET }), 1, /type/);
  failed(t, await create({ id: 'x', type: 'github', name: 'X', client_id: 'c' }), 1, /client_secret is required/);
  failed(t, await create({ id: 'x', type: 'apple', name: 'Apple', client_id: 'com.example.web' }), 1, /team_id, key_id and private_key/);
  failed(t, await create({ id: 'corp', type: 'github', name: 'GitHub', client_id: 'c', client_secret: SECRET }), 1, /already exists/);
  // Loopback upstreams only when ALLOW_LOOPBACK_REQUESTS is on.
  failed(t, await create({ id: 'local', type: 'oidc', name: 'Local', client_id: 'c', client_secret: SECRET, issuer: 'http://127.0.0.1:9999' }), 1, /loopback/);
  succeeded(t, await create({ id: 'local', type: 'oidc', name: 'Local', client_id: 'c', client_secret: SECRET, issuer: 'http://127.0.0.1:9999' }, { ...env, ALLOW_LOOPBACK_REQUESTS: 'true' }));
  failed(t, await keyhold(['connector', 'delete', '--id', 'nope']), 1, /no connector with id nope/);
  failed(t, await keyhold(['connector', 'create', '--metadata', '{not json']), 2, /not valid JSON/);
});
