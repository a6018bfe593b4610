// An attacker's view of second factors, over HTTP: enrolling a factor from an unlocked
// browser through a step-up, texting any number without the cool-down, racing one code in
// two sign-ins, and hostile input to the new routes.
import test from 'ava';
import { generate } from 'otplib';
import { ACR } from '#src/services/authentication/assurance.ts';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { accountOf, codeNow, mfaTestServerForTests, passwordStep, totpSecretOf, withTotp } from '../helpers/mfa.ts';
import { atRedirectUri, createUser, finishAtClient, login, openAuthorization, type OpenedAuthorization } from '../helpers/oidc.ts';

const setup = mfaTestServerForTests(
  test,
  {
    MFA_OTP_RESEND_COOLDOWN: '30',
    // A sign-in a second old is no longer "recent": an unlocked browser, not a fresh password.
    RECENT_LOGIN_WINDOW: '1',
    LOGIN_RATE_LIMIT: '1000',
  },
  // The gateway records every text (signatures are mfa.test.ts's business).
  { verifySignatures: false },
);

const texts = () => setup.sms.texts;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('an unlocked browser cannot enrol an attacker factor through a step-up: an old session without factors signs in with the password first', async (t) => {
  const user = await createUser(setup.server);
  const browser = new Browser();
  await login(setup.config, user, {}, browser);
  await sleep(2100);

  // The security page wants the password from this session now.
  const security = await browser.get(`${setup.server.issuer}/account/security`);
  const refused = await browser.submit(security, /\/account\/security\/enrol$/, { kind: 'totp' });
  t.is(totpSecretOf(refused), undefined);

  // The same browser asks for a second factor at a client: the password comes first.
  const stepUp = await openAuthorization(setup.config, { acr_values: ACR.mfa }, browser);
  t.false(stepUp.page.body.includes('/mfa/enrol'), 'enrolment offered to a session without a fresh password');
  t.true(stepUp.page.body.includes('name="password"'));
  t.is((await setup.server.keyhold.mfa.listFactors(await accountOf(setup.server, user))).length, 0);

  // The owner, with the password, enrols as before.
  let page = await passwordStep(stepUp, user);
  page = await browser.submit(page, /\/mfa\/enrol$/, { kind: 'totp' });
  page = await browser.submit(page, /\/mfa\/enrol\/confirm$/, { code: await codeNow(totpSecretOf(page)!) });
  page = await browser.submit(page, /\/mfa\/continue$/, {}, { stopAt: atRedirectUri });
  t.is((await finishAtClient(setup.config, stepUp, page)).claims.acr, ACR.mfa);
});

test('SMS enrolment keeps its cool-down: starting over does not text a number again and again', async (t) => {
  const user = await createUser(setup.server);
  const flow = await openAuthorization(setup.config, { acr_values: ACR.mfa });
  let page = await passwordStep(flow, user);
  t.true(page.body.includes('/mfa/enrol'));
  const victim = '+14155550199';
  const choice = page;
  const answers: number[] = [];
  for (let i = 0; i < 3; i++) {
    page = await flow.browser.submit(choice, /\/mfa\/enrol$/, { kind: 'sms', phone_number: victim });
    answers.push(page.status);
  }
  t.is(texts().filter((text) => text.to === victim).length, 1);
  t.deepEqual(answers, [200, 429, 429]);
  t.true(Number(page.headers.get('retry-after')) > 0);

  // The Account API's and the security page's enrolment are the same service: also refused.
  const account = await accountOf(setup.server, user);
  const error = await setup.server.keyhold.mfa.startSms(account, '+14155550198').then(
    () => undefined,
    (caught: unknown) => caught as { code?: string },
  );
  t.is(error?.code, 'rate_limited');
  t.is(texts().filter((text) => text.to === '+14155550198').length, 0);
});

