// The `keyhold` command as operators and scripts use it: the real bin shim in a child
// process, against a fresh Postgres database (and, for the embedded-database cases, a
// temporary DATA_DIR). Every success must be exactly one JSON document on stdout; every
// failure exactly one `keyhold: …` line on stderr with a non-zero exit.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { cliEnv, failed, runKeyhold, succeeded } from './helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from './helpers/infra.ts';

let database: TestDatabase;
const tempDirs: string[] = [];

function tempDir(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-cli-'));
  tempDirs.push(directory);
  return directory;
}

let postgresEnv: Record<string, string>;

const keyhold = (args: string[], env: Record<string, string> = postgresEnv, timeoutMs = 30_000) => runKeyhold(args, env, { timeoutMs });

const uniqueEmail = () => `cli-${randomBytes(4).toString('hex')}@example.test`;

test.before(async () => {
  database = await createTestDatabase();
  // DATA_DIR too, so nothing the command might write lands in the repository's ./data.
  postgresEnv = { ...cliEnv(), DATABASE_URL: database.url, DATA_DIR: tempDir() };
});

test.after.always(async () => {
  await database?.drop();
  for (const directory of tempDirs) rmSync(directory, { recursive: true, force: true });
});

// Serial tests run before the concurrent ones: the migration must see a fresh database,
// and the key tests must see the single key that the first full start creates.
test.serial('migrate applies the initial migration, then nothing', async (t) => {
  const first = succeeded<{ applied: string[] }>(t, await keyhold(['migrate']));
  t.true(first.applied.length > 0);
  t.true(first.applied.some((name) => name.endsWith('_initial')));
  const second = succeeded<{ applied: string[] }>(t, await keyhold(['migrate']));
  t.deepEqual(second.applied, []);
});

test.serial('keys: list, rotate, retire with its refusals', async (t) => {
  interface Key {
    kid: string;
    alg: string;
    stage: string;
    retiredAt: string | null;
  }
  const listed = succeeded<{ keys: Key[] }>(t, await keyhold(['keys', 'list']));
  t.is(listed.keys.length, 1);
  const [original] = listed.keys;
  t.is(original!.alg, 'RS256');
  t.is(original!.stage, 'signing');
  t.is(original!.retiredAt, null);

  failed(t, await keyhold(['keys', 'retire', original!.kid]), 1, /only RS256 key that can sign/);

  const rotated = succeeded<{ keys: Key[] }>(t, await keyhold(['keys', 'rotate']));
  t.is(rotated.keys.length, 1);
  t.is(rotated.keys[0]!.alg, 'RS256');
  t.is(rotated.keys[0]!.stage, 'published');
  t.not(rotated.keys[0]!.kid, original!.kid);

  const after = succeeded<{ keys: Key[] }>(t, await keyhold(['keys', 'list']));
  t.is(after.keys.length, 2);
  const old = after.keys.find((key) => key.kid === original!.kid)!;
  t.is(old.stage, 'signing', 'the old key signs until the new one activates');
  t.truthy(old.retiredAt);

  // The new key is not active yet, so the old one is still the only one that can sign.
  failed(t, await keyhold(['keys', 'retire', original!.kid]), 1, /only RS256 key/);
  failed(t, await keyhold(['keys', 'retire', randomUUID()]), 1, /no signing key with kid/);
  failed(t, await keyhold(['keys', 'retire']), 2, /missing key id/);
  failed(t, await keyhold(['keys', 'rotate', '--alg', 'ES256']), 1, /ES256 is not in SIGNING_ALGS/);
  failed(t, await keyhold(['keys', 'rotate', '--alg', 'HS256']), 2, /--alg must be one of/);
  failed(t, await keyhold(['keys', 'shuffle']), 2, /unknown command "keys shuffle"/);

  // With no activation delay the rotated-in key signs at once, and the old one may go.
  const immediate = succeeded<{ keys: Key[] }>(t, await keyhold(['keys', 'rotate'], { ...postgresEnv, KEY_ACTIVATION_DELAY: '0' }));
  t.is(immediate.keys[0]!.stage, 'signing');
  const retired = succeeded<Key>(t, await keyhold(['keys', 'retire', original!.kid]));
  t.is(retired.kid, original!.kid);
  t.is(retired.stage, 'retired');
  failed(t, await keyhold(['keys', 'retire', original!.kid]), 1, /already retired/);
});

