// Property-based fuzzing (fast-check) of every endpoint and form: the engine's protocol
// endpoints (discovery, JWKS, authorize GET/POST, token with each grant type, introspection,
// revocation, userinfo, PAR, device authorization, registration, logout) and every route of
// Keyhold's own (interaction forms, self-service and account pages, Account API, Admin API,
// federation, operations), listed from the running app's routers so that a new route is
// fuzzed without being added here. Requests carry random and hostile parameters, bodies,
// headers and encodings, mixed with real credentials so that they also get past the guards.
// Every answer must be a non-5xx response without a stack trace or an internal path, on a
// connection that was not dropped, and the server must still serve normal requests after
// each route's run.
//
// Bounded for CI: FUZZ_RUNS requests per route and method (default 4) within a time budget
// per route. A longer run: FUZZ_RUNS=200 npx ava test/e2e/fuzz.test.ts (no time budget
// then); FUZZ_SEED=<n> replays a run.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { accountResourceFor, adminResourceFor } from '#src/services/resources.ts';
import { adminClientToken } from '../helpers/admin.ts';
import { servedRoutes } from '../helpers/app-routes.ts';
import { Browser, parseForms } from '../helpers/browser.ts';
import { hostileRequest, unsoundAnswer, type FuzzContext, type FuzzTarget } from '../helpers/hostile-http.ts';
import { atRedirectUri, authorizationRequest, basicAuth, createUser, discover, login, registerClient, tokenRequest, type RegisteredClient } from '../helpers/oidc.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const LONG_RUN = process.env.FUZZ_RUNS !== undefined;
const RUNS = Number(process.env.FUZZ_RUNS ?? 4);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
// Per route, so that the whole file stays well under a minute on a loaded CI runner.
const ROUTE_BUDGET_MS = 1_500;

type Store = 'redis' | 'sql';
interface Setup {
  server: TestServer;
  // Kept out of the fuzzed values, so that the Admin API fuzzing (with a real admin token)
  // cannot delete it or rotate its secret: the "still serves" check's own client.
  probeClient: RegisteredClient;
  context: Omit<FuzzContext, 'names'>;
}
// Engine state in Redis, and in SQL (jsonb refuses what Redis stores, U+0000 among it).
const setups = {} as Record<Store, Setup>;

