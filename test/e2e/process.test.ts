// Keyhold as `npm start` runs it, in its own process: configuration errors stop start-up
// with one line, logs hold no secrets through a whole sign-in, and SIGTERM shuts it down
// cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as oidc from 'openid-client';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testRedisUrl } from '../helpers/infra.ts';
import { freePort } from '../helpers/free-port.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startProcess(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitReady(url: string, running: Running): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (running.child.exitCode !== null) throw new Error(`server exited: ${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not ready: ${running.output()}`);
}

test('a bad setting stops start-up with one line naming the key and exit code 1', async (t) => {
  const badPort = startProcess({ PORT: 'not-a-port', DATA_DIR: '/nonexistent-keyhold' });
  t.is(await badPort.exited, 1);
  t.regex(badPort.output(), /^keyhold: invalid setting PORT: .+\n$/);

  const noSecret = startProcess({ NODE_ENV: 'production', DATA_DIR: '/nonexistent-keyhold' });
  t.is(await noSecret.exited, 1);
  t.regex(noSecret.output(), /^keyhold: invalid setting KEYHOLD_SECRET: required when NODE_ENV=production\n$/);
});

test('production refuses a non-https issuer with one line naming ISSUER, unless explicitly allowed', async (t) => {
  const insecure = startProcess({ NODE_ENV: 'production', KEYHOLD_SECRET: SECRET, ISSUER: 'http://localhost:3000', DATA_DIR: '/nonexistent-keyhold' });
  t.is(await insecure.exited, 1);
  t.regex(insecure.output(), /^keyhold: invalid setting ISSUER: must be an https URL when NODE_ENV=production[^\n]*ALLOW_INSECURE_ISSUER[^\n]*\n$/);
  // The default issuer is http too: a bare production start is refused the same way.
  const defaults = startProcess({ NODE_ENV: 'production', KEYHOLD_SECRET: SECRET, DATA_DIR: '/nonexistent-keyhold' });
  t.is(await defaults.exited, 1);
  t.regex(defaults.output(), /^keyhold: invalid setting ISSUER: /);
});

test.serial('logs carry request ids and never passwords, codes, tokens or secrets; SIGTERM shuts down cleanly', async (t) => {
  // The database and Redis prefix are prepared (and removed) by an in-process node.
  const setup: TestServer = await startTestServer();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const running = startProcess({
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    // A trial on loopback in production mode: the explicit opt-in, as docker-compose.yml does.
    ALLOW_INSECURE_ISSUER: 'true',
    KEYHOLD_SECRET: SECRET,
    DATABASE_URL: setup.databaseUrl!,
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: setup.redisPrefix!,
    LOG_LEVEL: 'debug',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    // One process (production would default to one per core): this is about one node's logs.
    WORKERS: '1',
  });
  try {
    await waitReady(issuer, running);
    const client = await registerClient(setup, { first_party: true });
    const user = await createUser(setup, { password: 'Sphinx-of-black-quartz-9' });
    const processNode = { ...setup, issuer } as TestServer;
    const config = await discover(processNode, client);
    const { tokens, callbackUrl } = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await oidc.fetchUserInfo(config, refreshed.access_token, user.id);
    await fetch(`${issuer}/healthz`, { headers: { 'x-request-id': 'trace-me-42' } });
    await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&username=${user.email}&password=${user.password}` });

    running.child.kill('SIGTERM');
    t.is(await running.exited, 0);

    const log = running.output();
    const lines = log.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    t.true(lines.some((line) => line.msg === 'keyhold started'));
    t.true(lines.some((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM'));
    t.true(lines.some((line) => line.msg === 'request' && line.path === '/token' && typeof line.requestId === 'string'));
    const secrets = {
      password: user.password,
      code: callbackUrl.searchParams.get('code')!,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      rotatedRefreshToken: refreshed.refresh_token!,
      idToken: tokens.id_token!,
      clientSecret: client.clientSecret!,
      keyholdSecret: SECRET,
    };
    for (const [name, value] of Object.entries(secrets)) t.false(log.includes(value), `${name} appears in the logs`);
  } finally {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await setup.stop();
  }
});