test('help prints the usage and exits 0; no arguments print it and exit 2', async (t) => {
  const help = await keyhold(['help']);
  t.is(help.code, 0);
  t.is(help.stderr, '');
  for (const command of ['migrate', 'user create', 'user import', 'client create', 'resource create', 'keys list', 'keys rotate', 'keys retire']) {
    t.true(help.stdout.includes(command), command);
  }
  const bare = await keyhold([]);
  t.is(bare.code, 2);
  t.is(bare.stdout, help.stdout);
  failed(t, await keyhold(['frobnicate']), 2, /unknown command "frobnicate"/);
  failed(t, await keyhold(['user']), 2, /missing subcommand/);
  failed(t, await keyhold(['user', 'frobnicate']), 2, /unknown command "user frobnicate"/);
  failed(t, await keyhold(['user', 'delete']), 2, /missing required option --email/);
  failed(t, await keyhold(['migrate', '--force']), 2, /unknown option '--force'/);
});

test('user create prints the account and never the password', async (t) => {
  const email = uniqueEmail();
  const password = 'correct horse battery staple';
  const run = await keyhold(['user', 'create', '--email', email, '--password', password, '--name', 'Ada Admin', '--role', 'admin', '--role', 'auditor', '--tier', 'gold', '--tenant', 'acme', '--verified']);
  const account = succeeded(t, run);
  t.regex(account.id as string, /^[0-9a-f-]{36}$/);
  t.is(account.email, email);
  t.is(account.emailVerified, true);
  t.is(account.name, 'Ada Admin');
  t.deepEqual(account.roles, ['admin', 'auditor']);
  t.is(account.tier, 'gold');
  t.is(account.tenant, 'acme');
  t.is(account.active, true);
  t.false(run.stdout.includes(password));
  t.notRegex(run.stdout, /argon2|password|hash/i);

  const plain = succeeded(t, await keyhold(['user', 'create', '--email', uniqueEmail(), '--password', password]));
  t.is(plain.emailVerified, false);
  t.deepEqual(plain.roles, ['user'], 'DEFAULT_ROLES');
  t.is(plain.tier, null);
});

test('user create refusals', async (t) => {
  const email = uniqueEmail();
  succeeded(t, await keyhold(['user', 'create', '--email', email, '--password', 'long enough password']));
  const [invalid, duplicate, weak, unknownFlag, missing, missingValue] = await Promise.all([
    keyhold(['user', 'create', '--email', 'not-an-email', '--password', 'long enough password']),
    keyhold(['user', 'create', '--email', email, '--password', 'another long password']),
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'short']),
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'long enough password', '--admin']),
    keyhold(['user', 'create', '--email', uniqueEmail()]),
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password']),
  ]);
  failed(t, invalid!, 1, /email is not a valid address/);
  failed(t, duplicate!, 1, /already exists/);
  failed(t, weak!, 1, /password rejected: Use at least 8 characters/);
  failed(t, unknownFlag!, 2, /unknown option '--admin'/);
  failed(t, missing!, 2, /missing required option --password/);
  failed(t, missingValue!, 2, /--password/);
});

test('user create applies the same password policy as the pages', async (t) => {
  const email = uniqueEmail();
  const [common, containsEmail, belowConfiguredMinimum, atConfiguredMinimum] = await Promise.all([
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'password']),
    keyhold(['user', 'create', '--email', email, '--password', `${email.split('@')[0]}-and-more`]),
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'eleven char'], { ...postgresEnv, PASSWORD_MIN_LENGTH: '12' }),
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'twelve chars'], { ...postgresEnv, PASSWORD_MIN_LENGTH: '12' }),
  ]);
  failed(t, common!, 1, /password rejected: .*too common/);
  failed(t, containsEmail!, 1, /password rejected: .*email address/);
  failed(t, belowConfiguredMinimum!, 1, /password rejected: Use at least 12 characters/);
  succeeded(t, atConfiguredMinimum!);
  t.notRegex(common!.stderr + containsEmail!.stderr, /argon2|\$/, 'no hash and no echo of the password');
});

