// Managing second factors: the Account API routes (list, enrol, confirm, remove, new
// recovery codes) and the security settings page, with re-authentication, policy that
// keeps the last required factor, another account's factor ids, and the mails and audit
// records every change leaves. Also the enrolment grace (MFA_ENROLMENT_GRACE).
import test from 'ava';
import type * as oidc from 'openid-client';
import { generate } from 'otplib';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { previousStepCode } from '../helpers/mfa.ts';
import { Browser } from '../helpers/browser.ts';
import { startMailbox, mailEnv, type Mailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, createUser, discover, finishAtClient, login, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { alertText } from '../helpers/page.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ACCOUNT_SCOPES = 'openid account:read account:write';

let server: TestServer;
let mailbox: Mailbox;
let firstParty: oidc.Configuration;
let thirdParty: oidc.Configuration;

test.before(async () => {
  mailbox = await startMailbox();
  server = await startTestServer({ env: { ...mailEnv(mailbox), MFA_ENROLMENT_GRACE: '2', LOGIN_RATE_LIMIT: '1000' } });
  mailbox.attach(async () => {
    await server.keyhold.background.settled();
    return server.keyhold.mailWorker.drain();
  });
  firstParty = await discover(server, await registerClient(server, { first_party: true }));
  thirdParty = await discover(server, await registerClient(server));
});
test.after.always(async () => {
  await server?.stop();
  await mailbox?.close();
});

const api = (token: string, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);
const previousStep = previousStepCode;
const codeNow = (secret: string) => generate({ secret });

async function tokenFor(config: oidc.Configuration, user: { email: string; password: string }) {
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: ACCOUNT_SCOPES, prompt: 'consent' });
  return tokens.access_token;
}

test('Account API: enrol an app after re-authentication, confirm, 10 recovery codes once, list, regenerate, remove', async (t) => {
  const user = await createUser(server);
  // A third-party client's token carries no recent sign-in: the password is needed.
  const token = await tokenFor(thirdParty, user);
  t.is((await api(token, 'POST', '/api/account/factors', { kind: 'totp' })).body.error, 'reauthentication_required');
  t.is((await api(token, 'POST', '/api/account/factors', { kind: 'totp', password: 'wrong password here' })).body.error, 'invalid_password');
  t.is((await api(token, 'POST', '/api/account/factors', { kind: 'fax', password: user.password })).status, 400);

  const started = await api(token, 'POST', '/api/account/factors', { kind: 'totp', password: user.password });
  t.is(started.status, 201);
  const secret = started.body.secret as string;
  t.regex(started.body.otpauth_uri as string, /^otpauth:\/\/totp\//);
  // Not counted until confirmed.
  t.deepEqual((await api(token, 'GET', '/api/account/factors')).body.factors, []);
  t.is((await api(token, 'POST', `/api/account/factors/${started.body.factor_id}/confirm`, { code: '12345' })).body.error, 'invalid_code');
  const confirmed = await api(token, 'POST', `/api/account/factors/${started.body.factor_id}/confirm`, { code: await previousStep(secret) });
  t.is(confirmed.status, 200);
  const codes = confirmed.body.recovery_codes as string[];
  t.is(codes.length, 10);
  // Confirmed twice: refused.
  t.is((await api(token, 'POST', `/api/account/factors/${started.body.factor_id}/confirm`, { code: await codeNow(secret) })).body.error, 'invalid_code');

  const listed = await api(token, 'GET', '/api/account/factors');
  t.is((listed.body.factors as unknown[]).length, 1);
  t.is(listed.body.recovery_codes_left, 10);
  t.false(listed.body.required);

  // With a factor on the account, the password alone changes nothing; a fresh code does.
  t.is((await api(token, 'POST', '/api/account/factors/recovery-codes', { password: user.password })).body.error, 'reauthentication_required');
  const regenerated = await api(token, 'POST', '/api/account/factors/recovery-codes', { code: await codeNow(secret) });
  t.is((regenerated.body.recovery_codes as string[]).length, 10);
  // The old set is void: an old code does not prove anything any more.
  t.is((await api(token, 'DELETE', `/api/account/factors/${started.body.factor_id}`, { code: codes[0] })).body.error, 'invalid_code');
  // A code of the new set does.
  t.is((await api(token, 'DELETE', `/api/account/factors/${started.body.factor_id}`, { code: (regenerated.body.recovery_codes as string[])[0] })).status, 204);
  t.is((await api(token, 'GET', '/api/account/factors')).body.recovery_codes_left, 0);

  const subjects = (await mailbox.flush(user.email)).map((mail) => mail.subject);
  t.true(subjects.some((subject) => /second factor was added/.test(subject)));
  t.true(subjects.some((subject) => /New recovery codes/.test(subject)));
  t.true(subjects.some((subject) => /second factor was removed/.test(subject)));
  const audit = await server.keyhold.db.selectFrom('audit_log').select('event').where('account_id', '=', user.id).execute();
  t.true(['mfa.enrolled', 'mfa.recovery_codes_regenerated', 'mfa.removed'].every((event) => audit.some((row) => row.event === event)));
});

test('Account API: the last factor of an account policy requires stays; another account\'s factor is unknown', async (t) => {
  const user = await createUser(server, { tier: 'enterprise' });
  const account = (await server.keyhold.accounts.findById(user.id))!;
  const enrolment = await server.keyhold.mfa.startTotp(account);
  await server.keyhold.mfa.confirmEnrolment(account, enrolment.factorId, await previousStep(enrolment.secret));
  // The owner signs in with both factors through the first-party client: a recent sign-in.
  const flow = await openAuthorization(firstParty, { resource: accountResourceFor(server.issuer), scope: ACCOUNT_SCOPES });
  let page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password });
  page = await flow.browser.submit(page, /\/mfa$/, { code: await codeNow(enrolment.secret) }, { stopAt: atRedirectUri });
  const { tokens } = await finishAtClient(firstParty, flow, page);
  const token = tokens.access_token;
  const listed = await api(token, 'GET', '/api/account/factors');
  t.true(listed.body.required);
  t.is((await api(token, 'DELETE', `/api/account/factors/${enrolment.factorId}`, {})).body.error, 'factor_required');

  const stranger = await createUser(server);
  const strangerToken = await tokenFor(thirdParty, stranger);
  const attempt = await api(strangerToken, 'DELETE', `/api/account/factors/${enrolment.factorId}`, { password: stranger.password });
  t.is(attempt.status, 404);
  t.is(attempt.body.error, 'unknown_factor');
  // 36 characters of the id's alphabet, but no uuid: no factor (Postgres would refuse it).
  const malformed = await api(strangerToken, 'DELETE', `/api/account/factors/${'-'.repeat(36)}`, { password: stranger.password });
  t.is(malformed.status, 404);
  t.is(malformed.body.error, 'unknown_factor');
  t.is((await api(strangerToken, 'POST', `/api/account/factors/${enrolment.factorId}/confirm`, { code: '123456' })).body.error, 'invalid_code');
  t.is((await server.keyhold.mfa.listFactors(account)).length, 1);
});

