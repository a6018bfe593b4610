// `npm run bench`: Keyhold's throughput, memory and start-up on loopback, each figure next to
// a reference measured the same way on the same machine in the same run, with its ratio and
// the issue's goal (bench/results.json holds the same).
//
//   bare engine        oidc-provider 9 with Keyhold's Redis adapter, static clients and
//                      nothing else (bench/reference-engine.ts), in this process like
//                      Keyhold: the reference of every token path (goal: >= 0.9 of it),
//                      and with a login page, of password logins (engine login below)
//   client_credentials POST /token, a JWT for an API and an opaque token
//   introspection      the service's own opaque tokens; its absolute goal (>= 5,000/s) counts
//                      the best of this and, with wrk installed, the built server under wrk
//   userinfo           opaque access tokens from code flows
//   refresh rotation   independent refresh-token chains, each rotating sequentially
//   password login     full code flow through the HTML login form, production argon2id,
//                      against an argon2id verify loop at the same parameters and
//                      concurrency (goal: >= 0.8 of it)
//   engine login       the same client's code flow on the bare engine behind a minimal
//                      login page doing one argon2id verify (bench/reference-login.ts):
//                      the floor of any code flow on the engine; Keyhold's ratio to it is
//                      in the login's detail. Keyhold, this and the argon2id loop
//                      alternate in rounds.
//   node:http          a bare server answering a tiny JSON body (requests/s, before and
//                      after; as a process, its idle RSS and spawn-to-first-200 time)
//   JWT verification   jose jwtVerify with a cached remote JWKS, in-process CPU loop
//   @keyhold/verify    the package's verify() against bare jose jwtVerify with a local key
//                      set, alternating short rounds; its ratio to bare jose (goal >= 0.9)
//   WORKERS 1 and 2    the built server as a process, client_credentials (opaque); and
//                      introspection driven by wrk (bench/wrk.ts), an outside load generator
//   idle RSS / start   `node scripts/start.js` (dist/) against Postgres + Redis
//                      (goals: < 120 MiB, < 1.5 s to /readyz)
//   CLI                `keyhold keys list` in services mode, spawn to exit (goal: < 1 s)
//
// BENCH_WINDOW_MS (8000) and BENCH_WARMUP_MS (4000) set each measurement's window and its
// unmeasured warm-up.
//
// BENCH_ONLY=<section>[,<section>…] runs only the named sections (all when unset): `tokens`
// (the token paths against the bare engine: client_credentials, introspection, userinfo,
// refresh rotation), `verify` (JWT verification and @keyhold/verify, with the node:http
// reference their ratios use), `login` (password logins, against the bare engine's and the
// argon2id loop), `processes` (WORKERS, idle RSS, cold start, CLI). E.g. `BENCH_ONLY=tokens
// npm run bench` while working on a token path; results.json then holds only those figures.
//
// In-process figures share this process's event loop between the load generator and the
// server under test, for the references and for Keyhold alike. Everything created (servers,
// child processes, the database, the Redis prefixes, the temporary directory) is removed at
// the end, also on failure or Ctrl-C.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import argon2id from 'argon2';
import * as jose from 'jose';
import { loadConfig } from '#src/config.ts';
import { createResource } from '#src/services/resources.ts';
import { createTestDatabase, createTestRedisPrefix, testRedisUrl } from '../test/helpers/infra.ts';
import { basicAuthorization, discover, passwordCodeFlow, REDIRECT_URI } from './flows.ts';
import { fetchJson, measure, measureLoop, type Measurement } from './load.ts';
import { compareVerification, type VerifyComparison } from './verify.ts';
import { startReferenceEngine } from './reference-engine.ts';
import { runWrk, wrkAvailable, type WrkRun } from './wrk.ts';
// @ts-expect-error: a plain JavaScript module without declarations.
import { build as buildDist, isStale as distIsStale } from '../scripts/build.js';
import { BENCH_SECRET, freePort, killChildrenNow, REFERENCE_BODY, runChild, spawnServer, startKeyholdInProcess, startReferenceServer, timeCommand, type ChildRun } from './servers.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');

