// CLI parity with the Admin API: user, client, resource, role, tenant and audit commands
// run through the same services as /api/admin, against the database a running server uses;
// what one does, the other sees. JSON on success, one line on failure, --password-stdin.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { callApi } from './helpers/api.ts';
import { adminUserToken } from './helpers/admin.ts';
import { cliEnv, failed, runKeyhold, succeeded } from './helpers/cli.ts';
import { tokenRequest } from './helpers/oidc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const PASSWORD = 'violet harbour lantern 91';

let server: TestServer;
let env: Record<string, string>;
let owner: string;

test.before(async () => {
  // Administrators sign in here with the password alone: second factors are test/e2e/mfa*.test.ts's subject.
  // Without Redis, a change the CLI makes reaches the server's lookup caches within CACHE_TTL
  // (README, "Build, workers and caches"): 1 s here, so the test sees it soon.
  server = await startTestServer({ redis: false, env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', CACHE_TTL: '1' } });
  // The server's database, secret and issuer: the CLI and the server share one deployment.
  env = cliEnv({ DATABASE_URL: server.databaseUrl!, KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef', ISSUER: server.issuer });
  owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
});
test.after.always(async () => {
  await server?.stop();
});

const keyhold = (args: string[], stdin?: string) => runKeyhold(args, env, { stdin, timeoutMs: 60_000 });
const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

test('tenant and user commands: create (--password-stdin), list, show, update, logout, password-reset, delete; the Admin API sees the same', async (t) => {
  const tenant = unique('t');
  const created = succeeded(t, await keyhold(['tenant', 'create', '--id', tenant, '--name', 'Acme', '--registration', 'invite', '--mfa-required-tiers', 'pro team']));
  t.like(created, { id: tenant, name: 'Acme', registration: 'invite', mfaRequiredTiers: ['pro', 'team'] });
  t.like(succeeded(t, await keyhold(['tenant', 'update', '--id', tenant, '--registration', ''])), { id: tenant, registration: null });
  t.is(succeeded(t, await keyhold(['tenant', 'show', '--id', tenant])).id, tenant);
  t.true(succeeded(t, await keyhold(['tenant', 'list', '--limit', '200'])).items.some((item: { id: string }) => item.id === tenant));

  const email = `${unique('cli')}@example.test`;
  const user = succeeded(t, await keyhold(['user', 'create', '--email', email, '--password-stdin', '--tenant', tenant, '--role', 'user'], `${PASSWORD}\n`));
  t.is(user.tenant, tenant);
  t.truthy(await server.keyhold.accounts.authenticate(email, PASSWORD), 'the password came from standard input, without its newline');

  const viaApi = await callApi(server, owner, 'GET', `/api/admin/users/${user.id}`);
  t.is(viaApi.body.email, email);
  t.is(viaApi.body.tenant, tenant);

  const listed = succeeded(t, await keyhold(['user', 'list', '--tenant', tenant]));
  t.deepEqual(listed.items.map((item: { id: string }) => item.id), [user.id]);
  t.is(listed.nextCursor, null);
  t.is(succeeded(t, await keyhold(['user', 'show', '--id', user.id])).email, email);

  const updated = succeeded(t, await keyhold(['user', 'update', '--email', email, '--name', 'Ada Cli', '--role', 'user', '--role', 'editor', '--tier', 'pro']));
  t.like(updated, { name: 'Ada Cli', roles: ['user', 'editor'], tier: 'pro' });
  t.deepEqual((await callApi(server, owner, 'GET', `/api/admin/users/${user.id}`)).body.roles, ['user', 'editor']);

  // Changed through the API, seen by the CLI.
  await callApi(server, owner, 'PATCH', `/api/admin/users/${user.id}`, { active: false });
  t.is(succeeded(t, await keyhold(['user', 'show', '--email', email])).active, false);

  t.deepEqual(succeeded(t, await keyhold(['user', 'logout', '--id', user.id])), { logged_out: user.id });
  await callApi(server, owner, 'PATCH', `/api/admin/users/${user.id}`, { active: true });
  t.deepEqual(succeeded(t, await keyhold(['user', 'password-reset', '--email', email])), { password_reset_queued: user.id });
  const mails = await server.keyhold.db.selectFrom('mail_outbox').select('template').where('recipient', '=', email).execute();
  t.true(mails.some((mail) => mail.template === 'password_reset'));

  const audit = succeeded(t, await keyhold(['audit', 'list', '--subject', user.id, '--actor', 'cli']));
  t.true(audit.items.length >= 2);
  t.true(audit.items.every((entry: { actor: string }) => entry.actor === 'cli'));

  failed(t, await keyhold(['tenant', 'delete', '--id', tenant]), 1, /still has 1 accounts/);
  t.deepEqual(succeeded(t, await keyhold(['user', 'delete', '--id', user.id])), { deleted: user.id });
  t.is((await callApi(server, owner, 'GET', `/api/admin/users/${user.id}`)).status, 404);
  t.deepEqual(succeeded(t, await keyhold(['tenant', 'delete', '--id', tenant])), { deleted: tenant });
});

test('client commands: create in a tenant, list, show (no secret), update, rotate-secret (the running server takes it within CACHE_TTL), delete', async (t) => {
  const clientId = unique('cli-svc');
  const metadata = { client_id: clientId, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const created = succeeded(t, await keyhold(['client', 'create', '--metadata', JSON.stringify(metadata)]));
  t.is(created.client_id, clientId);
  const secret = created.client_secret as string;
  t.is((await tokenRequest(server, { clientId, clientSecret: secret }, { grant_type: 'client_credentials' })).status, 200);

  const shown = succeeded(t, await keyhold(['client', 'show', '--id', clientId]));
  t.is(shown.tenant, 'default');
  t.false(JSON.stringify(shown).includes(secret));
  t.true(succeeded(t, await keyhold(['client', 'list', '--limit', '200'])).items.some((item: { client_id: string }) => item.client_id === clientId));
  t.is(succeeded(t, await keyhold(['client', 'update', '--id', clientId, '--metadata', '{"client_name":"Reports"}'])).metadata.client_name, 'Reports');
  t.is((await callApi(server, owner, 'GET', `/api/admin/clients/${clientId}`)).body.metadata.client_name, 'Reports');

  const rotated = succeeded(t, await keyhold(['client', 'rotate-secret', '--id', clientId]));
  t.not(rotated.client_secret, secret);
  // The old secret is refused once the server's cached client (at most CACHE_TTL old) is gone;
  // the deadline only separates "within the bound" from "never".
  const deadline = Date.now() + 15_000;
  let oldSecretStatus: number;
  while ((oldSecretStatus = (await tokenRequest(server, { clientId, clientSecret: secret }, { grant_type: 'client_credentials' })).status) === 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.is(oldSecretStatus, 401);
  t.is((await tokenRequest(server, { clientId, clientSecret: rotated.client_secret }, { grant_type: 'client_credentials' })).status, 200);

  t.deepEqual(succeeded(t, await keyhold(['client', 'delete', '--id', clientId])), { deleted: clientId });
  failed(t, await keyhold(['client', 'show', '--id', clientId]), 1, new RegExp(`no client with client_id ${clientId}`));
  failed(t, await keyhold(['client', 'update', '--id', 'x', '--metadata', '[1]']), 2, /--metadata must be a JSON object/);
});

test('resource and role commands: list, show, update, set-grants, delete', async (t) => {
  const identifier = `https://${unique('api')}.example.test`;
  succeeded(t, await keyhold(['resource', 'create', '--identifier', identifier, '--scopes', 'a:read a:write']));
  t.true(succeeded(t, await keyhold(['resource', 'list', '--limit', '200'])).items.some((item: { identifier: string }) => item.identifier === identifier));
  const role = unique('role');
  succeeded(t, await keyhold(['role', 'create', '--name', role]));
  const granted = succeeded(t, await keyhold(['role', 'set-grants', '--name', role, '--grants', JSON.stringify({ [identifier]: ['a:read', 'a:write'] })]));
  t.deepEqual(granted.grants, [{ resource: identifier, scopes: ['a:read', 'a:write'] }]);
  t.deepEqual(succeeded(t, await keyhold(['resource', 'update', '--identifier', identifier, '--scopes', 'a:read', '--access-token-ttl', '60'])), { identifier, scopes: ['a:read'], accessTokenTtl: 60 });
  t.deepEqual(succeeded(t, await keyhold(['role', 'show', '--name', role])).grants, [{ resource: identifier, scopes: ['a:read'] }]);
  t.is(succeeded(t, await keyhold(['role', 'update', '--name', role, '--description', 'Reads a'])).description, 'Reads a');
  t.true(succeeded(t, await keyhold(['role', 'list', '--limit', '200'])).items.some((item: { name: string }) => item.name === role));
  t.deepEqual((await callApi(server, owner, 'GET', `/api/admin/roles/${role}`)).body.grants, [{ resource: identifier, scopes: ['a:read'] }]);

  t.deepEqual(succeeded(t, await keyhold(['resource', 'delete', '--identifier', identifier])), { deleted: identifier });
  failed(t, await keyhold(['resource', 'show', '--identifier', identifier]), 1, /no API resource/);
  failed(t, await keyhold(['resource', 'delete', '--identifier', `${server.issuer}/api/admin`]), 1, /Keyhold's own API/);
  t.deepEqual(succeeded(t, await keyhold(['role', 'delete', '--name', role])), { deleted: role });
  failed(t, await keyhold(['role', 'show', '--name', role]), 1, /no role named/);
});

test('refusals are one line: bad options exit 2, failed requests exit 1', async (t) => {
  failed(t, await keyhold(['user', 'show', '--email', 'a@example.test', '--id', 'x']), 2, /--email or --id, not both/);
  failed(t, await keyhold(['user', 'show', '--email', `${unique('none')}@example.test`]), 1, /no account with this email/);
  failed(t, await keyhold(['user', 'create', '--email', 'x@example.test', '--password-stdin'], ''), 2, /standard input is empty/);
  failed(t, await keyhold(['user', 'create', '--email', 'x@example.test', '--password', PASSWORD, '--password-stdin']), 2, /not both/);
  failed(t, await keyhold(['user', 'create', '--email', `${unique('weak')}@example.test`, '--password-stdin'], 'password\n'), 1, /password rejected/);
  failed(t, await keyhold(['user', 'list', '--active', 'maybe']), 2, /--active must be true or false/);
  failed(t, await keyhold(['user', 'list', '--limit', '1000']), 2, /--limit/);
  failed(t, await keyhold(['tenant', 'delete', '--id', 'default']), 1, /default tenant cannot be removed/);
  failed(t, await keyhold(['tenant', 'create', '--id', 'Bad Id']), 1, /tenant ids/);
  failed(t, await keyhold(['tenant', 'create', '--id', 'x', '--registration', 'sometimes']), 2, /--registration/);
  failed(t, await keyhold(['audit', 'list', '--since', 'yesterday']), 2, /--since/);
  failed(t, await keyhold(['role', 'set-grants', '--name', 'user', '--grants', '{"https://x": "a"}']), 2, /array of strings/);
});
