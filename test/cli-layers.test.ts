// The `keyhold` command builds the core only (database, stores, services): never the HTTP
// app, the engine host or the server's background jobs. Each run records every module the
// child process loads (test/helpers/module-recorder.mjs, preloaded with --import), so the
// test sees which layers a command really built, not what it says it built.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { cliEnv, runKeyhold, type CliRun } from './helpers/cli.ts';
import { createTestDatabase, createTestRedisPrefix, testRedisUrl, type TestDatabase, type TestRedisPrefix } from './helpers/infra.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const recorder = path.join(repoRoot, 'test', 'helpers', 'module-recorder.mjs');

let database: TestDatabase;
let redisPrefix: TestRedisPrefix;
let directory: string;

test.before(async () => {
  database = await createTestDatabase();
  redisPrefix = createTestRedisPrefix();
  directory = mkdtempSync(path.join(tmpdir(), 'keyhold-cli-layers-'));
});

test.after.always(async () => {
  await redisPrefix?.clear();
  await database?.drop();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

interface Run extends CliRun {
  /** Repository-relative paths of the project's modules, and the packages loaded. */
  sources: string[];
  packages: Set<string>;
}

async function run(args: string[]): Promise<Run> {
  const log = path.join(directory, `modules-${randomBytes(4).toString('hex')}.txt`);
  const env = cliEnv({
    DATABASE_URL: database.url,
    // Redis too, so that nothing is left out because a store was not configured.
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: redisPrefix.prefix,
    DATA_DIR: directory,
    CLI_LOG_LEVEL: 'debug',
    KEYHOLD_MODULE_LOG: log,
  });
  // The sources, not the bundle in dist/: the recorder tells modules apart by their files.
  const result = await runKeyhold(args, env, { nodeArgs: ['--conditions=@keyhold/source', '--import', recorder] });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const files = urls.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
  const sources = files.filter((file) => file.startsWith(path.join(repoRoot, 'src') + path.sep)).map((file) => path.relative(repoRoot, file));
  const packages = new Set(files.map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]).filter((name): name is string => name !== undefined));
  return { ...result, sources, packages };
}

// The HTTP layer, the engine host and the jobs, and packages only they use.
const serverOnlySources = [/^src\/app\.ts$/, /^src\/http\.ts$/, /^src\/keyhold\.ts$/, /^src\/server\.ts$/, /^src\/oidc\/engine-host\.ts$/, /^src\/routes\//, /^src\/middleware\//, /^src\/jobs\//, /^src\/services\/mail-worker\.ts$/];
const serverOnlyPackages = ['@koa/router', 'koa-mount', 'koa-body', 'prom-client', 'nodemailer'];

function assertCoreOnly(t: import('ava').ExecutionContext, result: Run): void {
  t.true(result.sources.includes('src/core.ts'), 'the recorder saw the core being loaded');
  for (const pattern of serverOnlySources) {
    t.deepEqual(result.sources.filter((source) => pattern.test(source)), [], `no module matching ${pattern}`);
  }
  for (const name of serverOnlyPackages) t.false(result.packages.has(name), `package ${name} not loaded`);
  t.regex(result.stderr, /"layers":\["core"\]/, 'the debug log names the layers built');
}

test('user create builds the core only: no HTTP app, engine host, engine or jobs', async (t) => {
  const result = await run(['user', 'create', '--email', `layers-${randomBytes(4).toString('hex')}@example.test`, '--password', 'correct horse battery staple']);
  t.is(result.code, 0, result.stderr);
  t.truthy((JSON.parse(result.stdout) as { id?: string }).id);
  assertCoreOnly(t, result);
  t.deepEqual(result.sources.filter((source) => source.startsWith('src/oidc/')), [], 'nothing of the engine configuration either');
});

test('client create checks metadata with a bare engine, still without the HTTP app or engine host', async (t) => {
  const result = await run(['client', 'create', '--metadata', JSON.stringify({ redirect_uris: ['https://app.example.test/callback'] })]);
  t.is(result.code, 0, result.stderr);
  t.truthy((JSON.parse(result.stdout) as { client_secret?: string }).client_secret);
  assertCoreOnly(t, result);
  t.true(result.sources.includes('src/oidc/client-validator.ts'), "the engine's metadata rules were applied");

  const refused = await run(['client', 'create', '--metadata', JSON.stringify({ redirect_uris: ['not a url'] })]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^keyhold: .*redirect_uris/m);
  assertCoreOnly(t, refused);
});
