// `npm start` runs the build (dist/, plain JavaScript) on Node alone: no tsx, no TypeScript
// source, and none of what an idle node does not need (PGlite with DATABASE_URL set,
// nodemailer, the zxcvbn dictionary). WORKERS=2 runs two processes behind one port and
// shuts both down gracefully on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createTestDatabase, createTestRedisPrefix, testRedisUrl, type TestDatabase, type TestRedisPrefix } from '../helpers/infra.ts';
import { freePort } from '../helpers/free-port.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const recorder = path.join(root, 'test', 'helpers', 'module-recorder.mjs');
const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

let database: TestDatabase;
let redisPrefix: TestRedisPrefix;
let directory: string;

test.before(async () => {
  // Built now when the sources changed, so that the start measured below loads no esbuild.
  // @ts-expect-error: a plain JavaScript module without declarations.
  const { build, isStale } = (await import('../../scripts/build.js')) as { build(): Promise<void>; isStale(): boolean };
  if (isStale()) await build();
  database = await createTestDatabase();
  redisPrefix = createTestRedisPrefix();
  directory = mkdtempSync(path.join(tmpdir(), 'keyhold-built-'));
});
test.after.always(async () => {
  await redisPrefix?.clear();
  await database?.drop();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

async function startBuilt(settings: Record<string, string>, moduleLog: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', recorder, 'scripts/start.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      ALLOW_INSECURE_ISSUER: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: url,
      KEYHOLD_SECRET: SECRET,
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: redisPrefix.prefix,
      DATA_DIR: directory,
      LOG_LEVEL: 'info',
      KEYHOLD_MODULE_LOG: moduleLog,
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A loaded runner (and a first build) gets room; the bench measures the start time.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready: ${output}`);
    }
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, exited, output: () => output };
}

const started = (output: string) => output.split('\n').filter((line) => line.includes('"keyhold started"')).map((line) => JSON.parse(line) as { pid?: number; worker?: number });

test.serial('the built server starts on plain Node, serves discovery, and loads no TypeScript, tsx, PGlite, nodemailer or zxcvbn', async (t) => {
  const moduleLog = path.join(directory, 'modules-single.txt');
  const server = await startBuilt({ WORKERS: '1' }, moduleLog);
  try {
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { issuer: string; token_endpoint: string };
    t.is(discovery.issuer, server.url);
    t.is(discovery.token_endpoint, `${server.url}/token`);
    const loaded = readFileSync(moduleLog, 'utf8').split('\n').filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
    t.true(loaded.some((file) => file === path.join(root, 'dist', 'main.js')), 'dist/main.js was loaded');
    t.deepEqual(loaded.filter((file) => file.endsWith('.ts')), [], 'no TypeScript module');
    for (const name of ['tsx', 'typescript', 'esbuild', '@electric-sql/pglite', 'nodemailer', '@zxcvbn-ts/language-common']) {
      t.false(loaded.some((file) => file.includes(`/node_modules/${name}/`)), `${name} not loaded`);
    }
  } finally {
    server.child.kill('SIGTERM');
  }
  t.is(await server.exited, 0);
});

test.serial('WORKERS=2: two processes behind one port, both stopped gracefully by SIGTERM to the primary', async (t) => {
  const server = await startBuilt({ WORKERS: '2' }, path.join(directory, 'modules-cluster.txt'));
  try {
    // Both workers listen (the first ready one answered /readyz already).
    const deadline = Date.now() + 120_000;
    while (started(server.output()).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const workers = started(server.output());
    t.is(workers.length, 2, server.output());
    t.is(new Set(workers.map((worker) => worker.pid)).size, 2);
    for (let request = 0; request < 10; request++) t.is((await fetch(`${server.url}/.well-known/openid-configuration`)).status, 200);
  } finally {
    server.child.kill('SIGTERM');
  }
  t.is(await server.exited, 0);
  t.is(server.output().split('\n').filter((line) => line.includes('"shutting down"')).length, 2, server.output());
});
