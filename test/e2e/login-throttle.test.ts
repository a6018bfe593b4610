// Attacks on the login throttle over real HTTP: a forged X-Forwarded-For behind a proxy,
// rotating addresses against one account, and a burst of concurrent guesses (Redis and
// in-memory counters). Each answer past a limit is 429 with Retry-After and the IETF
// RateLimit-Policy / RateLimit headers, and the password is not even checked.
import test from 'ava';
import type * as oidc from 'openid-client';
import { parseForms, type Browser, type Page } from '../helpers/browser.ts';
import { createUser, discover, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

interface Target {
  server: TestServer;
  config: oidc.Configuration;
}

let behindProxy: Target;
let direct: Target;
let inMemory: Target;

async function start(options: Parameters<typeof startTestServer>[0]): Promise<Target> {
  const server = await startTestServer(options);
  return { server, config: await discover(server, await registerClient(server)) };
}

test.before(async () => {
  [behindProxy, direct, inMemory] = await Promise.all([
    start({ env: { TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '3', LOGIN_ACCOUNT_RATE_LIMIT: '6' } }),
    start({ env: { LOGIN_RATE_LIMIT: '3', LOGIN_ACCOUNT_RATE_LIMIT: '50' } }),
    start({ redis: false, env: { LOGIN_RATE_LIMIT: '3', LOGIN_ACCOUNT_RATE_LIMIT: '50' } }),
  ]);
});
test.after.always(async () => {
  await Promise.all([behindProxy, direct, inMemory].map((target) => target?.server.stop()));
});

/** Posts the login form of `page` with extra request headers (what a proxy would pass on). */
async function postLogin(browser: Browser, page: Page, values: { email: string; password: string }, headers: Record<string, string> = {}): Promise<Page> {
  const form = parseForms(page.body, page.url).find((candidate) => candidate.action.endsWith('/login'));
  if (!form) throw new Error(`no login form (status ${page.status}):\n${page.body.slice(0, 300)}`);
  const body = new URLSearchParams({ csrf: form.fields.find((field) => field.name === 'csrf')!.value, ...values });
  return browser.request(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}

const randomAddress = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

function assertThrottled(t: { is(a: unknown, b: unknown, m?: string): void; regex(a: string, r: RegExp, m?: string): void; true(a: boolean, m?: string): void }, page: Page, policy: string, points: number) {
  t.is(page.status, 429);
  t.true(Number(page.headers.get('retry-after')) > 0, 'Retry-After');
  t.regex(page.headers.get('ratelimit-policy') ?? '', new RegExp(`^"${policy}";q=${points};w=900$`));
  t.regex(page.headers.get('ratelimit') ?? '', new RegExp(`^"${policy}";r=0;t=\\d+$`));
  t.regex(page.body, /Too many failed attempts/);
}

test('behind a proxy, a forged left-most X-Forwarded-For does not escape the per-address limit', async (t) => {
  const user = await createUser(behindProxy.server);
  const { browser, page } = await openAuthorization(behindProxy.config);
  // The proxy appends the address it saw; everything left of it is the client's own text.
  const forwarded = () => ({ 'x-forwarded-for': `${randomAddress()}, 198.51.100.7` });
  for (let attempt = 0; attempt < 3; attempt++) {
    t.is((await postLogin(browser, page, { email: user.email, password: `wrong-${attempt}` }, forwarded())).status, 401);
  }
  assertThrottled(t, await postLogin(browser, page, { email: user.email, password: 'wrong-again' }, forwarded()), 'login-account-address', 3);
  // Another client behind the same proxy, from another address, may still try.
  const other = await openAuthorization(behindProxy.config);
  t.is((await postLogin(other.browser, other.page, { email: user.email, password: 'wrong' }, { 'x-forwarded-for': '198.51.100.8' })).status, 401);
});

test('rotating the address on every guess still hits the per-account limit, even with the right password', async (t) => {
  const user = await createUser(behindProxy.server);
  const { browser, page } = await openAuthorization(behindProxy.config);
  for (let attempt = 0; attempt < 6; attempt++) {
    const answer = await postLogin(browser, page, { email: user.email, password: `wrong-${attempt}` }, { 'x-forwarded-for': randomAddress() });
    t.is(answer.status, 401, `attempt ${attempt + 1}`);
  }
  assertThrottled(t, await postLogin(browser, page, { email: user.email, password: 'wrong-again' }, { 'x-forwarded-for': randomAddress() }), 'login-account', 6);
  assertThrottled(t, await postLogin(browser, page, { email: user.email, password: user.password }, { 'x-forwarded-for': randomAddress() }), 'login-account', 6);
  // The name counts as typed, account or not: unknown names are limited the same way.
  const unknown = `Nobody-${Date.now()}@Example.test`;
  for (let attempt = 0; attempt < 6; attempt++) await postLogin(browser, page, { email: unknown, password: 'x' }, { 'x-forwarded-for': randomAddress() });
  t.is((await postLogin(browser, page, { email: ` ${unknown.toLowerCase()} `, password: 'x' }, { 'x-forwarded-for': randomAddress() })).status, 429);
});

test('without TRUST_PROXY, X-Forwarded-For is ignored: rotating it changes nothing', async (t) => {
  const user = await createUser(direct.server);
  const { browser, page } = await openAuthorization(direct.config);
  for (let attempt = 0; attempt < 3; attempt++) {
    t.is((await postLogin(browser, page, { email: user.email, password: `wrong-${attempt}` }, { 'x-forwarded-for': randomAddress() })).status, 401);
  }
  assertThrottled(t, await postLogin(browser, page, { email: user.email, password: 'wrong' }, { 'x-forwarded-for': randomAddress() }), 'login-account-address', 3);
});

test('a right password gives its attempt back: after a success the count starts again', async (t) => {
  const user = await createUser(direct.server);
  for (let round = 0; round < 2; round++) {
    const { browser, page } = await openAuthorization(direct.config);
    for (let attempt = 0; attempt < 2; attempt++) t.is((await postLogin(browser, page, { email: user.email, password: `wrong-${attempt}` })).status, 401);
    const success = await postLogin(browser, page, { email: user.email, password: user.password });
    t.is(success.status, 303, `round ${round + 1}`);
  }
});

for (const [label, target] of [
  ['Redis', () => direct],
  ['in-memory', () => inMemory],
] as const) {
  test(`${label} counters: a burst of concurrent guesses gets the password checked at most LOGIN_RATE_LIMIT times`, async (t) => {
    const { server, config } = target();
    const user = await createUser(server);
    const { browser, page } = await openAuthorization(config);
    const answers = await Promise.all(Array.from({ length: 9 }, (_, index) => postLogin(browser, page, { email: user.email, password: `burst-${index}` })));
    const statuses = answers.map((answer) => answer.status);
    t.is(statuses.filter((status) => status === 401).length, 3, JSON.stringify(statuses));
    t.is(statuses.filter((status) => status === 429).length, 6, JSON.stringify(statuses));
    // Still blocked afterwards, right password or not.
    t.is((await postLogin(browser, page, { email: user.email, password: user.password })).status, 429);
  });
}
