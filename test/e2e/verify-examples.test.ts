// The examples run as their READMEs say, as processes, against a real Keyhold:
// examples/service (client_credentials with openid-client) calls examples/api (a Koa API
// guarded by @keyhold/verify), which trusts the token offline.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createResource } from '#src/services/resources.ts';
import { grantRole } from '#src/services/roles.ts';
import { signInNewUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { clientToken, serviceClient } from '../helpers/verify.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const ORDERS = 'https://orders.example.test';
let keyhold: TestServer;
let api: ChildProcess | undefined;
let apiUrl: string;

function nodeArgs(script: string): string[] {
  // As `npx tsx` runs it; the condition makes @keyhold/verify resolve to its sources.
  return ['--import', 'tsx', '--conditions=@keyhold/source', script];
}

const cleanEnv = (settings: Record<string, string>) => ({ PATH: process.env.PATH ?? '', ...settings });

/** Starts examples/api and resolves with its URL once it prints it. */
function startApi(): Promise<string> {
  api = spawn(process.execPath, nodeArgs('examples/api/main.ts'), {
    cwd: repoRoot,
    env: cleanEnv({ ISSUER: keyhold.issuer, AUDIENCE: ORDERS, PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    api!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { listening: string }).listening);
    });
    api!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api!.once('exit', (code) => reject(new Error(`examples/api exited with ${code}: ${output}`)));
  });
}

function runService(settings: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, nodeArgs('examples/service/main.ts'), {
    cwd: repoRoot,
    env: cleanEnv({ KEYHOLD_ISSUER: keyhold.issuer, API_URL: apiUrl, API_RESOURCE: ORDERS, ...settings }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

test.before(async () => {
  // Accounts here carry tiers and roles as data; second factors are test/e2e/mfa*.test.ts's subject.
  keyhold = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
  const { db } = keyhold.keyhold;
  await createResource(db, { identifier: ORDERS, scopes: ['orders:read', 'orders:write'] });
  await grantRole(db, { name: 'admin', resource: ORDERS, scopes: ['orders:read', 'orders:write'] });
  apiUrl = await startApi();
});
test.after.always(async () => {
  api?.kill('SIGTERM');
  await keyhold?.stop();
});

test.serial('examples/service creates and lists orders at examples/api with its own token', async (t) => {
  const client = await serviceClient(keyhold, 'orders:read orders:write');
  const run = await runService({ CLIENT_ID: client.clientId, CLIENT_SECRET: client.clientSecret! });
  t.is(run.code, 0, run.stderr);
  const { created, listed } = JSON.parse(run.stdout) as { created: { id: string; item: string; created_by: string }; listed: { orders: Array<{ id: string }> } };
  t.is(created.created_by, client.clientId);
  t.is(created.item, 'paper, 500 sheets');
  t.true(listed.orders.some((order) => order.id === created.id));
});

test.serial('examples/service reports the API refusal when its client may not write orders', async (t) => {
  const readOnly = await serviceClient(keyhold, 'orders:read');
  const run = await runService({ CLIENT_ID: readOnly.clientId, CLIENT_SECRET: readOnly.clientSecret! });
  t.is(run.code, 1);
  t.is(run.stdout, '');
  t.regex(run.stderr.trim(), /^examples\/service: .*\/orders answered 403 insufficient_scope: scope orders:write required$/);

  const wrongSecret = await runService({ CLIENT_ID: readOnly.clientId, CLIENT_SECRET: 'not-the-secret' });
  t.is(wrongSecret.code, 1);
  t.is(wrongSecret.stderr.trim(), 'examples/service: Keyhold answered 401 invalid_client');
});

test.serial('examples/api: no token is 401; deleting needs role admin; reports need a paid tier', async (t) => {
  const anonymous = await fetch(`${apiUrl}/orders`);
  t.is(anonymous.status, 401);
  t.is(anonymous.headers.get('www-authenticate'), 'Bearer');

  const client = await serviceClient(keyhold, 'orders:read orders:write');
  const serviceToken = await clientToken(keyhold, client, ORDERS, 'orders:read orders:write');
  const created = (await (
    await fetch(`${apiUrl}/orders`, { method: 'POST', headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ item: 'ink' }) })
  ).json()) as { id: string };
  const asService = await fetch(`${apiUrl}/orders/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${serviceToken}` } });
  t.is(asService.status, 403);
  t.is((await fetch(`${apiUrl}/reports`, { headers: { authorization: `Bearer ${serviceToken}` } })).status, 403);

  const { tokens } = await signInNewUser(keyhold, {
    client: { first_party: true, scope: 'openid orders:read orders:write' },
    user: { roles: ['admin'], tier: 'pro' },
    parameters: { resource: ORDERS, scope: 'openid orders:read orders:write' },
  });
  const asAdmin = await fetch(`${apiUrl}/orders/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(asAdmin.status, 204);
  const reports = await fetch(`${apiUrl}/reports`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(reports.status, 200);
});
