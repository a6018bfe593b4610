// When the test Postgres or Redis is down, test files fail at once with one line naming the
// service and the variable to set, instead of waiting out connection timeouts. A closed port
// on loopback stands in for the missing service; the helpers run in a child process so that
// their per-process memo starts empty.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runHelper(code: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const report = `.catch((error) => { process.stdout.write(error.message); process.exit(3); });`;

test('a missing Postgres fails createTestDatabase with one line', async (t) => {
  const port = await closedPort();
  const run = runHelper(`import { createTestDatabase } from './test/helpers/infra.ts'; await createTestDatabase()${report}`, { TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/postgres` });
  t.is(run.status, 3, run.stderr);
  t.is(run.stdout, `Postgres is not reachable at 127.0.0.1:${port} (ECONNREFUSED): start it, or point TEST_POSTGRES_URL at one`);
});

test('a missing Redis fails startTestServer with one line', async (t) => {
  const port = await closedPort();
  const run = runHelper(`import { startTestServer } from './test/helpers/server.ts'; await startTestServer()${report}`, { TEST_REDIS_URL: `redis://127.0.0.1:${port}` });
  t.is(run.status, 3, run.stderr);
  t.is(run.stdout, `Redis is not reachable at 127.0.0.1:${port} (ECONNREFUSED): start it, or point TEST_REDIS_URL at one`);
});
