// Second factors over HTTP: forced enrolment by tier, role and client, sign-in with an
// authenticator app, a mailed code, a texted code (through a real local SMS webhook that
// checks signatures) and recovery codes; replayed, wrong, expired and exhausted codes; the
// steps cannot be skipped; step-up with acr_values, max_age, prompt=none and essential acr
// claims; acr and amr in ID tokens.
import test from 'ava';
import { ACR, PAPE_MULTI_FACTOR } from '#src/services/authentication/assurance.ts';
import { decodeEntities, type Page } from '../helpers/browser.ts';
import { accountOf, codeNextStep, codeNow, mfaTestServerForTests, passwordStep, recoveryCodesOf, totpSecretOf, withTotp } from '../helpers/mfa.ts';
import { atRedirectUri, createUser, discover, finishAtClient, openAuthorization, registerClient, silentAuthorization } from '../helpers/oidc.ts';
import { alertText, fieldNames, lead } from '../helpers/page.ts';

const setup = mfaTestServerForTests(
  test,
  {
    MFA_OTP_RESEND_COOLDOWN: '0',
    MFA_REQUIRED_ROLES: 'admin',
    // Every test signs in from 127.0.0.1: the per-address limit would join them up; the
    // per-account one (20) is what the burst test reaches.
    LOGIN_RATE_LIMIT: '1000',
    // Code mechanics are this file's subject; wrong codes locking the account, mfa-attacks'.
    LOCKOUT_THRESHOLD: '1000',
  },
  // The gateway accepts only texts signed with the shared secret.
  { verifySignatures: true },
);

test('discovery lists the password and multi-factor acr values', async (t) => {
  const discovery = (await (await fetch(`${setup.server.issuer}/.well-known/openid-configuration`)).json()) as { acr_values_supported: string[] };
  t.deepEqual(discovery.acr_values_supported, [ACR.password, ACR.mfa, ACR.phr]);
});

test('tier pro: enrolment is forced after the password; TOTP page shows QR, URI and secret; 10 recovery codes once; acr mfa and amr pwd+otp+mfa', async (t) => {
  const user = await createUser(setup.server, { tier: 'pro' });
  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  t.is(page.status, 200);
  t.true(page.body.includes('name="kind" value="totp"'));
  page = await flow.browser.submit(page, /\/mfa\/enrol$/, { kind: 'totp' });
  const secret = totpSecretOf(page);
  t.truthy(secret);
  t.regex(decodeEntities(page.body), new RegExp(`otpauth://totp/Keyhold:${encodeURIComponent(user.email).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?secret=${secret}`));
  t.true(page.body.includes('<svg'));
  t.deepEqual(fieldNames(page, /\/mfa\/enrol\/confirm$/), ['code', 'csrf', 'factor']);

  // A wrong code leaves the enrolment open; the same page is shown again.
  const wrong = await flow.browser.submit(page, /\/mfa\/enrol\/confirm$/, { code: '000000' === (await codeNow(secret!)) ? '111111' : '000000' });
  t.is(wrong.status, 400);
  t.is(totpSecretOf(wrong), secret);

  page = await flow.browser.submit(wrong, /\/mfa\/enrol\/confirm$/, { code: await codeNow(secret!) });
  const codes = recoveryCodesOf(page);
  t.is(codes.length, 10);
  t.is(new Set(codes).size, 10);
  t.true(page.body.includes('download="recovery-codes.txt"'));
  page = await flow.browser.submit(page, /\/mfa\/continue$/, {}, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, flow, page);
  t.is(claims.acr, ACR.mfa);
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);

  // At rest: the secret sealed, the recovery codes hashed.
  const factor = await setup.server.keyhold.db.selectFrom('mfa_factors').selectAll().where('account_id', '=', user.id).executeTakeFirstOrThrow();
  t.false(factor.secret_encrypted!.includes(secret!));
  const stored = await setup.server.keyhold.db.selectFrom('mfa_recovery_codes').select('code_hash').where('account_id', '=', user.id).execute();
  t.is(stored.length, 10);
  for (const code of codes) t.false(stored.some((row) => row.code_hash.includes(code.replace('-', ''))));
  t.truthy((await setup.mailbox.flush(user.email)).find((mail) => /second factor was added/.test(mail.subject)));
});

