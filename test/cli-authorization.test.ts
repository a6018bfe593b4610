// The `keyhold` commands of the authorization model: role create|grant, user update, client
// create with API scopes in `scope`, DEFAULT_ROLES on user create. The real bin shim in a
// child process against a fresh Postgres database; one JSON document on success, one
// `keyhold: …` line otherwise.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { cliEnv, failed, runKeyhold, succeeded } from './helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from './helpers/infra.ts';

const PAYROLL = 'https://payroll.example.test';

let database: TestDatabase;
let dataDir: string;
let env: Record<string, string>;

const keyhold = (args: string[], extraEnv: Record<string, string> = {}) => runKeyhold(args, { ...env, ...extraEnv });

const uniqueEmail = () => `cli-authz-${randomBytes(4).toString('hex')}@example.test`;

test.before(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-cli-authz-'));
  env = cliEnv({ DATABASE_URL: database.url, DATA_DIR: dataDir });
  // One start first: migrations and the seeded roles and resources exist before the rest.
  const migrated = await keyhold(['resource', 'create', '--identifier', PAYROLL, '--scopes', 'payroll:read payroll:admin']);
  if (migrated.code !== 0) throw new Error(migrated.stderr);
});
test.after.always(async () => {
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test.serial('role create, then grant scopes of a registered API; refusals are one line', async (t) => {
  const role = succeeded(t, await keyhold(['role', 'create', '--name', 'payroll-admin', '--description', 'Runs payroll']));
  t.deepEqual(role, { name: 'payroll-admin', description: 'Runs payroll', grants: [] });
  failed(t, await keyhold(['role', 'create', '--name', 'payroll-admin']), 1, /already exists/);
  failed(t, await keyhold(['role', 'create', '--name', 'bad name!']), 1, /role names/);
  failed(t, await keyhold(['role', 'create']), 2, /missing required option --name/);

  const granted = succeeded(t, await keyhold(['role', 'grant', '--name', 'payroll-admin', '--resource', PAYROLL, '--scopes', 'payroll:read payroll:admin']));
  t.deepEqual(granted.grants, [{ resource: PAYROLL, scopes: ['payroll:admin', 'payroll:read'] }]);
  // Granting again changes nothing.
  const again = succeeded(t, await keyhold(['role', 'grant', '--name', 'payroll-admin', '--resource', PAYROLL, '--scopes', 'payroll:read']));
  t.deepEqual(again.grants, granted.grants);

  failed(t, await keyhold(['role', 'grant', '--name', 'payroll-admin', '--resource', PAYROLL, '--scopes', 'payroll:delete']), 1, /does not define payroll:delete/);
  failed(t, await keyhold(['role', 'grant', '--name', 'nobody', '--resource', PAYROLL, '--scopes', 'payroll:read']), 1, /no role named nobody/);
  failed(t, await keyhold(['role', 'grant', '--name', 'payroll-admin', '--resource', 'https://nowhere.example.test', '--scopes', 'x']), 1, /no API resource/);
  failed(t, await keyhold(['role', 'grant', '--name', 'payroll-admin', '--resource', PAYROLL]), 2, /missing required option --scopes/);
  failed(t, await keyhold(['role', 'grant', '--name', 'payroll-admin', '--resource', PAYROLL, '--scopes', ' ']), 2, /at least one scope/);
});

test('the seeded admin role grants the Admin API scopes', async (t) => {
  // The server's own resources are registered at start; the issuer is the default here.
  const admin = succeeded(t, await keyhold(['role', 'grant', '--name', 'admin', '--resource', 'http://localhost:3000/api/admin', '--scopes', 'admin:read']));
  t.deepEqual(admin.grants, [{ resource: 'http://localhost:3000/api/admin', scopes: ['admin', 'admin:read'] }]);
});

test('user create without --role gets DEFAULT_ROLES; user update changes roles, tier, tenant, active', async (t) => {
  const email = uniqueEmail();
  const created = succeeded(t, await keyhold(['user', 'create', '--email', email, '--password', 'long enough password']));
  t.deepEqual(created.roles, ['user']);
  const custom = succeeded(t, await keyhold(['user', 'create', '--email', uniqueEmail(), '--password', 'long enough password'], { DEFAULT_ROLES: 'member, reader' }));
  t.deepEqual(custom.roles, ['member', 'reader']);

  const updated = succeeded(t, await keyhold(['user', 'update', '--email', email, '--role', 'payroll-admin', '--role', 'user', '--tier', 'gold', '--tenant', 'acme']));
  t.deepEqual(updated.roles, ['payroll-admin', 'user']);
  t.is(updated.tier, 'gold');
  t.is(updated.tenant, 'acme');
  t.is(updated.active, true);

  const cleared = succeeded(t, await keyhold(['user', 'update', '--email', email, '--role', '', '--tier', '', '--active', 'false']));
  t.deepEqual(cleared.roles, []);
  t.is(cleared.tier, null);
  t.is(cleared.tenant, 'acme');
  t.is(cleared.active, false);
  t.notRegex(JSON.stringify(cleared), /argon2|password/i);

  failed(t, await keyhold(['user', 'update', '--email', uniqueEmail(), '--tier', 'gold']), 1, /no account with this email/);
  failed(t, await keyhold(['user', 'update', '--email', email, '--active', 'maybe']), 2, /--active must be true or false/);
  failed(t, await keyhold(['user', 'update', '--email', email, '--role', 'no spaces']), 1, /role "no spaces"/);
  failed(t, await keyhold(['user', 'update', '--tier', 'gold']), 2, /missing required option --email/);
});

test('client create accepts registered API scopes in scope and refuses undefined ones', async (t) => {
  const metadata = { redirect_uris: ['https://app.example.test/callback'], scope: 'openid profile payroll:read' };
  const created = succeeded(t, await keyhold(['client', 'create', '--metadata', JSON.stringify(metadata)]));
  t.is(created.scope, 'openid profile payroll:read');
  t.false('api_scope' in created);

  const service = succeeded(t, await keyhold(['client', 'create', '--metadata', JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'payroll:read payroll:admin' })]));
  t.is(service.scope, 'payroll:read payroll:admin');

  failed(t, await keyhold(['client', 'create', '--metadata', JSON.stringify({ ...metadata, scope: 'openid payroll:delete' })]), 1, /scope payroll:delete is defined by no registered API/);
  failed(t, await keyhold(['client', 'create', '--metadata', JSON.stringify({ ...metadata, api_scope: 'payroll:read' })]), 1, /api_scope cannot be set/);
});