test('one TOTP code raced in two sign-ins at once: exactly one gets through', async (t) => {
  const user = await createUser(setup.server);
  const { secret } = await withTotp(setup.server, user);
  const first = await openAuthorization(setup.config);
  const second = await openAuthorization(setup.config);
  const [a, b] = await Promise.all([passwordStep(first, user), passwordStep(second, user)]);
  const code = await codeNow(secret);
  const results = await Promise.all([
    first.browser.submit(a, /\/mfa$/, { code }, { stopAt: atRedirectUri }),
    second.browser.submit(b, /\/mfa$/, { code }, { stopAt: atRedirectUri }),
  ]);
  // Through: at the client, or at its consent page.
  t.is(results.filter((page) => atRedirectUri(page.url) || /action="[^"]*\/confirm"/.test(page.body)).length, 1);
  t.is(results.filter((page) => page.status === 401).length, 1);
});

test('one recovery code raced in two sign-ins at once: exactly one gets through', async (t) => {
  const user = await createUser(setup.server);
  const { recoveryCodes } = await withTotp(setup.server, user);
  const first = await openAuthorization(setup.config);
  const second = await openAuthorization(setup.config);
  const [a, b] = await Promise.all([passwordStep(first, user), passwordStep(second, user)]);
  const results = await Promise.all(
    [
      [first, a],
      [second, b],
    ].map(([flow, page]) => (flow as OpenedAuthorization).browser.submit(page as Page, /\/mfa$/, { factor: 'recovery', code: recoveryCodes[0]! })),
  );
  t.is(results.filter((page) => page.body.includes('/mfa/continue')).length, 1);
  t.is(results.filter((page) => page.status === 401).length, 1);
});

test('removing two factors at once cannot leave an account that policy requires without one', async (t) => {
  const user = await createUser(setup.server);
  const { tokens } = await login(setup.config, user, { resource: accountResourceFor(setup.server.issuer), scope: 'openid account:read account:write', prompt: 'consent' });
  // Policy requires a factor from now on; the account holds two.
  await setup.server.keyhold.db.updateTable('accounts').set({ tier: 'pro' }).where('id', '=', user.id).execute();
  const account = await accountOf(setup.server, user);
  for (let round = 0; round < 4; round++) {
    while ((await setup.server.keyhold.mfa.listFactors(account)).length < 2) await withTotp(setup.server, user);
    const ids = (await setup.server.keyhold.mfa.listFactors(account)).map((factor) => factor.id);
    // Each removal proves the second factor with a recovery code of its own.
    const codes = await setup.server.keyhold.mfa.regenerateRecoveryCodes(account);
    const answers = await Promise.all(ids.map((id, index) => callApi(setup.server, tokens.access_token, 'DELETE', `/api/account/factors/${id}`, { code: codes[index] })));
    t.deepEqual(answers.map((answer) => answer.status).sort(), [204, 409], `round ${round}`);
    t.is((await setup.server.keyhold.mfa.listFactors(account)).length, 1);
  }
});

test('a burst of wrong emailed codes at once spends no more than the five attempts: the right one is refused after', async (t) => {
  const user = await createUser(setup.server);
  const account = await accountOf(setup.server, user);
  const { factorId } = await setup.server.keyhold.mfa.startEmail(account);
  await setup.server.keyhold.mfa.confirmEnrolment(account, factorId, (await setup.mailbox.next(user.email, /sign-in code/)).code!);
  const flow = await openAuthorization(setup.config);
  const challenge = await passwordStep(flow, user);
  const code = (await setup.mailbox.next(user.email, /sign-in code/)).code!;
  const wrong = code === '000000' ? '111111' : '000000';
  const answers = await Promise.all(Array.from({ length: 12 }, () => flow.browser.submit(challenge, /\/mfa$/, { code: wrong })));
  t.true(answers.every((page) => page.status === 401));
  const rows = await setup.server.keyhold.db.selectFrom('mfa_challenges').select('attempts').where('account_id', '=', user.id).where('purpose', 'like', 'login:%').execute();
  t.deepEqual(rows.map((row) => row.attempts), [5]);
  const right = await flow.browser.submit(challenge, /\/mfa$/, { code }, { stopAt: atRedirectUri });
  t.is(right.status, 401);
});

// Issue 9: removal "requires a fresh second factor or recent sign-in". The password alone,
// with any account:write token (a third-party app's, stolen), must not strip the owner's factor.
test('a third-party token and the password alone cannot remove a factor (a fresh code or a recent sign-in is required)', async (t) => {
  const user = await createUser(setup.server);
  const { tokens } = await login(setup.config, user, { resource: accountResourceFor(setup.server.issuer), scope: 'openid account:read account:write', prompt: 'consent' });
  await withTotp(setup.server, user);
  const [factor] = await setup.server.keyhold.mfa.listFactors(await accountOf(setup.server, user));
  const answer = await callApi(setup.server, tokens.access_token, 'DELETE', `/api/account/factors/${factor!.id}`, { password: user.password });
  t.is(answer.body.error, 'reauthentication_required');
  t.is((await setup.server.keyhold.mfa.listFactors(await accountOf(setup.server, user))).length, 1);
});

// The same pair (password + a token) adds the attacker's own app or new recovery codes to an
// account that has a factor: afterwards the password and the attacker's code sign in.
test('with a factor on the account, the password and a token alone cannot add another factor or new recovery codes', async (t) => {
  const user = await createUser(setup.server);
  const { tokens } = await login(setup.config, user, { resource: accountResourceFor(setup.server.issuer), scope: 'openid account:read account:write', prompt: 'consent' });
  await withTotp(setup.server, user);
  const started = await callApi(setup.server, tokens.access_token, 'POST', '/api/account/factors', { kind: 'totp', password: user.password });
  t.is(started.body.error, 'reauthentication_required');
  const regenerated = await callApi(setup.server, tokens.access_token, 'POST', '/api/account/factors/recovery-codes', { password: user.password });
  t.is(regenerated.body.error, 'reauthentication_required');
});

test('hostile input to the new routes answers 4xx, never 500', async (t) => {
  const user = await createUser(setup.server);
  await withTotp(setup.server, user);
  const flow = await openAuthorization(setup.config);
  const challenge = await passwordStep(flow, user);
  const uid = /\/interaction\/([^/]+)\/mfa/.exec(challenge.body)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(challenge.body)![1]!;
  const post = (path: string, body: string) =>
    flow.browser.request(`${setup.server.issuer}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const bodies = [
    `csrf=${csrf}&factor[]=x&code[a]=1`,
    `csrf=${csrf}&factor=${'f'.repeat(5000)}&code=${'1'.repeat(5000)}`,
    `csrf=${csrf}&factor=recovery&code=%00%01`,
    `csrf=${csrf}&factor=00000000-0000-0000-0000-000000000000&code=123456`,
    `csrf=${csrf}&kind=fax&phone_number=%2B1`,
  ];
  for (const path of [`/interaction/${uid}/mfa`, `/interaction/${uid}/mfa/send`, `/interaction/${uid}/mfa/enrol`, `/interaction/${uid}/mfa/enrol/confirm`, `/interaction/${uid}/mfa/enrol/resend`, `/interaction/${uid}/mfa/continue`]) {
    for (const body of bodies) {
      const page = await post(path, body);
      t.true(page.status < 500, `${path} ${body.slice(0, 60)}: ${page.status}`);
    }
  }
  const got = await flow.browser.get(`${setup.server.issuer}/interaction/${uid}/mfa?factor=../../x&factor=y`);
  t.true(got.status < 500);

  // The Account API and the security page, signed in as another user.
  const other = await createUser(setup.server);
  const browser = new Browser();
  const { tokens } = await login(setup.config, other, { resource: accountResourceFor(setup.server.issuer), scope: 'openid account:read account:write', prompt: 'consent' }, browser);
  const token = tokens.access_token;
  const calls: [string, string, unknown][] = [
    ['DELETE', `/api/account/factors/${'x'.repeat(64)}`, { password: other.password }],
    ['DELETE', '/api/account/factors/00000000-0000-0000-0000-000000000000', { code: '12345-67890' }],
    ['DELETE', '/api/account/factors/abc', '{"password":'],
    ['POST', '/api/account/factors/not-a-uuid/confirm', { code: '123456' }],
    ['POST', '/api/account/factors/00000000-0000-0000-0000-000000000000/confirm', { code: 'x'.repeat(100) }],
    ['POST', '/api/account/factors', { kind: 'sms', phone_number: '+1\u0000', password: other.password }],
    ['POST', '/api/account/factors', { kind: 'totp', password: ['a'] }],
    ['POST', '/api/account/factors/recovery-codes', { password: other.password }],
  ];
  for (const [method, path, body] of calls) {
    const answer = await callApi(setup.server, token, method, path, body);
    t.true(answer.status >= 400 && answer.status < 500, `${method} ${path}: ${answer.status}`);
  }
  const security = await browser.get(`${setup.server.issuer}/account/security`);
  const pageCsrf = /name="csrf" value="([^"]+)"/.exec(security.body)![1]!;
  for (const [path, body] of [
    ['/account/security/confirm', `csrf=${pageCsrf}&factor=${'z'.repeat(70)}&code[]=1`],
    ['/account/security/remove', `csrf=${pageCsrf}&factor=00000000-0000-0000-0000-000000000000&password=${other.password}`],
    ['/account/security/enrol', `csrf=${pageCsrf}&kind=sms&phone_number=${'9'.repeat(40)}&password=${other.password}`],
    ['/account/security/recovery-codes', `csrf=${pageCsrf}&password[x]=1`],
  ] as const) {
    const page = await browser.request(`${setup.server.issuer}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.true(page.status < 500, `${path}: ${page.status}`);
  }
});

test('wrong second-factor codes count towards the lockout: at LOCKOUT_THRESHOLD the account locks and even the right code is refused', async (t) => {
  const user = await createUser(setup.server);
  const { secret } = await withTotp(setup.server, user);
  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  const right = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
  const wrong = right === '123456' ? '654321' : '123456';
  for (let i = 0; i < setup.server.keyhold.config.LOCKOUT_THRESHOLD; i++) page = await flow.browser.submit(page, /\/mfa$/, { code: wrong });
  t.true(await setup.server.keyhold.lockout.isLocked(user.id));
  const refused = await flow.browser.submit(page, /\/mfa$/, { code: right }, { stopAt: atRedirectUri });
  t.is(refused.status, 401);
  t.false(atRedirectUri(refused.url));
});