test('a TOTP code works once: the same code in a second sign-in is refused, the next one works', async (t) => {
  const user = await createUser(setup.server);
  const { secret } = await withTotp(setup.server, user);
  const code = await codeNow(secret);
  const first = await openAuthorization(setup.config);
  let page = await passwordStep(first, user);
  t.deepEqual(fieldNames(page, /\/mfa$/), ['code', 'csrf', 'factor']);
  page = await first.browser.submit(page, /\/mfa$/, { code }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, first, page);
  t.is(claims.acr, ACR.mfa);

  const second = await openAuthorization(setup.config);
  page = await passwordStep(second, user);
  const replayed = await second.browser.submit(page, /\/mfa$/, { code }, { stopAt: atRedirectUri });
  t.is(replayed.status, 401);
  t.is(alertText(replayed), 'That code is not valid. Check it and try again, or use another method.');
  const next = await second.browser.submit(replayed, /\/mfa$/, { code: await codeNextStep(secret) }, { stopAt: atRedirectUri });
  t.is((await finishAtClient(setup.config, second, next)).claims.acr, ACR.mfa);
});

test('the second factor cannot be skipped: no code from the resume URL, a new request, or posting consent', async (t) => {
  const user = await createUser(setup.server);
  await withTotp(setup.server, user);
  const flow = await openAuthorization(setup.config);
  const challenge = await passwordStep(flow, user);
  t.true(challenge.body.includes('name="code"'));
  const uid = /\/interaction\/([^/]+)\/mfa/.exec(challenge.body)![1]!;

  // The engine's resume endpoint sends the browser back to the interaction, without a code.
  const resumed = await flow.browser.get(`${setup.server.issuer}/auth/${uid}`, atRedirectUri);
  t.false(atRedirectUri(resumed.url));
  // Posting consent for the interaction: refused, the login prompt is still open.
  const csrf = /name="csrf" value="([^"]+)"/.exec(challenge.body)![1]!;
  const consent = await flow.browser.request(`${setup.server.issuer}/interaction/${uid}/confirm`, { method: 'POST', body: new URLSearchParams({ csrf }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.is(consent.status, 400);
  // Starting over in the same browser: the password again (no session was created).
  const again = await flow.browser.get(flow.url.toString(), atRedirectUri);
  t.false(atRedirectUri(again.url));
  t.true(again.body.includes('name="password"'));
  // The continue route finishes nothing while the factor is pending.
  const cont = await flow.browser.request(`${setup.server.issuer}/interaction/${uid}/mfa/continue`, { method: 'POST', body: new URLSearchParams({ csrf }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.false(atRedirectUri(cont.headers.get('location') ?? ''));
});

test('a recovery code signs in once, says how many are left, and mails a notice; used again it is refused', async (t) => {
  const user = await createUser(setup.server);
  const account = await accountOf(setup.server, user);
  const enrolment = await setup.server.keyhold.mfa.startTotp(account);
  const { recoveryCodes } = await setup.server.keyhold.mfa.confirmEnrolment(account, enrolment.factorId, await codeNow(enrolment.secret));
  await setup.mailbox.flush(user.email);
  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  const recoveryLink = /href="([^"]*\?factor=recovery)"/.exec(page.body)![1]!;
  page = await flow.browser.get(new URL(decodeEntities(recoveryLink), setup.server.issuer).toString());
  t.deepEqual(fieldNames(page, /\/mfa$/), ['code', 'csrf', 'factor']);
  page = await flow.browser.submit(page, /\/mfa$/, { code: recoveryCodes![0]!.toUpperCase() });
  t.regex(lead(page) ?? '', /9 unused codes are left/);
  page = await flow.browser.submit(page, /\/mfa\/continue$/, {}, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, flow, page);
  t.is(claims.acr, ACR.mfa);
  t.truthy((await setup.mailbox.flush(user.email)).find((mail) => /recovery code was used/.test(mail.subject)));

  const again = await openAuthorization(setup.config);
  page = await passwordStep(again, user);
  page = await again.browser.get(new URL(decodeEntities(recoveryLink.replace(/\/interaction\/[^/]+\//, `/interaction/${/\/interaction\/([^/]+)\/mfa/.exec(page.body)![1]}/`)), setup.server.issuer).toString());
  const reused = await again.browser.submit(page, /\/mfa$/, { code: recoveryCodes![0]! }, { stopAt: atRedirectUri });
  t.is(reused.status, 401);
});

test('email codes: mailed when the challenge opens, five wrong tries end the code, an expired code is refused, a new one works', async (t) => {
  const user = await createUser(setup.server);
  const account = await accountOf(setup.server, user);
  const { factorId } = await setup.server.keyhold.mfa.startEmail(account);
  const enrolMail = await setup.mailbox.next(user.email, /sign-in code/);
  await setup.server.keyhold.mfa.confirmEnrolment(account, factorId, enrolMail.code!);
  await setup.mailbox.flush(user.email);

  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  t.regex(page.body, /We send a six-digit code to/);
  const code = (await setup.mailbox.next(user.email, /sign-in code/)).code!;
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) page = await flow.browser.submit(page, /\/mfa$/, { code: wrong });
  t.is(page.status, 401);
  // Attempts are used up: the right code no longer works.
  page = await flow.browser.submit(page, /\/mfa$/, { code }, { stopAt: atRedirectUri });
  t.is(page.status, 401);

  page = await flow.browser.submit(page, /\/mfa\/send$/);
  const second = (await setup.mailbox.next(user.email, /sign-in code/)).code!;
  // Expired (its lifetime passed): refused.
  await setup.server.keyhold.db.updateTable('mfa_challenges').set({ expires_at: new Date(Date.now() - 1000) }).where('account_id', '=', user.id).execute();
  page = await flow.browser.submit(page, /\/mfa$/, { code: second }, { stopAt: atRedirectUri });
  t.is(page.status, 401);

  page = await flow.browser.submit(page, /\/mfa\/send$/);
  const third = (await setup.mailbox.next(user.email, /sign-in code/)).code!;
  page = await flow.browser.submit(page, /\/mfa$/, { code: third }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, flow, page);
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
  // Codes are stored as HMACs only.
  const rows = await setup.server.keyhold.db.selectFrom('mfa_challenges').select('code_hash').where('account_id', '=', user.id).execute();
  t.false(rows.some((row) => [code, second, third].some((value) => row.code_hash.includes(value))));
});

test('SMS codes go through the signed webhook; a code sent for one sign-in does not work in another', async (t) => {
  const user = await createUser(setup.server);
  const account = await accountOf(setup.server, user);
  const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  const { factorId } = await setup.server.keyhold.mfa.startSms(account, phone);
  await setup.server.keyhold.mfa.confirmEnrolment(account, factorId, setup.sms.lastCode(phone)!);

  const other = await openAuthorization(setup.config);
  await passwordStep(other, user);
  const otherCode = setup.sms.lastCode(phone)!;

  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  t.regex(page.body, /by text message to/);
  const code = setup.sms.lastCode(phone)!;
  t.not(code, undefined);
  if (otherCode !== code) {
    const crossed = await flow.browser.submit(page, /\/mfa$/, { code: otherCode }, { stopAt: atRedirectUri });
    t.is(crossed.status, 401);
    page = crossed;
  }
  page = await flow.browser.submit(page, /\/mfa$/, { code }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, flow, page);
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'pwd', 'sms']);
  t.is(setup.sms.forged(), 0);
});

test('role admin (MFA_REQUIRED_ROLES) and client require_mfa force enrolment; a plain user at a plain client signs in with the password alone', async (t) => {
  const admin = await createUser(setup.server, { roles: ['admin'] });
  let flow = await openAuthorization(setup.config);
  t.true((await passwordStep(flow, admin)).body.includes('/mfa/enrol'));

  const strictClient = await registerClient(setup.server, { require_mfa: true });
  const strict = await discover(setup.server, strictClient);
  const plain = await createUser(setup.server);
  flow = await openAuthorization(strict);
  t.true((await passwordStep(flow, plain)).body.includes('/mfa/enrol'));

  const another = await createUser(setup.server);
  flow = await openAuthorization(setup.config);
  const { claims } = await finishAtClient(setup.config, flow, await passwordStep(flow, another));
  t.is(claims.acr, ACR.password);
  t.deepEqual(claims.amr, ['pwd']);
});

test('step-up: acr_values=mfa inside a password session asks for the factor only; prompt=none answers interaction_required', async (t) => {
  const user = await createUser(setup.server);
  const flow = await openAuthorization(setup.config);
  const first = await finishAtClient(setup.config, flow, await passwordStep(flow, user));
  t.is(first.claims.acr, ACR.password);
  // The user turns on an authenticator app afterwards; the session still holds a password sign-in.
  const { secret } = await withTotp(setup.server, user);

  const silent = await silentAuthorization(setup.config, flow.browser, { acr_values: ACR.mfa });
  t.is(silent.searchParams.get('error'), 'interaction_required');

  const stepUp = await openAuthorization(setup.config, { acr_values: ACR.mfa }, flow.browser);
  t.false(stepUp.page.body.includes('name="password"'));
  t.true(stepUp.page.body.includes('name="code"'));
  const page = await stepUp.browser.submit(stepUp.page, /\/mfa$/, { code: await codeNextStep(secret) }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, stepUp, page);
  t.is(claims.acr, ACR.mfa);
  t.is(claims.sub, first.claims.sub);
  t.true((claims.auth_time as number) >= (first.claims.auth_time as number));
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);

  // Now the session holds two factors: prompt=none with acr_values=mfa succeeds.
  const after = await silentAuthorization(setup.config, flow.browser, { acr_values: ACR.mfa });
  t.truthy(after.searchParams.get('code'));
});

test('step-up with max_age: the password and the factor again, auth_time fresh', async (t) => {
  const user = await createUser(setup.server);
  const { secret } = await withTotp(setup.server, user);
  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  page = await flow.browser.submit(page, /\/mfa$/, { code: await codeNow(secret) }, { stopAt: atRedirectUri });
  const first = await finishAtClient(setup.config, flow, page);
  await new Promise((resolve) => setTimeout(resolve, 1100));

  const again = await openAuthorization(setup.config, { max_age: '0' }, flow.browser);
  t.true(again.page.body.includes('name="password"'));
  page = await passwordStep(again, user);
  t.true(page.body.includes('name="code"'));
  page = await again.browser.submit(page, /\/mfa$/, { code: await codeNextStep(secret) }, { stopAt: atRedirectUri });
  const { claims } = await finishAtClient(setup.config, again, page);
  t.is(claims.acr, ACR.mfa);
  t.true((claims.auth_time as number) > (first.claims.auth_time as number));
});

test('essential acr claim: mfa is met by enrolling (PAPE alias echoed); one naming only unknown values fails the request', async (t) => {
  const user = await createUser(setup.server);
  const claims = (values: string[]) => JSON.stringify({ id_token: { acr: { essential: true, values } } });
  const flow = await openAuthorization(setup.config, { claims: claims([PAPE_MULTI_FACTOR]) });
  let page = await passwordStep(flow, user);
  t.true(page.body.includes('/mfa/enrol'));
  page = await flow.browser.submit(page, /\/mfa\/enrol$/, { kind: 'totp' });
  page = await flow.browser.submit(page, /\/mfa\/enrol\/confirm$/, { code: await codeNow(totpSecretOf(page)!) });
  page = await flow.browser.submit(page, /\/mfa\/continue$/, {}, { stopAt: atRedirectUri });
  t.is((await finishAtClient(setup.config, flow, page)).claims.acr, PAPE_MULTI_FACTOR);

  const other = await createUser(setup.server);
  const unreachable = await openAuthorization(setup.config, { claims: claims(['urn:example:acr:unknown']) });
  page = await passwordStep(unreachable, other);
  t.true(atRedirectUri(page.url));
  t.is(new URL(page.url).searchParams.get('error'), 'unmet_authentication_requirements');
});

test('wrong codes count against the sign-in limits: a burst ends in 429 with Retry-After', async (t) => {
  const user = await createUser(setup.server);
  const { secret } = await withTotp(setup.server, user);
  const flow = await openAuthorization(setup.config);
  let page = await passwordStep(flow, user);
  const right = await codeNow(secret);
  const wrong = right === '123456' ? '654321' : '123456';
  let limited: Page | undefined;
  for (let i = 0; i < 30 && !limited; i++) {
    page = await flow.browser.submit(page, /\/mfa$/, { code: wrong });
    if (page.status === 429) limited = page;
  }
  t.truthy(limited);
  t.true(Number(limited!.headers.get('retry-after')) > 0);
});
