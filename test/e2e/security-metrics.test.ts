// The Contract's security metrics move on /metrics as sign-ins happen: login attempts by
// outcome, rate-limit refusals by limit, lockouts, tokens by grant type, request durations.
import test from 'ava';
import { parseForms } from '../helpers/browser.ts';
import { createUser, discover, login, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ env: { LOGIN_RATE_LIMIT: '4', LOGIN_ACCOUNT_RATE_LIMIT: '100', LOCKOUT_THRESHOLD: '3' } });
});
test.after.always(async () => {
  await server?.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${server.issuer}/metrics`);
  return response.text();
}

/** A sample's value (0 when absent), e.g. value(text, 'keyhold_lockouts_total'). */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

test('login attempts, rate limits, lockouts, tokens and request durations are counted', async (t) => {
  const client = await registerClient(server, { first_party: true });
  const config = await discover(server, client);
  const user = await createUser(server);
  const before = await scrape();

  await login(config, user);
  const flow = await openAuthorization(config);
  const form = parseForms(flow.page.body, flow.page.url).find((candidate) => candidate.action.endsWith('/login'))!;
  const post = (password: string) =>
    flow.browser.request(form.action, {
      method: 'POST',
      body: new URLSearchParams({ csrf: form.fields.find((field) => field.name === 'csrf')!.value, email: user.email, password }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  // Three wrong passwords lock the account; the fourth attempt is refused while locked; the
  // fifth exceeds the per-address limit of four.
  for (const password of ['wrong 1', 'wrong 2', 'wrong 3', 'wrong 4']) t.is((await post(password)).status, 401);
  t.is((await post('wrong 5')).status, 429);

  const after = await scrape();
  const moved = (sample: string) => value(after, sample) - value(before, sample);
  t.is(moved('keyhold_login_attempts_total{outcome="success",method="password"}'), 1);
  t.is(moved('keyhold_login_attempts_total{outcome="failure",method="password"}'), 3);
  t.is(moved('keyhold_login_attempts_total{outcome="locked",method="password"}'), 1);
  t.is(moved('keyhold_login_attempts_total{outcome="rate_limited",method="password"}'), 1);
  t.is(moved('keyhold_rate_limited_total{limit="login-account-address"}'), 1);
  t.is(moved('keyhold_lockouts_total'), 1);
  t.is(moved('keyhold_tokens_issued_total{grant_type="authorization_code"}'), 1);
  t.true(moved('keyhold_http_request_duration_seconds_count{route="/interaction",method="POST",status="401"}') >= 4);
  t.regex(after, /^keyhold_outbox_pending\{kind="webhook"\} \d+$/m);
  t.regex(after, /^keyhold_outbox_pending\{kind="mail"\} \d+$/m);
});