// Bounds of each measurement: modest concurrency for a 2-core machine, a time limit and an
// operation cap, whichever comes first.
const HTTP_CONCURRENCY = 16;
const LOGIN_CONCURRENCY = 8;
const REFRESH_CHAINS = 16;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 8000);
// Unmeasured warm-up of each side before a measurement. Two seconds left the first
// comparison (JWT issuance) measuring Keyhold's code while V8 was still optimizing it.
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 4000);
const MAX_OPS = 200_000;
const JWT_WINDOW_MS = 3000;
const VERIFY_ROUNDS = 6;
/** Alternating rounds of each side in an engine comparison (together WINDOW_MS per side). */
const COMPARE_ROUNDS = 8;
/**
 * The same for logins, fewer and longer: a login at LOGIN_CONCURRENCY takes half a second
 * to a second, so a sixth of the window would hold about one login per worker, all
 * starting and ending together; a quarter holds two or more.
 */
const LOGIN_ROUNDS = 4;
const VERIFY_ROUND_MS = 1000;
const CHILD_RUNS = 3;
const CHILD_IDLE_MS = 2000;
/** wrk's connections: enough to keep two workers busy. */
const WRK_CONNECTIONS = 32;

const SECTIONS = ['tokens', 'verify', 'login', 'processes'] as const;
type Section = (typeof SECTIONS)[number];
const only = (process.env.BENCH_ONLY ?? '').split(',').map((name) => name.trim()).filter(Boolean);
for (const name of only) if (!SECTIONS.includes(name as Section)) throw new Error(`BENCH_ONLY: unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
/** Whether this run measures `section` (BENCH_ONLY). */
const runs = (section: Section) => only.length === 0 || only.includes(section);

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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

interface Result {
  name: string;
  value: number;
  unit: string;
  /** The reference's own figure, when it is measured in the same unit. */
  reference?: number;
  ratio: number;
  /** What the ratio compares against. */
  ratioTo: string;
  /** The issue's goal for this figure, and whether this run meets it. */
  goal?: string;
  meets?: boolean;
  detail?: Record<string, unknown>;
}

const ENGINE = 'bare oidc-provider + the same Redis adapter';

function describe(m: Measurement) {
  return { ops: m.ops, seconds: m.seconds, concurrency: m.concurrency, latencyMs: m.latencyMs };
}

/** Rounds of one side as one measurement: all operations over all the time; the latencies are the median round's. */
function combine(runs: Measurement[]): Measurement {
  const ops = runs.reduce((sum, run) => sum + run.ops, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const middle = [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)]!;
  const cpuMs = runs.reduce((sum, run) => sum + run.cpuMsPerOp * run.ops, 0);
  return { ops, seconds: round(seconds, 3), rate: ops / seconds, concurrency: middle.concurrency, latencyMs: middle.latencyMs, cpuMsPerOp: round(cpuMs / Math.max(1, ops), 2) };
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
  if (runs('verify')) await measureReference('before');
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

  // The bare engine: the reference of the token paths and of password logins ---------------
  const startEngine = async () => {
    const referencePrefix = createTestRedisPrefix();
    onCleanup('reference redis prefix', () => referencePrefix.clear());
    log(`bare oidc-provider reference with the Redis adapter (prefix ${referencePrefix.prefix})`);
    const started = await startReferenceEngine({
      redisUrl: testRedisUrl,
      prefix: referencePrefix.prefix,
      api: apiIdentifier,
      apiScopes: ['read:things', 'write:things'],
      // A Keyhold account's stored hash: the same password at the same (production) parameters.
      loginUser: { email: 'reference-user@example.test', passwordHash: storedHash.password_hash! },
    });
    onCleanup('reference engine', () => started.stop());
    return started;
  };
  const engine = runs('tokens') || runs('login') ? await startEngine() : undefined;

  // 2. Token paths against the bare engine ------------------------------------------------
  // Each workload runs on the reference engine and on Keyhold with the same concurrency and
  // window; the ratio is Keyhold's rate over the engine's (goal >= 0.9). The sides alternate
  // in short rounds (ABBA…, or ABCCBA… for three) after a warm-up each, so that a change in
  // the machine's load meanwhile (it is shared) weighs on all alike; a side's rate is its
  // operations over its time in all rounds.
  type Op = (worker: number) => Promise<unknown>;
  const alternate = async <Side extends string>(ops: Record<Side, Op>, concurrency: number, roundsPerSide = COMPARE_ROUNDS) => {
    const sides = Object.keys(ops) as Side[];
    for (const side of sides) await measure({ concurrency, durationMs: WARMUP_MS, maxOps: MAX_OPS, op: ops[side] });
    const rounds = Object.fromEntries(sides.map((side) => [side, [] as Measurement[]])) as Record<Side, Measurement[]>;
    for (let index = 0; index < roundsPerSide; index++) {
      for (const side of index % 2 === 0 ? sides : [...sides].reverse()) {
        rounds[side].push(await measure({ concurrency, durationMs: WINDOW_MS / roundsPerSide, maxOps: MAX_OPS / roundsPerSide, op: ops[side] }));
      }
    }
    return {
      runs: Object.fromEntries(sides.map((side) => [side, combine(rounds[side])])) as Record<Side, Measurement>,
      rounds: Object.fromEntries(sides.map((side) => [side, rounds[side].map((run) => round(run.rate))])) as Record<Side, number[]>,
    };
  };
  const compare = async (name: string, unit: string, ops: { keyhold: Op; reference: Op }, concurrency = HTTP_CONCURRENCY) => {
    log(`${name}: the engine and Keyhold in ${COMPARE_ROUNDS} alternating rounds each`);
    const { runs: measured, rounds } = await alternate({ reference: ops.reference, keyhold: ops.keyhold }, concurrency);
    const { reference, keyhold: keyholdRun } = measured;
    const ratio = keyholdRun.rate / reference.rate;
    // CPU per request (this process: server and load generator alike) moves less with the
    // machine's other load than the rates do: a second view of the same comparison.
    log(`${name}: ${keyholdRun.cpuMsPerOp} ms of this process's CPU per request with Keyhold, ${reference.cpuMsPerOp} ms with the engine`);
    const cpu = { keyholdMsPerOp: keyholdRun.cpuMsPerOp, engineMsPerOp: reference.cpuMsPerOp, engineOverKeyhold: round(reference.cpuMsPerOp / keyholdRun.cpuMsPerOp, 3) };
    results.push({ name, value: round(keyholdRun.rate), unit, reference: round(reference.rate), ratio, ratioTo: ENGINE, goal: '>= 0.9 of the engine', meets: ratio >= 0.9, detail: { keyhold: describe(keyholdRun), reference: describe(reference), rounds: { keyhold: rounds.keyhold, reference: rounds.reference }, cpu } });
    return keyholdRun;
  };
  const form = (authorization: string, body: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(body).toString(),
  });
  const tokenEndpoint = `${issuer}/token`;
  const serviceAuthorization = basicAuthorization(service.client_id as string, service.client_secret as string);
  const accessTokens: string[] = [];
  const issueAt = async (endpoint: string, authorization: string, body: Record<string, string>, keep?: string[]) => {
    const answer = await fetchJson(endpoint, form(authorization, body));
    if (typeof answer.access_token !== 'string' || answer.token_type !== 'Bearer') throw new Error(`unexpected token response ${JSON.stringify(answer)}`);
    if (keep && keep.length < 1000) keep.push(answer.access_token);
    return answer.access_token;
  };
  const jwtRequest = { grant_type: 'client_credentials', resource: apiIdentifier, scope: 'read:things' };
  // Introspection's absolute goal (5,000/s): every way it was measured in this run; the best counts.
  const absoluteIntrospection: Array<{ rate: number; how: string; detail?: Record<string, unknown> }> = [];
  if (runs('tokens') && engine) {
    const referenceServiceAuthorization = basicAuthorization(engine.service.clientId, engine.service.clientSecret);
    await compare('client_credentials, JWT for an API', 'tokens/s', {
      keyhold: () => issueAt(tokenEndpoint, serviceAuthorization, jwtRequest, accessTokens),
      reference: () => issueAt(`${engine.url}/token`, referenceServiceAuthorization, jwtRequest),
    });
    const opaqueTokens: string[] = [];
    const referenceOpaqueTokens: string[] = [];
    await compare('client_credentials, opaque', 'tokens/s', {
      keyhold: () => issueAt(tokenEndpoint, serviceAuthorization, { grant_type: 'client_credentials' }, opaqueTokens),
      reference: () => issueAt(`${engine.url}/token`, referenceServiceAuthorization, { grant_type: 'client_credentials' }, referenceOpaqueTokens),
    });
    const introspect = async (endpoint: string, authorization: string, token: string) => {
      const answer = await fetchJson(endpoint, form(authorization, { token }));
      if (answer.active !== true) throw new Error(`introspection: ${JSON.stringify(answer)}`);
    };
    const introspectionRun = await compare('introspection', 'introspections/s', {
      keyhold: (worker) => introspect(`${issuer}/token/introspection`, serviceAuthorization, opaqueTokens[worker % opaqueTokens.length]!),
      reference: (worker) => introspect(`${engine.url}/token/introspection`, referenceServiceAuthorization, referenceOpaqueTokens[worker % referenceOpaqueTokens.length]!),
    });
    absoluteIntrospection.push({ rate: introspectionRun.rate, how: 'in process, fetch load generator sharing the event loop (the engine comparison above)' });

    // 3. Refresh token rotation and userinfo ----------------------------------------------------
    log(`refresh rotation and userinfo: ${REFRESH_CHAINS} chains from code flows with consent`);
    const offlineConfig = await discover(issuer, offline.client_id as string, offline.client_secret as string);
    const chains: string[] = [];
    const userAccessTokens: string[] = [];
    await measure({
      concurrency: 4,
      durationMs: 120_000,
      maxOps: REFRESH_CHAINS,
      async op(worker) {
        const { tokens, consented } = await passwordCodeFlow(offlineConfig, { email: users[worker]!.email, password }, { scope: 'openid offline_access', prompt: 'consent' });
        if (!consented || !tokens.refresh_token) throw new Error(`code flow with offline_access gave no refresh token (consented: ${consented})`);
        chains.push(tokens.refresh_token);
        userAccessTokens.push(tokens.access_token);
      },
    });
    if (chains.length !== REFRESH_CHAINS) throw new Error(`got ${chains.length} refresh chains`);
    const referenceUserTokens = await engine.userTokens(REFRESH_CHAINS);
    const referenceChains = referenceUserTokens.map((tokens) => tokens.refreshToken);
    const userinfo = async (url: string, token: string) => {
      const answer = await fetchJson(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      if (typeof answer.sub !== 'string') throw new Error(`userinfo: ${JSON.stringify(answer)}`);
    };
    await compare('userinfo', 'requests/s', {
      keyhold: (worker) => userinfo(`${issuer}/me`, userAccessTokens[worker % userAccessTokens.length]!),
      reference: (worker) => userinfo(`${engine.url}/me`, referenceUserTokens[worker % referenceUserTokens.length]!.accessToken),
    });
    const offlineAuthorization = basicAuthorization(offline.client_id as string, offline.client_secret as string);
    const referenceUserAuthorization = basicAuthorization(engine.user.clientId, engine.user.clientSecret);
    const rotate = async (endpoint: string, authorization: string, list: string[], chain: number) => {
      const current = list[chain]!;
      const answer = await fetchJson(endpoint, form(authorization, { grant_type: 'refresh_token', refresh_token: current }));
      if (typeof answer.refresh_token !== 'string' || answer.refresh_token === current || typeof answer.access_token !== 'string') {
        throw new Error(`refresh did not rotate: ${JSON.stringify(Object.keys(answer))}`);
      }
      list[chain] = answer.refresh_token;
    };
    await compare(
      'refresh rotation',
      'rotations/s',
      {
        keyhold: (chain) => rotate(tokenEndpoint, offlineAuthorization, chains, chain),
        reference: (chain) => rotate(`${engine.url}/token`, referenceUserAuthorization, referenceChains, chain),
      },
      REFRESH_CHAINS,
    );
  }

  // 5. JWT verification (now, while the server is idle) -------------------------------------
  let verifyComparison: VerifyComparison | undefined;
  if (runs('verify')) {
    // Without the token section, a few JWTs to verify.
    while (accessTokens.length < 100) await issueAt(tokenEndpoint, serviceAuthorization, jwtRequest, accessTokens);
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
    verifyComparison = await compareVerification({ issuer, audience: apiIdentifier, tokens: accessTokens, rounds: VERIFY_ROUNDS, roundMs: VERIFY_ROUND_MS, maxOps: MAX_OPS });
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
  }

  // 4. Password logins -----------------------------------------------------------------------
  // Keyhold's logins, the bare engine's (bench/reference-login.ts: one argon2id verify,
  // nothing of Keyhold's) with the same client code, and an argon2id-only loop, at the same
  // concurrency and window. All three alternate like the token paths: with the loop measured
  // after the logins, a shift in the machine's load once put the engine's logins (argon2id
  // and more) at 1.7 times the loop.
  let loginLine: string | undefined;
  if (runs('login') && engine) {
    log(`password login: Keyhold (first-party client), the bare engine + argon2id (same client) and argon2id alone, in ${LOGIN_ROUNDS} alternating rounds each`);
    const firstPartyConfig = await discover(issuer, firstParty.client_id as string, firstParty.client_secret as string);
    const engineConfig = await discover(engine.url, engine.login.clientId, engine.login.clientSecret);
    const signIn = async (config: Awaited<ReturnType<typeof discover>>, credentials: { email: string; password: string }, subject: string) => {
      const { tokens, consented } = await passwordCodeFlow(config, credentials);
      if (consented) throw new Error('consent was asked of a first-party client');
      if (tokens.claims()?.sub !== subject) throw new Error('ID token for the wrong subject');
    };
    const logins = await alternate(
      {
        argon2: async () => {
          if (!(await argon2id.verify(storedHash.password_hash!, password))) throw new Error('argon2 verify failed');
        },
        engine: () => signIn(engineConfig, { email: engine.login.email, password }, engine.login.accountId),
        keyhold: (worker) => signIn(firstPartyConfig, { email: users[worker]!.email, password }, users[worker]!.id),
      },
      LOGIN_CONCURRENCY,
      LOGIN_ROUNDS,
    );
    const { keyhold: loginRun, engine: engineLoginRun, argon2: argon2Run } = logins.runs;
    log(`password login: ${loginRun.cpuMsPerOp} ms of this process's CPU per Keyhold login, ${engineLoginRun.cpuMsPerOp} ms per bare-engine login, ${argon2Run.cpuMsPerOp} ms per argon2id verify`);
    const argon2Parameters = { memoryKiB: argon2.memoryKiB, iterations: argon2.iterations, parallelism: argon2.parallelism };
    const toEngine = loginRun.rate / engineLoginRun.rate;
    results.push({
      name: 'password login (full code flow)',
      value: round(loginRun.rate),
      unit: 'logins/s',
      reference: round(argon2Run.rate),
      ratio: loginRun.rate / argon2Run.rate,
      ratioTo: 'argon2id verify loop, same parameters and concurrency',
      goal: '>= 0.8 of argon2id alone',
      meets: loginRun.rate / argon2Run.rate >= 0.8,
      detail: {
        login: describe(loginRun),
        argon2Only: describe(argon2Run),
        cpuMsPerLogin: loginRun.cpuMsPerOp,
        cpuMsPerVerify: argon2Run.cpuMsPerOp,
        argon2id: argon2Parameters,
        uvThreadpoolSize: keyhold.config.UV_THREADPOOL_SIZE,
        argon2Queue: keyhold.config.ARGON2_QUEUE,
        ratioToBareEngineLogin: Number(toEngine.toPrecision(4)),
        bareEngineLoginRate: round(engineLoginRun.rate),
        rounds: logins.rounds,
        roundMs: WINDOW_MS / LOGIN_ROUNDS,
      },
    });
    results.push({
      name: 'password login, bare engine + argon2id (same client)',
      value: round(engineLoginRun.rate),
      unit: 'logins/s',
      reference: round(argon2Run.rate),
      ratio: engineLoginRun.rate / argon2Run.rate,
      ratioTo: 'argon2id verify loop, same parameters and concurrency',
      detail: { login: describe(engineLoginRun), cpuMsPerLogin: engineLoginRun.cpuMsPerOp, argon2id: argon2Parameters, rounds: logins.rounds.engine, engine: `${ENGINE}, login page of bench/reference-login.ts` },
    });
    loginLine = `password login: Keyhold ${round(loginRun.rate)} logins/s is ${toEngine.toFixed(3)} of the bare engine + argon2id (${round(engineLoginRun.rate)}/s, same client and concurrency), which is itself ${(engineLoginRun.rate / argon2Run.rate).toFixed(3)} of argon2id alone (${round(argon2Run.rate)}/s)`;
  }

  // The in-process servers are stopped before the processes are measured, so they idle alone.
  await server.stop();
  await engine?.stop();
  if (runs('verify')) await measureReference('after');
  // Throughput results carry their raw rate in `ratio` until the reference is complete.
  for (const result of results) if (result.ratioTo === RPS) result.ratio /= referenceRps();

  // 6. Processes: WORKERS 1 and 2, cold start and idle RSS, the CLI -------------------------
  // All run the build (dist/, plain JavaScript), as `npm start` does.
  const referenceChildren: ChildRun[] = [];
  if (runs('processes')) {
    if (distIsStale()) {
        log('building dist/ (sources newer than the build)');
        await buildDist();
    }
    const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const keyholdEnv = (port: number, extra: Record<string, string> = {}) => ({
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
      ...extra,
    });
    const workerRates: Record<number, Measurement> = {};
    const withWrk = wrkAvailable();
    if (!withWrk) log('wrk not installed (apt-get install wrk): introspection is measured in process only');
    const wrkIntrospection: Record<number, WrkRun> = {};
    for (const workers of [1, 2]) {
      log(`WORKERS=${workers}: client_credentials (opaque) against the built server`);
      const port = await freePort();
      const child = await spawnServer({ args: ['scripts/start.js'], cwd: repoRoot, port, readyPath: '/readyz', env: keyholdEnv(port, { WORKERS: String(workers) }) });
      onCleanup(`server WORKERS=${workers}`, () => child.stop());
      // Every worker must be up before the window opens (each answers /readyz on its own start).
      await sleep(workers > 1 ? 3000 : 500);
      try {
        workerRates[workers] = await measure({
          concurrency: HTTP_CONCURRENCY,
          durationMs: WINDOW_MS,
          warmupMs: WARMUP_MS,
          maxOps: MAX_OPS,
          op: () => issueAt(`${child.url}/token`, serviceAuthorization, { grant_type: 'client_credentials' }),
        });
        if (withWrk) {
          log(`WORKERS=${workers}: introspection with wrk (outside load generator)`);
          const token = await issueAt(`${child.url}/token`, serviceAuthorization, { grant_type: 'client_credentials' });
          const request = { url: `${child.url}/token/introspection`, method: 'POST' as const, headers: { authorization: serviceAuthorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ token }).toString(), connections: WRK_CONNECTIONS };
          await runWrk({ ...request, durationMs: WARMUP_MS });
          const run = await runWrk({ ...request, durationMs: WINDOW_MS });
          if (run.errors > 0) throw new Error(`wrk: ${run.errors} failed introspections of ${run.requests}`);
          wrkIntrospection[workers] = run;
          absoluteIntrospection.push({ rate: run.rate, how: `built server, WORKERS=${workers}, wrk with ${WRK_CONNECTIONS} connections`, detail: { requests: run.requests, seconds: round(run.seconds, 2), latencyMs: run.latencyMs } });
        }
      } finally {
        await child.stop();
      }
    }
    results.push({
      name: 'client_credentials opaque, WORKERS=1 (process)',
      value: round(workerRates[1]!.rate),
      unit: 'tokens/s',
      ratio: 1,
      ratioTo: 'itself',
      detail: describe(workerRates[1]!),
    });
    results.push({
      name: 'client_credentials opaque, WORKERS=2 (process)',
      value: round(workerRates[2]!.rate),
      unit: 'tokens/s',
      reference: round(workerRates[1]!.rate),
      ratio: workerRates[2]!.rate / workerRates[1]!.rate,
      ratioTo: 'WORKERS=1 (the load generator shares the 2 cores)',
      detail: describe(workerRates[2]!),
    });

    for (const workers of [1, 2]) {
      const run = wrkIntrospection[workers];
      if (!run) continue;
      results.push({ name: `introspection, WORKERS=${workers} (process, wrk)`, value: round(run.rate), unit: 'introspections/s', ratio: workers === 1 ? 1 : run.rate / wrkIntrospection[1]!.rate, ratioTo: workers === 1 ? 'itself' : 'WORKERS=1 (wrk, Redis and Postgres share the 2 cores)', detail: { requests: run.requests, seconds: round(run.seconds, 2), connections: WRK_CONNECTIONS, latencyMs: run.latencyMs } });
    }

    const referenceScript = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(${JSON.stringify(REFERENCE_BODY)}); }).listen(Number(process.env.PORT), '127.0.0.1');`;
    onCleanup('child processes', killChildrenNow);
    const keyholdChildren: ChildRun[] = [];
    for (let run = 0; run < CHILD_RUNS; run++) {
      log(`process start and idle RSS, run ${run + 1}/${CHILD_RUNS}`);
      const referencePort = await freePort();
      referenceChildren.push(await runChild({ args: ['-e', referenceScript], env: { ...baseEnv, PORT: String(referencePort) }, cwd: repoRoot, port: referencePort, readyPath: '/', idleMs: CHILD_IDLE_MS }));
      const port = await freePort();
      keyholdChildren.push(
        await runChild({
          args: ['scripts/start.js'],
          cwd: repoRoot,
          port,
          readyPath: '/readyz',
          idleMs: CHILD_IDLE_MS,
          env: keyholdEnv(port, { WORKERS: '1' }),
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
      reference: round(referenceRssKiB / 1024),
      ratio: keyholdRssKiB / referenceRssKiB,
      ratioTo: 'bare node:http process idle RSS',
      goal: '< 120 MiB',
      meets: keyholdRssKiB / 1024 < 120,
      detail: { runsKiB: keyholdChildren.map((run) => run.idleRssKiB), idleMs: CHILD_IDLE_MS, command: 'node scripts/start.js (dist/, WORKERS=1)' },
    });
    results.push({
      name: 'cold start (spawn to /readyz 200)',
      value: Math.round(keyholdStartMs),
      unit: 'ms',
      reference: Math.round(referenceStartMs),
      ratio: keyholdStartMs / referenceStartMs,
      ratioTo: 'bare node:http process spawn to first 200',
      goal: '< 1500 ms',
      meets: keyholdStartMs < 1500,
      detail: { runsMs: keyholdChildren.map((run) => Math.round(run.startMs)), database: 'migrated (restart, not first boot)', command: 'node scripts/start.js (dist/, WORKERS=1)' },
    });

    const cliRuns: number[] = [];
    for (let run = 0; run < CHILD_RUNS; run++) {
      log(`CLI: keyhold keys list (services mode), run ${run + 1}/${CHILD_RUNS}`);
      const cli = await timeCommand({ args: ['bin/keyhold.js', 'keys', 'list'], cwd: repoRoot, env: { ...keyholdEnv(0), CLI_LOG_LEVEL: 'silent' } });
      if (cli.code !== 0) throw new Error(`keyhold keys list failed (${cli.code}): ${cli.stderr}`);
      cliRuns.push(cli.ms);
    }
    const cliMs = median(cliRuns);
    results.push({
      name: 'CLI keyhold keys list (spawn to exit)',
      value: Math.round(cliMs),
      unit: 'ms',
      reference: Math.round(referenceStartMs),
      ratio: cliMs / referenceStartMs,
      ratioTo: 'bare node:http process spawn to first 200',
      goal: '< 1000 ms',
      meets: cliMs < 1000,
      detail: { runsMs: cliRuns.map(Math.round), command: 'node bin/keyhold.js keys list (dist/cli.js)' },
    });
  }

  if (absoluteIntrospection.length > 0) {
    const best = absoluteIntrospection.reduce((a, b) => (b.rate > a.rate ? b : a));
    results.push({ name: 'introspection (absolute, best of this run)', value: round(best.rate), unit: 'introspections/s', ratio: best.rate / 5000, ratioTo: 'the goal of 5,000/s', goal: '>= 5000/s', meets: best.rate >= 5000, detail: { measuredBy: best.how, candidates: absoluteIntrospection.map((entry) => ({ rate: round(entry.rate), how: entry.how })) } });
  }

  await cleanup();

  // Report -----------------------------------------------------------------------------------
  const referenceReport = {
    name: 'bare node:http (tiny JSON body)',
    value: referenceRuns.length > 0 ? round(referenceRps()) : undefined,
    unit: 'requests/s',
    runs: referenceRuns.map((run) => ({ when: run === referenceRuns[0] ? 'before' : 'after', rate: round(run.rate), ...describe(run) })),
    process:
      referenceChildren.length > 0
        ? {
            idleRssMiB: round(median(referenceChildren.map((run) => run.idleRssKiB)) / 1024),
            coldStartMs: Math.round(median(referenceChildren.map((run) => run.startMs))),
            runs: referenceChildren.map((run) => ({ idleRssKiB: run.idleRssKiB, startMs: Math.round(run.startMs) })),
          }
        : undefined,
  };
  const rows: string[][] = [
    ['name', 'value', 'unit', 'reference', 'ratio', 'ratio to', 'goal'],
    ...(referenceReport.value === undefined ? [] : [[referenceReport.name, String(referenceReport.value), referenceReport.unit, '', '1', '', '']]),
    ...referenceReport.runs.map((run) => [`  reference run ${run.when}`, String(run.rate), 'requests/s', '', '', '', '']),
    ...(referenceReport.process
      ? [
          ['  reference process idle RSS', String(referenceReport.process.idleRssMiB), 'MiB', '', '1', '', ''],
          ['  reference process cold start', String(referenceReport.process.coldStartMs), 'ms', '', '1', '', ''],
        ]
      : []),
    ...results.map((result) => [
      result.name,
      String(result.value),
      result.unit,
      result.reference === undefined ? '' : String(result.reference),
      formatRatio(result.ratio),
      result.ratioTo,
      result.goal ? `${result.goal}: ${result.meets ? 'meets' : 'NOT MET'}` : '',
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 1 || column === 3 || column === 4 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  console.log(line(rows[0]!));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row));
  if (verifyComparison) {
    console.log(`\nJWT verification: ${results.find((r) => r.name.startsWith('JWT'))!.value} verifications/s absolute (in-process CPU loop, one core)`);
    console.log(verifyLine(verifyComparison));
  }
  if (loginLine) console.log(`\n${loginLine}`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${round(os.totalmem() / 2 ** 30)} GiB, load ${loadAtStart.join(' ')}${only.length > 0 ? `, BENCH_ONLY=${only.join(',')}` : ''}; ${round((performance.now() - started) / 1000)} s`);

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim(), memory: os.totalmem(), platform: `${os.platform()} ${os.release()}`, loadavg: { start: loadAtStart, end: os.loadavg().map((value) => round(value, 2)) } },
    sections: only.length > 0 ? only : [...SECTIONS],
    reference: referenceReport,
    results: results.map((r) => ({ name: r.name, value: r.value, unit: r.unit, reference: r.reference, ratio: Number(r.ratio.toPrecision(4)), ratioTo: r.ratioTo, goal: r.goal, meets: r.meets, detail: r.detail })),
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