test('client create refuses a weak client_secret and keeps a strong one', async (t) => {
  const base = { redirect_uris: ['https://app.example.test/cb'] };
  const weak = await Promise.all(
    ['x', 'short-secret', 'a'.repeat(64), '0123456789'.repeat(3), `${'spaces are not allowed '.repeat(3)}`, 42].map((secret) =>
      keyhold(['client', 'create', '--metadata', JSON.stringify({ ...base, client_secret: secret })]),
    ),
  );
  failed(t, weak[0]!, 1, /client_secret must be at least 43 characters/);
  failed(t, weak[1]!, 1, /client_secret must be at least 43 characters/);
  failed(t, weak[2]!, 1, /client_secret is too repetitive/);
  failed(t, weak[3]!, 1, /client_secret must be at least 43 characters/);
  failed(t, weak[4]!, 1, /client_secret must use only/);
  failed(t, weak[5]!, 1, /client_secret must be a string/);
  for (const run of weak) t.false(run.stdout.includes('client_id'), 'nothing was registered');

  const strong = randomBytes(32).toString('base64url');
  const hex = randomBytes(32).toString('hex');
  const [withBase64Url, withHex] = await Promise.all([
    keyhold(['client', 'create', '--metadata', JSON.stringify({ ...base, client_secret: strong })]),
    keyhold(['client', 'create', '--metadata', JSON.stringify({ ...base, client_secret: hex })]),
  ]);
  t.is(succeeded(t, withBase64Url).client_secret, strong);
  t.is(succeeded(t, withHex).client_secret, hex);
});

test('client create generates credentials, keeps an explicit client_id, refuses bad metadata', async (t) => {
  const generated = succeeded(t, await keyhold(['client', 'create', '--metadata', JSON.stringify({ redirect_uris: ['https://app.example.test/cb'] })]));
  t.is(typeof generated.client_id, 'string');
  t.true((generated.client_id as string).length >= 16);
  t.is(typeof generated.client_secret, 'string');
  t.true((generated.client_secret as string).length >= 32);
  t.deepEqual(generated.redirect_uris, ['https://app.example.test/cb']);

  const clientId = `cli-client-${randomBytes(4).toString('hex')}`;
  const metadata = JSON.stringify({ client_id: clientId, redirect_uris: ['https://app.example.test/cb'] });
  const explicit = succeeded(t, await keyhold(['client', 'create', '--metadata', metadata]));
  t.is(explicit.client_id, clientId);
  t.is(typeof explicit.client_secret, 'string');

  const publicClient = succeeded(
    t,
    await keyhold(['client', 'create', '--metadata', JSON.stringify({ redirect_uris: ['https://spa.example.test/cb'], token_endpoint_auth_method: 'none' })]),
  );
  t.is(publicClient.client_secret, undefined, 'a public client gets no secret');

  const [duplicate, notUrl, script, badJson, notObject, missing] = await Promise.all([
    keyhold(['client', 'create', '--metadata', metadata]),
    keyhold(['client', 'create', '--metadata', JSON.stringify({ redirect_uris: ['not a url'] })]),
    keyhold(['client', 'create', '--metadata', JSON.stringify({ redirect_uris: ['javascript:alert(1)'] })]),
    keyhold(['client', 'create', '--metadata', '{"redirect_uris": [']),
    keyhold(['client', 'create', '--metadata', '["https://app.example.test/cb"]']),
    keyhold(['client', 'create']),
  ]);
  failed(t, duplicate!, 1, new RegExp(`client_id ${clientId} already exists`));
  failed(t, notUrl!, 1, /redirect_uris/);
  failed(t, script!, 1, /redirect_uris/);
  failed(t, badJson!, 2, /--metadata is not valid JSON/);
  failed(t, notObject!, 1, /must be a JSON object/);
  failed(t, missing!, 2, /missing required option --metadata/);
});

