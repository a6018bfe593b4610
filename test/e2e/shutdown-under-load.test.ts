// SIGTERM under load, on Keyhold as `npm start` runs it: every request already sent is
// answered (with `Connection: close` once draining), no client sees a reset connection,
// and the process exits 0. Requests sent after the listener closed are refused (the
// load balancer saw /readyz go 503 and moves on), never reset.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { basicAuth, registerClient } from '../helpers/oidc.ts';
import { freePort } from '../helpers/free-port.ts';
import { startTestServer } from '../helpers/server.ts';
import { testRedisUrl } from '../helpers/infra.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Outcome {
  path: string;
  sentAt: number;
  status?: number;
  failure?: string;
}

test('SIGTERM mid-load: requests in flight finish, none reset, exit 0', async (t) => {
  const setup = await startTestServer();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: issuer,
      KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
      DATABASE_URL: setup.databaseUrl!,
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: setup.redisPrefix!,
      LOG_LEVEL: 'silent',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_ITERATIONS: '1',
      SHUTDOWN_TIMEOUT: '15',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk) => (errors += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let attempt = 0; attempt < 300; attempt++) {
      const ready = await fetch(`${issuer}/readyz`).then((response) => response.status === 200, () => false);
      if (ready) break;
      if (child.exitCode !== null) throw new Error(`server exited: ${errors}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const client = await registerClient(setup, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    const requests: Array<[string, () => Promise<Response>]> = [
      ['/token', () => fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client) }, body: 'grant_type=client_credentials' })],
      ['/.well-known/openid-configuration', () => fetch(`${issuer}/.well-known/openid-configuration`)],
      ['/jwks', () => fetch(`${issuer}/jwks`)],
      ['/readyz', () => fetch(`${issuer}/readyz`)],
    ];

    const started = Date.now();
    const outcomes: Outcome[] = [];
    let serverGone = false;
    // Twelve workers over kept-alive connections, each sending its next request as soon as
    // the last is answered, until the server refuses connections (bounded: 20 s).
    const workers = Array.from({ length: 12 }, async (_, index) => {
      while (!serverGone && Date.now() - started < 20_000) {
        const [path, send] = requests[index % requests.length]!;
        const outcome: Outcome = { path, sentAt: Date.now() - started };
        outcomes.push(outcome);
        try {
          const response = await send();
          await response.arrayBuffer();
          outcome.status = response.status;
        } catch (error) {
          const cause = (error as { cause?: { code?: string; message?: string } }).cause;
          outcome.failure = cause?.code ?? cause?.message ?? String(error);
          if (outcome.failure === 'ECONNREFUSED') serverGone = true;
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const killedAt = Date.now() - started;
    child.kill('SIGTERM');
    await Promise.all(workers);
    t.is(await exited, 0, errors);

    const answeredAfterKill = outcomes.filter((outcome) => outcome.sentAt >= killedAt && outcome.status !== undefined);
    t.log(`${outcomes.length} requests, ${answeredAfterKill.length} answered after SIGTERM`);
    // Nothing reset or cut: every request got an answer, or (sent after the listener
    // closed) was refused.
    t.deepEqual(outcomes.filter((outcome) => outcome.failure !== undefined && outcome.failure !== 'ECONNREFUSED'), []);
    // Everything sent before SIGTERM was answered; nothing was a 5xx but /readyz, which
    // reports the drain (503).
    t.deepEqual(outcomes.filter((outcome) => outcome.sentAt < killedAt && outcome.status === undefined), []);
    t.deepEqual(outcomes.filter((outcome) => outcome.status !== undefined && outcome.status >= 500 && outcome.path !== '/readyz'), []);
    t.true(outcomes.some((outcome) => outcome.failure === 'ECONNREFUSED'), 'the load ran until the server was gone');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await setup.stop();
  }
});
