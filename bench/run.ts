// `npm run bench`: Keyhold's throughput, memory and start-up on loopback, each figure next to
// a bare node:http server measured the same way on the same machine in the same run.
//
//   reference          bare node:http answering a tiny JSON body (requests/s, measured
//                      before and after Keyhold's figures; and, as a child process, its
//                      idle RSS and spawn-to-first-200 time)
//   client_credentials POST /token for a JWT access token to an API resource
//   refresh rotation   independent refresh-token chains, each rotating sequentially
//   password login     full code flow through the HTML login form, production argon2id
//   JWT verification   jose jwtVerify with a cached remote JWKS, in-process CPU loop
//   @keyhold/verify    the package's verify() against bare jose jwtVerify with a local key
//                      set, alternating short rounds; its ratio to bare jose (goal ≥ 0.9)
//   idle RSS / start   `node --import tsx src/main.ts` against Postgres + Redis
//
// In-process figures share this process's event loop between the load generator and the
// server under test, for the reference and for Keyhold alike. Results go to stdout and to
// bench/results.json. Everything created (servers, child processes, the database, the Redis
// prefix, the temporary directory) is removed at the end, also on failure or Ctrl-C.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { loadConfig } from '#src/config.ts';
import { createResource } from '#src/services/resources.ts';
import { createTestDatabase, createTestRedisPrefix, testRedisUrl } from '../test/helpers/infra.ts';
import { basicAuthorization, discover, passwordCodeFlow, REDIRECT_URI } from './flows.ts';
import { fetchJson, measure, measureLoop, type Measurement } from './load.ts';
import { compareVerification, type VerifyComparison } from './verify.ts';
import { BENCH_SECRET, freePort, killChildrenNow, REFERENCE_BODY, runChild, startKeyholdInProcess, startReferenceServer, type ChildRun } from './servers.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');

// Bounds of each measurement: modest concurrency for a 2-core machine, a time limit and an
// operation cap, whichever comes first.
const HTTP_CONCURRENCY = 16;
const LOGIN_CONCURRENCY = 8;
const REFRESH_CHAINS = 16;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 5000);
const WARMUP_MS = 2000;
const MAX_OPS = 200_000;
const JWT_WINDOW_MS = 3000;
const VERIFY_ROUNDS = 6;
const VERIFY_ROUND_MS = 1000;
const CHILD_RUNS = 3;
const CHILD_IDLE_MS = 2000;

// ---------------------------------------------------------------------------------------
// Cleanup: every resource registers its removal as soon as it exists; run once, in reverse.