const browserCookies = (browser: Browser) => [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');

/** Real credentials and ids on `server`, for the fuzzed requests to mix in. */
async function prepare(server: TestServer): Promise<Setup> {
  const client = await registerClient(server, { first_party: true, grant_types: ['authorization_code', 'refresh_token'] });
  const serviceClient = await registerClient(server, { grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [] });
  const probeClient = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const config = await discover(server, client);
  const user = await createUser(server);
  // A signed-in user: a session at Keyhold (account pages), an Account API token, a refresh token.
  const signedIn = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid offline_access account:read account:write', prompt: 'consent' });
  const accountPage = await signedIn.browser.get(`${server.issuer}/account/security`);
  const accountCsrf = parseForms(accountPage.body, accountPage.url).flatMap((form) => form.fields).find((field) => field.name === 'csrf')?.value;
  // An interaction in progress: its uid, CSRF token and cookies.
  const interactionBrowser = new Browser();
  const { url } = await authorizationRequest(config, { prompt: 'login' });
  const loginPage = await interactionBrowser.get(url.toString(), atRedirectUri);
  const uid = /\/interaction\/([^/?]+)/.exec(loginPage.url)![1]!;
  const interactionCsrf = parseForms(loginPage.body, loginPage.url).flatMap((form) => form.fields).find((field) => field.name === 'csrf')?.value;
  const adminToken = await adminClientToken(server, 'admin admin:read');
  return {
    server,
    probeClient,
    context: {
      pathValues: {
        uid: [uid],
        id: [user.id, client.clientId, serviceClient.clientId, 'default'],
        identifier: [encodeURIComponent(accountResourceFor(server.issuer)), encodeURIComponent(adminResourceFor(server.issuer))],
        name: ['admin', 'user'],
        connector: ['google'],
        subject: ['1'],
      },
      authorizations: [basicAuth(client), basicAuth(serviceClient), `Bearer ${signedIn.tokens.access_token}`, `Bearer ${adminToken}`],
      cookies: [browserCookies(signedIn.browser), browserCookies(interactionBrowser)],
      values: [
        ...[interactionCsrf, accountCsrf].filter((value): value is string => typeof value === 'string'),
        signedIn.tokens.refresh_token!, signedIn.tokens.access_token, adminToken, client.clientId, serviceClient.clientId,
        serviceClient.clientSecret!, user.email, user.password, user.id, uid, 'https://app.example.test/callback',
      ],
    },
  };
}

test.before(async () => {
  const env = { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', DEVICE_FLOW: 'true', DYNAMIC_REGISTRATION: 'true', MFA_TOTP: 'true' };
  const [redis, sql] = await Promise.all([startTestServer({ env }), startTestServer({ redis: false, env })]);
  [setups.redis, setups.sql] = await Promise.all([prepare(redis), prepare(sql)]);
});
test.after.always(async () => {
  await Promise.all(Object.values(setups).map((setup) => setup?.server.stop()));
});

// Parameter names per kind of route.
const PROTOCOL_NAMES = [
  'client_id', 'client_secret', 'response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method',
  'prompt', 'max_age', 'request', 'request_uri', 'claims', 'ui_locales', 'login_hint', 'id_token_hint', 'acr_values', 'resource',
  'response_mode', 'dpop_jkt', 'grant_type', 'code', 'code_verifier', 'refresh_token', 'device_code', 'user_code', 'token',
  'token_type_hint', 'client_assertion', 'client_assertion_type', 'post_logout_redirect_uri', 'logout', 'xsrf', 'authorization_details',
  'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'jwks', 'jwks_uri', 'client_name', 'confirm', 'abort',
];
const FORM_NAMES = [
  'csrf', 'email', 'password', 'name', 'code', 'flow', 'token', 'current_password', 'new_password', 'password_confirmation',
  'given_name', 'family_name', 'remember', 'keep_other_sessions', 'factor', 'kind', 'label', 'phone', 'locale', 'recovery_code',
  'interaction', 'id', 'credential', 'response', 'action', 'consent', 'scope', 'connector', 'method', 'secret', 'otp', 'remember_device',
];
const API_NAMES = [
  'email', 'name', 'password', 'current_password', 'new_password', 'roles', 'tier', 'tenant', 'client_id', 'redirect_uris',
  'grant_types', 'response_types', 'scope', 'identifier', 'scopes', 'permissions', 'description', 'enabled', 'disabled', 'display_name',
  'metadata', 'kind', 'code', 'label', 'limit', 'cursor', 'after', 'before', 'q', 'status', 'grants', 'resource', 'given_name',
  'family_name', 'locale', 'picture', 'phone_number', 'email_verified', 'first_party', 'token_endpoint_auth_method', 'id', 'phone',
];

// The engine's endpoints (they sit behind the engine, not in Keyhold's routers).
const ENGINE_TARGETS: FuzzTarget[] = [
  { methods: ['GET'], path: '/.well-known/openid-configuration' },
  { methods: ['GET'], path: '/jwks' },
  { methods: ['GET', 'POST'], path: '/auth' },
  { methods: ['POST'], path: '/token' },
  { methods: ['POST'], path: '/token/introspection' },
  { methods: ['POST'], path: '/token/revocation' },
  { methods: ['GET', 'POST'], path: '/me' },
  { methods: ['POST'], path: '/request' },
  { methods: ['POST'], path: '/device/auth' },
  { methods: ['GET', 'POST'], path: '/device' },
  { methods: ['POST'], path: '/reg' },
  { methods: ['GET', 'PUT', 'DELETE'], path: '/reg/:id' },
  { methods: ['GET', 'POST'], path: '/session/end' },
  { methods: ['POST'], path: '/session/end/confirm' },
  { methods: ['GET'], path: '/interaction/:uid' },
];

/** Keyhold's own routes, read from the running app's routers. */
function keyholdTargets(): FuzzTarget[] {
  const targets = new Map<string, Set<string>>();
  for (const layer of servedRoutes(setups.redis.server.keyhold.app)) {
    const methods = targets.get(layer.path) ?? new Set<string>();
    for (const method of layer.methods) methods.add(method);
    targets.set(layer.path, methods);
  }
  return [...targets].map(([path, methods]) => ({ path, methods: [...methods] }));
}

async function stillServes(t: ExecutionContext, { server, probeClient }: Setup, after: string) {
  const discovery = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  t.is(discovery.status, 200, `discovery after fuzzing ${after}`);
  const token = await tokenRequest(server, probeClient, { grant_type: 'client_credentials' });
  t.is(token.status, 200, `client_credentials after fuzzing ${after}: ${JSON.stringify(token.body)}`);
}

async function fuzz(t: ExecutionContext, setup: Setup, targets: FuzzTarget[], names: string[]) {
  const { server, context } = setup;
  t.timeout(LONG_RUN ? 24 * 3600_000 : 120_000);
  let requests = 0;
  for (const target of targets) {
    await fc.assert(
      fc.asyncProperty(hostileRequest(target, { ...context, names }), async (request) => {
        requests++;
        // A dropped connection rejects (DroppedConnection) and fails the property.
        const response = await rawRequest(server.issuer, request);
        const problem = unsoundAnswer(response);
        if (problem) throw new Error(`${request.method} ${request.target.toString('latin1').slice(0, 120)}: ${problem}`);
      }),
      { numRuns: RUNS * target.methods.length, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED }), ...(LONG_RUN ? {} : { interruptAfterTimeLimit: ROUTE_BUDGET_MS, markInterruptAsFailure: false }) },
    );
    await stillServes(t, setup, target.path);
  }
  t.log(`${requests} requests over ${targets.length} routes`);
}

