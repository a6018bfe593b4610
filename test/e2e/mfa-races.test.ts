// Attacker's (and unlucky user's) races on second factors: two enrolments confirmed at the
// same moment on an account without a factor must not both count as "the first" — each
// would issue a recovery set, and the second would silently void the codes the user was
// just shown and may have written down.
import test from 'ava';
import { generate } from 'otplib';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { startServerWithMailbox, type ServerWithMailbox } from '../helpers/mailbox.ts';
import { createUser, login } from '../helpers/oidc.ts';

let context: ServerWithMailbox;

test.before(async () => {
  context = await startServerWithMailbox({ LOGIN_RATE_LIMIT: '1000' });
});
test.after.always(async () => {
  await context?.stop();
});

test('two first factors confirmed at once: one recovery set, and the codes shown are the ones that work', async (t) => {
  const { server, mailbox, config } = context;
  const user = await createUser(server);
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write', prompt: 'consent' });
  const api = (method: string, path: string, body?: unknown) => callApi(server, tokens.access_token, method, path, body);

  const app = await api('POST', '/api/account/factors', { kind: 'totp', password: user.password });
  t.is(app.status, 201);
  const email = await api('POST', '/api/account/factors', { kind: 'email', password: user.password });
  t.is(email.status, 201);
  const mailed = await mailbox.next(user.email, /code/i);
  t.truthy(mailed.code);

  const [byApp, byEmail] = await Promise.all([
    api('POST', `/api/account/factors/${app.body.factor_id}/confirm`, { code: await generate({ secret: app.body.secret as string }) }),
    api('POST', `/api/account/factors/${email.body.factor_id}/confirm`, { code: mailed.code }),
  ]);
  t.is(byApp.status, 200);
  t.is(byEmail.status, 200);
  const sets = [byApp, byEmail].map((answer) => answer.body.recovery_codes as string[] | undefined).filter((codes) => codes !== undefined);
  t.is(sets.length, 1, 'exactly one of the two confirmations is the first factor');
  t.is(sets[0]!.length, 10);

  const listed = await api('GET', '/api/account/factors');
  t.is((listed.body.factors as unknown[]).length, 2);
  t.is(listed.body.recovery_codes_left, 10);
  // A code from the set that was shown proves the owner (it was not voided by a second set).
  const regenerated = await api('POST', '/api/account/factors/recovery-codes', { code: sets[0]![0] });
  t.is(regenerated.status, 200);
});