test('MFA_ENROLMENT_GRACE=2: a pro account signs in twice with the password alone, then must enrol', async (t) => {
  const user = await createUser(server, { tier: 'pro' });
  for (let i = 0; i < 2; i++) {
    const flow = await openAuthorization(firstParty);
    const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
    t.true(atRedirectUri(page.url), `sign-in ${i + 1} is let through`);
  }
  const flow = await openAuthorization(firstParty);
  const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.false(atRedirectUri(page.url));
  t.true(page.body.includes('/mfa/enrol'));
});

test('security page: lists factors; adding one needs the password (or a recent sign-in); CSRF is required', async (t) => {
  const user = await createUser(server);
  const browser = new Browser();
  await login(thirdParty, user, {}, browser);
  let page = await browser.get(`${server.issuer}/account/security`);
  t.is(page.status, 200);
  t.regex(page.body, /Two-step verification is off/);
  // The sign-in just happened: a recent sign-in stands in for the password.
  page = await browser.submit(page, /\/account\/security\/enrol$/, { kind: 'totp' });
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.body)?.[1];
  t.truthy(secret);
  page = await browser.submit(page, /\/account\/security\/confirm$/, { code: await codeNow(secret!) });
  t.is([...page.body.matchAll(/<li><code>[a-z0-9-]+<\/code><\/li>/g)].length, 10);
  page = await browser.get(`${server.issuer}/account/security`);
  t.regex(page.body, /Authenticator app/);

  const forged = await browser.request(`${server.issuer}/account/security/recovery-codes`, { method: 'POST', body: new URLSearchParams({ password: user.password }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.is(forged.status, 403);
  // The account has a factor now: its password (right or wrong) no longer changes anything.
  const wrong = await browser.submit(page, /\/account\/security\/recovery-codes$/, { password: user.password });
  t.is(wrong.status, 403);
  t.truthy(alertText(wrong));
});

test('security page without a session: 401', async (t) => {
  t.is((await new Browser().get(`${server.issuer}/account/security`)).status, 401);
});

test('a tenant overrides the tiers that need a second factor: its free accounts must enrol, its pro accounts need not', async (t) => {
  const tenant = `t${Date.now().toString(36)}`;
  await server.keyhold.admin.tenants.create(CLI_ACTOR, tenant, { mfaRequiredTiers: ['free'] });
  const free = await createUser(server, { tier: 'free', tenant });
  const pro = await createUser(server, { tier: 'pro', tenant });
  // MFA_ENROLMENT_GRACE=2 on this server: two sign-ins pass, the third must enrol.
  const signIn = async (user: { email: string; password: string }) => {
    const flow = await openAuthorization(firstParty);
    return flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  };
  for (let i = 0; i < 2; i++) await signIn(free);
  t.true((await signIn(free)).body.includes('/mfa/enrol'));
  for (let i = 0; i < 3; i++) t.true(atRedirectUri((await signIn(pro)).url));
});