const cleanups: Array<{ name: string; run: () => Promise<unknown> | void }> = [];
let cleaning: Promise<void> | undefined;
function onCleanup(name: string, run: () => Promise<unknown> | void) {
  cleanups.push({ name, run });
}
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        process.stderr.write(`bench: cleanup "${name}" failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })());
}
process.on('exit', killChildrenNow);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: Ctrl-C reaches this process both from the terminal and relayed by
  // tsx's parent process, and a second default-handled SIGINT would skip the cleanup.
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

interface Result {
  name: string;
  value: number;
  unit: string;
  ratio: number;
  /** What the ratio compares against. */
  ratioTo: string;
  detail?: Record<string, unknown>;
}

function describe(m: Measurement) {
  return { ops: m.ops, seconds: m.seconds, concurrency: m.concurrency, latencyMs: m.latencyMs };
}

async function main() {
  const started = performance.now();
  // Other work on the machine skews every figure; the load average is recorded with them.
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  if (loadAtStart[0]! > os.cpus().length / 2) log(`warning: load average ${loadAtStart.join(' ')} on ${os.cpus().length} CPUs; figures will be noisy`);
  const results: Result[] = [];

  // 1. Reference ---------------------------------------------------------------------------
  // Measured before and after Keyhold's in-process figures; ratios use the mean of the two,
  // and the spread between them shows how steady the machine was meanwhile.
  const referenceRuns: Measurement[] = [];
  const measureReference = async (when: string) => {
    log(`reference: bare node:http (${when})`);
    const reference = await startReferenceServer();
    onCleanup('reference server', () => reference.stop());
    try {
      referenceRuns.push(
        await measure({
          concurrency: HTTP_CONCURRENCY,
          durationMs: WINDOW_MS,
          warmupMs: WARMUP_MS,
          maxOps: MAX_OPS,
          async op() {
            const response = await fetch(reference.url);
            const body = await response.text();
            if (response.status !== 200 || body !== REFERENCE_BODY) throw new Error(`reference answered ${response.status}`);
          },
        }),
      );
    } finally {
      await reference.stop();
    }
  };
  await measureReference('before');
  const referenceRps = () => referenceRuns.reduce((sum, run) => sum + run.rate, 0) / referenceRuns.length;
  const RPS = 'bare node:http requests/s';

  // Keyhold in this process, on a fresh database and Redis prefix --------------------------
  const database = await createTestDatabase();
  onCleanup('database', () => database.drop());
  const redisPrefix = createTestRedisPrefix();
  onCleanup('redis prefix', () => redisPrefix.clear());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keyhold-bench-'));
  onCleanup('data directory', () => rmSync(dataDir, { recursive: true, force: true }));

  log(`starting Keyhold in process (Postgres ${new URL(database.url).pathname.slice(1)}, Redis prefix ${redisPrefix.prefix})`);
  const server = await startKeyholdInProcess({ databaseUrl: database.url, redisUrl: testRedisUrl, redisPrefix: redisPrefix.prefix, dataDir });
  onCleanup('keyhold server', () => server.stop());
  const { keyhold } = server;
  const issuer = server.url;

  // The password figure is only meaningful with the production hashing parameters.
  const defaults = loadConfig({});
  const argon2 = { memoryKiB: keyhold.config.ARGON2_MEMORY_KIB, iterations: keyhold.config.ARGON2_ITERATIONS, parallelism: keyhold.config.ARGON2_PARALLELISM };
  if (argon2.memoryKiB !== defaults.ARGON2_MEMORY_KIB || argon2.iterations !== defaults.ARGON2_ITERATIONS || argon2.parallelism !== defaults.ARGON2_PARALLELISM) {
    throw new Error(`argon2 parameters ${JSON.stringify(argon2)} are not the production defaults`);
  }

  const apiIdentifier = 'https://api.bench.test';
  await createResource(keyhold.db, { identifier: apiIdentifier, scopes: ['read:things', 'write:things'] });
  const service = await keyhold.createClient({
    client_id: 'bench-service',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    // Its allow-list: a client gets only the API scopes it lists.
    scope: 'read:things',
  });
  const firstParty = await keyhold.createClient({
    client_id: 'bench-first-party',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    first_party: true,
  });
  const offline = await keyhold.createClient({
    client_id: 'bench-offline',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  });
  const password = 'correct horse battery staple';
  const users = await Promise.all(
    Array.from({ length: LOGIN_CONCURRENCY }, (_, index) =>
      keyhold.accounts.create({ email: `bench-user-${index}@example.test`, password, name: `Bench User ${index}`, emailVerified: true }),
    ),
  );
  const storedHash = await keyhold.db.selectFrom('accounts').select('password_hash').where('id', '=', users[0]!.id).executeTakeFirstOrThrow();
  // PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash (parameter order varies by library version).
  const [, hashAlg, , hashParams = ''] = storedHash.password_hash?.split('$') ?? [];
  const hashed = Object.fromEntries(hashParams.split(',').map((pair) => pair.split('=') as [string, string]));
  if (hashAlg !== 'argon2id' || Number(hashed.m) !== defaults.ARGON2_MEMORY_KIB || Number(hashed.t) !== defaults.ARGON2_ITERATIONS || Number(hashed.p) !== defaults.ARGON2_PARALLELISM) {
    throw new Error(`unexpected password hash parameters: ${hashAlg} ${hashParams}`);
  }

  // 2. client_credentials -------------------------------------------------------------------
  log('client_credentials issuance');
  const tokenEndpoint = `${issuer}/token`;
  const serviceAuthorization = basicAuthorization(service.client_id as string, service.client_secret as string);
  const clientCredentialsBody = new URLSearchParams({ grant_type: 'client_credentials', resource: apiIdentifier, scope: 'read:things' }).toString();
  const accessTokens: string[] = [];
  const issue = async () => {
    const body = await fetchJson(tokenEndpoint, {
      method: 'POST',
      headers: { authorization: serviceAuthorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: clientCredentialsBody,
    });
    if (typeof body.access_token !== 'string' || body.token_type !== 'Bearer') throw new Error(`unexpected token response ${JSON.stringify(body)}`);
    if (accessTokens.length < 1000) accessTokens.push(body.access_token);
  };
  const clientCredentialsRun = await measure({ concurrency: HTTP_CONCURRENCY, durationMs: WINDOW_MS, warmupMs: WARMUP_MS, maxOps: MAX_OPS, op: issue });
  results.push({ name: 'client_credentials issuance', value: round(clientCredentialsRun.rate), unit: 'tokens/s', ratio: clientCredentialsRun.rate, ratioTo: RPS, detail: describe(clientCredentialsRun) });

  // 5. JWT verification (now, while the server is idle) -------------------------------------
  log('JWT verification');
  const discovery = await fetchJson(`${issuer}/.well-known/openid-configuration`, {});
  const jwks = jose.createRemoteJWKSet(new URL(discovery.jwks_uri as string));
  const header = jose.decodeProtectedHeader(accessTokens[0]!);
  const verifyOptions = { issuer, audience: apiIdentifier, typ: 'at+jwt', algorithms: [header.alg!] };
  const { payload: firstPayload } = await jose.jwtVerify(accessTokens[0]!, jwks, verifyOptions);
  if (firstPayload.client_id !== service.client_id || firstPayload.scope !== 'read:things') throw new Error(`unexpected access token claims ${JSON.stringify(firstPayload)}`);
  const jwtRun = await measureLoop({
    durationMs: JWT_WINDOW_MS,
    maxOps: MAX_OPS,
    async op(index) {
      await jose.jwtVerify(accessTokens[index % accessTokens.length]!, jwks, verifyOptions);
    },
  });
  results.push({
    name: 'JWT verification (jose, cached JWKS)',
    value: round(jwtRun.rate),
    unit: 'verifications/s',
    ratio: jwtRun.rate,
    ratioTo: RPS,
    detail: { ...describe(jwtRun), alg: header.alg, distinctTokens: accessTokens.length, perVerificationUs: round(1e6 / jwtRun.rate, 2) },
  });

  log('@keyhold/verify against bare jose (local key set)');
  const verifyComparison = await compareVerification({ issuer, audience: apiIdentifier, tokens: accessTokens, rounds: VERIFY_ROUNDS, roundMs: VERIFY_ROUND_MS, maxOps: MAX_OPS });
  results.push({
    name: 'JWT verification (bare jose, local key set)',
    value: round(verifyComparison.bareRate),
    unit: 'verifications/s',
    ratio: verifyComparison.bareRate,
    ratioTo: RPS,
    detail: { alg: verifyComparison.alg, roundRates: verifyComparison.bareRounds, roundMs: VERIFY_ROUND_MS },
  });
  results.push({
    name: '@keyhold/verify verify() (ratio: to bare jose)',
    value: round(verifyComparison.packageRate),
    unit: 'verifications/s',
    ratio: verifyComparison.ratio,
    ratioTo: 'bare jose jwtVerify with a local key set (goal >= 0.9)',
    detail: { alg: verifyComparison.alg, roundRates: verifyComparison.packageRounds, roundMs: VERIFY_ROUND_MS },
  });

  // 3. Refresh token rotation ----------------------------------------------------------------
  log(`refresh rotation: ${REFRESH_CHAINS} chains from code flows with consent`);
  const offlineConfig = await discover(issuer, offline.client_id as string, offline.client_secret as string);
  const chains: string[] = [];
  await measure({
    concurrency: 4,
    durationMs: 120_000,
    maxOps: REFRESH_CHAINS,
    async op(worker) {
      const { tokens, consented } = await passwordCodeFlow(offlineConfig, { email: users[worker]!.email, password }, { scope: 'openid offline_access', prompt: 'consent' });
      if (!consented || !tokens.refresh_token) throw new Error(`code flow with offline_access gave no refresh token (consented: ${consented})`);
      chains.push(tokens.refresh_token);
    },
  });
  if (chains.length !== REFRESH_CHAINS) throw new Error(`got ${chains.length} refresh chains`);
  const offlineAuthorization = basicAuthorization(offline.client_id as string, offline.client_secret as string);
  const refreshRun = await measure({
    concurrency: REFRESH_CHAINS,
    durationMs: WINDOW_MS,
    warmupMs: WARMUP_MS,
    maxOps: MAX_OPS,
    async op(chain) {
      const current = chains[chain]!;
      const body = await fetchJson(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: offlineAuthorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current }).toString(),
      });
      if (typeof body.refresh_token !== 'string' || body.refresh_token === current || typeof body.access_token !== 'string') {
        throw new Error(`refresh did not rotate: ${JSON.stringify(Object.keys(body))}`);
      }
      chains[chain] = body.refresh_token;
    },
  });
  results.push({ name: 'refresh token rotation', value: round(refreshRun.rate), unit: 'rotations/s', ratio: refreshRun.rate, ratioTo: RPS, detail: { ...describe(refreshRun), chains: REFRESH_CHAINS } });

  // 4. Password logins -----------------------------------------------------------------------
  log('password login: full code flow, first-party client');
  const firstPartyConfig = await discover(issuer, firstParty.client_id as string, firstParty.client_secret as string);
  const loginRun = await measure({
    concurrency: LOGIN_CONCURRENCY,
    durationMs: WINDOW_MS,
    warmupMs: WARMUP_MS,
    maxOps: MAX_OPS,
    async op(worker) {
      const { tokens, consented } = await passwordCodeFlow(firstPartyConfig, { email: users[worker]!.email, password });
      if (consented) throw new Error('consent was asked of a first-party client');
      if (tokens.claims()?.sub !== users[worker]!.id) throw new Error('ID token for the wrong subject');
    },
  });
  results.push({
    name: 'password login (full code flow)',
    value: round(loginRun.rate),
    unit: 'logins/s',
    ratio: loginRun.rate,
    ratioTo: RPS,
    detail: { ...describe(loginRun), argon2id: { memoryKiB: argon2.memoryKiB, iterations: argon2.iterations, parallelism: argon2.parallelism }, uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4) },
  });

  // The in-process server is stopped before the processes are measured, so they idle alone.
  await server.stop();
  await measureReference('after');
  // Throughput results carry their raw rate in `ratio` until the reference is complete.
  for (const result of results) if (result.ratioTo === RPS) result.ratio /= referenceRps();

  // 6. Cold start and idle RSS, as processes --------------------------------------------------
  const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const referenceScript = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(${JSON.stringify(REFERENCE_BODY)}); }).listen(Number(process.env.PORT), '127.0.0.1');`;
  onCleanup('child processes', killChildrenNow);
  const referenceChildren: ChildRun[] = [];
  const keyholdChildren: ChildRun[] = [];
  for (let run = 0; run < CHILD_RUNS; run++) {
    log(`process start and idle RSS, run ${run + 1}/${CHILD_RUNS}`);
    const referencePort = await freePort();
    referenceChildren.push(await runChild({ args: ['-e', referenceScript], env: { ...baseEnv, PORT: String(referencePort) }, cwd: repoRoot, port: referencePort, readyPath: '/', idleMs: CHILD_IDLE_MS }));
    const port = await freePort();
    keyholdChildren.push(
      await runChild({
        args: ['--import', 'tsx', 'src/main.ts'],
        cwd: repoRoot,
        port,
        readyPath: '/readyz',
        idleMs: CHILD_IDLE_MS,
        env: {
          ...baseEnv,
          NODE_ENV: 'production',
          // Loopback http: the production settings otherwise, measured without TLS.
          ALLOW_INSECURE_ISSUER: 'true',
          PORT: String(port),
          HOST: '127.0.0.1',
          ISSUER: `http://127.0.0.1:${port}`,
          KEYHOLD_SECRET: BENCH_SECRET,
          DATABASE_URL: database.url,
          REDIS_URL: testRedisUrl,
          REDIS_PREFIX: redisPrefix.prefix,
          DATA_DIR: dataDir,
          LOG_LEVEL: 'silent',
        },
      }),
    );
  }
  const referenceRssKiB = median(referenceChildren.map((run) => run.idleRssKiB));
  const referenceStartMs = median(referenceChildren.map((run) => run.startMs));
  const keyholdRssKiB = median(keyholdChildren.map((run) => run.idleRssKiB));
  const keyholdStartMs = median(keyholdChildren.map((run) => run.startMs));
  results.push({
    name: 'idle RSS (keyhold process)',
    value: round(keyholdRssKiB / 1024),
    unit: 'MiB',
    ratio: keyholdRssKiB / referenceRssKiB,
    ratioTo: 'bare node:http process idle RSS',
    detail: { runsKiB: keyholdChildren.map((run) => run.idleRssKiB), idleMs: CHILD_IDLE_MS, command: 'node --import tsx src/main.ts' },
  });
  results.push({
    name: 'cold start (spawn to /readyz 200)',
    value: Math.round(keyholdStartMs),
    unit: 'ms',
    ratio: keyholdStartMs / referenceStartMs,
    ratioTo: 'bare node:http process spawn to first 200',
    detail: { runsMs: keyholdChildren.map((run) => Math.round(run.startMs)), database: 'migrated (restart, not first boot)' },
  });

  await cleanup();

  // Report -----------------------------------------------------------------------------------
  const referenceReport = {
    name: 'bare node:http (tiny JSON body)',
    value: round(referenceRps()),
    unit: 'requests/s',
    runs: referenceRuns.map((run) => ({ when: run === referenceRuns[0] ? 'before' : 'after', rate: round(run.rate), ...describe(run) })),
    process: {
      idleRssMiB: round(referenceRssKiB / 1024),
      coldStartMs: Math.round(referenceStartMs),
      runs: referenceChildren.map((run) => ({ idleRssKiB: run.idleRssKiB, startMs: Math.round(run.startMs) })),
    },
  };
  const rows: string[][] = [
    ['name', 'value', 'unit', 'ratio to reference'],
    [referenceReport.name, String(referenceReport.value), referenceReport.unit, '1'],
    ...referenceReport.runs.map((run) => [`  reference run ${run.when}`, String(run.rate), 'requests/s', '']),
    ['  reference process idle RSS', String(referenceReport.process.idleRssMiB), 'MiB', '1'],
    ['  reference process cold start', String(referenceReport.process.coldStartMs), 'ms', '1'],
    ...results.map((result) => [result.name, String(result.value), result.unit, formatRatio(result.ratio)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 1 || column === 3 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ');
  console.log(line(rows[0]!));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row));
  console.log(`\nJWT verification: ${results.find((r) => r.name.startsWith('JWT'))!.value} verifications/s absolute (in-process CPU loop, one core)`);
  console.log(verifyLine(verifyComparison));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${round(os.totalmem() / 2 ** 30)} GiB, load ${loadAtStart.join(' ')}; ${round((performance.now() - started) / 1000)} s`);

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim(), memory: os.totalmem(), platform: `${os.platform()} ${os.release()}`, loadavg: { start: loadAtStart, end: os.loadavg().map((value) => round(value, 2)) } },
    reference: referenceReport,
    results: results.map((r) => ({ name: r.name, value: r.value, unit: r.unit, ratio: Number(r.ratio.toPrecision(4)), ratioTo: r.ratioTo, detail: r.detail })),
  };
  writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), path.join(benchDir, 'results.json'))}`);
}

function verifyLine(comparison: VerifyComparison): string {
  const verdict = comparison.ratio >= 0.9 ? 'meets' : 'BELOW';
  return `@keyhold/verify: ${Math.round(comparison.packageRate)} verifications/s vs bare jose ${Math.round(comparison.bareRate)}/s (${comparison.alg}): ratio ${comparison.ratio.toFixed(3)}, ${verdict} the 0.9 goal`;
}

function formatRatio(ratio: number): string {
  return ratio >= 10 ? ratio.toFixed(1) : ratio >= 0.1 ? ratio.toFixed(3) : ratio.toPrecision(3);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  // After a signal, requests fail because the servers are going away: not worth reporting.
  if (!interrupted) process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await cleanup();
  process.exit(interrupted ? 130 : 1);
}