for (const store of ['redis', 'sql'] as const) {
  test(`${store}: the engine endpoints answer hostile requests without 5xx, traces or dropped connections`, async (t) => {
    await fuzz(t, setups[store], ENGINE_TARGETS, PROTOCOL_NAMES);
  });

  test(`${store}: the interaction forms (login, register, recovery, MFA, consent) answer hostile requests soundly`, async (t) => {
    await fuzz(t, setups[store], keyholdTargets().filter((target) => target.path.startsWith('/interaction/')), [...FORM_NAMES, ...PROTOCOL_NAMES.slice(0, 10)]);
  });
}

test('the self-service, account and federation pages answer hostile requests soundly', async (t) => {
  await fuzz(t, setups.redis, keyholdTargets().filter((target) => !target.path.startsWith('/interaction/') && !target.path.startsWith('/api/')), FORM_NAMES);
});

test('the Account API answers hostile requests soundly', async (t) => {
  await fuzz(t, setups.redis, keyholdTargets().filter((target) => target.path.startsWith('/api/account') || target.path === '/api/openapi.json'), API_NAMES);
});

test('the Admin API answers hostile requests soundly', async (t) => {
  await fuzz(t, setups.redis, keyholdTargets().filter((target) => target.path.startsWith('/api/admin')), API_NAMES);
});

// Regressions: what fuzzing found, pinned down.

test('found by fuzzing: the device pages without a live session send to the form, not a 500', async (t) => {
  const requests = [
    { method: 'POST', target: '/device', body: Buffer.from('user_code=ABCD-EFGH&xsrf=x') },
    { method: 'GET', target: '/device/auth' },
    { method: 'GET', target: '/device/some-interaction' },
  ];
  for (const request of requests) {
    for (const cookie of [undefined, 'keyhold_session=forged; keyhold_session.sig=forged', 'keyhold_session=x']) {
      const response = await rawRequest(setups.redis.server.issuer, {
        ...request,
        headers: [['Content-Type', 'application/x-www-form-urlencoded'], ...(cookie ? [['Cookie', cookie] as [string, string]] : [])],
      });
      t.is(response.status, 303, `${request.method} ${request.target}, cookie ${cookie}`);
      t.regex(response.headers, /\r\nLocation: \/device\r\n/i);
    }
  }
  // The form it is sent to starts the session; a POST from it is the engine's again.
  const browser = new Browser();
  const form = await browser.get(`${setups.redis.server.issuer}/device`);
  t.is(form.status, 200);
  const xsrf = parseForms(form.body, form.url).flatMap((parsed) => parsed.fields).find((field) => field.name === 'xsrf')!.value;
  const wrongCode = await browser.request(`${setups.redis.server.issuer}/device`, { method: 'POST', body: new URLSearchParams({ xsrf, user_code: 'BCDF-GHJK' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.true(wrongCode.status < 500, `unknown code: ${wrongCode.status}`);
  t.regex(wrongCode.body, /name="xsrf"/);
  const resume = await browser.request(`${setups.redis.server.issuer}/device/not-an-interaction`);
  t.true(resume.status < 500, `resume: ${resume.status}`);
  const badXsrf = await browser.request(`${setups.redis.server.issuer}/device`, { method: 'POST', body: new URLSearchParams({ xsrf: 'wrong', user_code: 'BCDF-GHJK' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.true(badXsrf.status >= 400 && badXsrf.status < 500, `bad xsrf: ${badXsrf.status}`);
});

test('found by fuzzing: a body that does not inflate under its Content-Encoding is invalid_body, not a 500', async (t) => {
  const cases: Array<{ target: string; type: string; body: string; encoding: string }> = [
    { target: '/auth', type: 'application/x-www-form-urlencoded', body: '', encoding: 'gzip' },
    { target: '/recovery', type: 'application/x-www-form-urlencoded', body: 'email=a%40b.c', encoding: 'gzip' },
    { target: '/recovery', type: 'application/x-www-form-urlencoded', body: 'email=a%40b.c', encoding: 'deflate' },
    { target: '/api/admin/tenants', type: 'application/json', body: '{"id":"x"}', encoding: 'gzip' },
  ];
  for (const { target, type, body, encoding } of cases) {
    const response = await rawRequest(setups.redis.server.issuer, {
      method: 'POST',
      target,
      headers: [['Content-Type', type], ['Content-Encoding', encoding], ['Accept', 'application/json'], ['Authorization', setups.redis.context.authorizations[3]!]],
      body: Buffer.from(body),
    });
    t.is(response.status, 400, `${target} ${encoding}: ${response.body.slice(0, 200)}`);
    t.is(JSON.parse(response.body).error, 'invalid_body', target);
  }
  // An encoding nobody knows stays the 415 it was.
  const unknown = await rawRequest(setups.redis.server.issuer, { method: 'POST', target: '/recovery', headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Encoding', 'x-junk'], ['Accept', 'application/json']], body: Buffer.from('a=b') });
  t.is(unknown.status, 415);
});