test('resource create, duplicate and invalid identifiers', async (t) => {
  const identifier = `https://api-${randomBytes(4).toString('hex')}.example.test`;
  const resource = succeeded(t, await keyhold(['resource', 'create', '--identifier', identifier, '--scopes', 'orders:read  orders:write', '--access-token-ttl', '300']));
  t.deepEqual(resource, { identifier, scopes: ['orders:read', 'orders:write'], accessTokenTtl: 300 });

  const [duplicate, relative, fragment, badTtl, noScopes] = await Promise.all([
    keyhold(['resource', 'create', '--identifier', identifier, '--scopes', 'orders:read']),
    keyhold(['resource', 'create', '--identifier', 'orders-api', '--scopes', 'orders:read']),
    keyhold(['resource', 'create', '--identifier', 'https://api.example.test/#frag', '--scopes', 'orders:read']),
    keyhold(['resource', 'create', '--identifier', 'https://other.example.test', '--scopes', 'a', '--access-token-ttl', '5m']),
    keyhold(['resource', 'create', '--identifier', 'https://other.example.test']),
  ]);
  failed(t, duplicate!, 1, /already exists/);
  failed(t, relative!, 1, /absolute URI/);
  failed(t, fragment!, 1, /without a fragment/);
  failed(t, badTtl!, 2, /--access-token-ttl/);
  failed(t, noScopes!, 2, /missing required option --scopes/);
});

test('invite create prints an invitation code and queues the invitation mail', async (t) => {
  const email = uniqueEmail();
  const invitation = succeeded<{ email: string; invitation: string; expiresAt: string }>(t, await keyhold(['invite', 'create', '--email', email]));
  t.is(invitation.email, email);
  t.regex(invitation.invitation, /^[0-9a-f-]{36}\.[\w-]{40,}$/);
  t.true(Date.parse(invitation.expiresAt) > Date.now());
  failed(t, await keyhold(['invite', 'create', '--email', 'not-an-email']), 1, /not a valid address/);
  failed(t, await keyhold(['invite', 'create']), 2, /missing required option --email/);
});

test('configuration errors and an unreachable Postgres are one-line refusals', async (t) => {
  const [config, unreachable, missingDatabase] = await Promise.all([
    keyhold(['keys', 'list'], { ...postgresEnv, KEYHOLD_SECRET: 'too short' }),
    keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'long enough password'], { ...postgresEnv, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/keyhold' }),
    keyhold(['migrate'], { ...postgresEnv, DATABASE_URL: `${database.url}_missing` }),
  ]);
  failed(t, config!, 1, /invalid setting KEYHOLD_SECRET/);
  failed(t, unreachable!, 1, /cannot connect to the database: .*ECONNREFUSED/);
  failed(t, missingDatabase!, 1, /cannot connect to the database: .*does not exist/);
});

test('a different KEYHOLD_SECRET is named, not reported as a cipher failure', async (t) => {
  // The serial key tests have created keys sealed with the suite's secret by now.
  failed(t, await keyhold(['keys', 'list'], { ...postgresEnv, KEYHOLD_SECRET: 'another-secret-0123456789abcdef0123456789' }), 1, /KEYHOLD_SECRET differs/);
});

test('the embedded database in use by a server is refused at once', async (t) => {
  const dataDir = tempDir();
  const lockFile = path.join(dataDir, 'pglite.lock');
  // The lock names a live process: this test's own.
  writeFileSync(lockFile, String(process.pid));
  const env = { ...cliEnv(), DATA_DIR: dataDir };
  // A command that waited for the lock would wait for ever: being killed is the failure.
  const run = await keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'long enough password'], env, 90_000);
  t.not(run.code, 'timeout', 'the command must not wait for the lock');
  failed(t, run, 1, /embedded database .* is in use by process \d+/);
  t.true(run.stderr.includes(String(process.pid)));
  t.is(readFileSync(lockFile, 'utf8'), String(process.pid), 'the lock is left to its holder');
});

test('the embedded database works when free and is released afterwards', async (t) => {
  const dataDir = tempDir();
  const env = { ...cliEnv(), DATA_DIR: dataDir };
  const migrated = succeeded<{ applied: string[] }>(t, await keyhold(['migrate'], env, 60_000));
  t.true(migrated.applied.length > 0);
  t.false(existsSync(path.join(dataDir, 'pglite.lock')), 'migrate released the lock');
  const email = uniqueEmail();
  const account = succeeded(t, await keyhold(['user', 'create', '--email', email, '--password', 'long enough password'], env, 60_000));
  t.is(account.email, email);
  t.false(existsSync(path.join(dataDir, 'pglite.lock')), 'user create released the lock');
});
