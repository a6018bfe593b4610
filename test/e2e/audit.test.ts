// The audit log over real sign-ins: who (actor), what, outcome, address, user agent and the
// request id of each entry; failures name an account only when one exists (never what was
// typed); token reuse and session revocation are recorded; old entries go after
// AUDIT_RETENTION_DAYS.
import test from 'ava';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { deleteAuditOlderThan } from '#src/stores/audit-store.ts';
import { accountResourceFor } from '#src/services/resources.ts';
import { callApi } from '../helpers/api.ts';
import { Browser } from '../helpers/browser.ts';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

const entries = (event: string, accountId: string | null) =>
  server.keyhold.db
    .selectFrom('audit_log')
    .selectAll()
    .where('event', '=', event)
    .where((eb) => (accountId === null ? eb('account_id', 'is', null) : eb('account_id', '=', accountId)))
    .execute();

test.serial('sign-in success and failure, token reuse and session revocation are audited with actor, outcome, user agent and request id', async (t) => {
  const client = await registerClient(server, { first_party: true });
  const config = await discover(server, client);
  const user = await createUser(server);
  const unknownEmail = `nobody-${user.id}@example.test`;
  await t.throwsAsync(login(config, { email: user.email, password: 'wrong password' }));
  await t.throwsAsync(login(config, { email: unknownEmail, password: 'wrong password' }));
  const { tokens } = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid offline_access account:read account:write', prompt: 'consent' }, new Browser());
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  await server.keyhold.background.settled();

  const [failed] = await entries('login.failed', user.id);
  t.like(failed, { actor: 'account', outcome: 'failure', ip: '127.0.0.1' });
  t.deepEqual(failed!.details, { method: 'password', reason: 'invalid_credentials' });
  t.regex(failed!.request_id ?? '', /^[\w-]{36}$/);
  t.truthy(failed!.user_agent);
  const anonymous = (await entries('login.failed', null)).filter((entry) => entry.at >= failed!.at);
  t.true(anonymous.length >= 1, 'a failure for an unknown address is audited too');
  t.false(JSON.stringify(anonymous).includes(unknownEmail), 'without the address typed');

  const [succeeded] = await entries('login.succeeded', user.id);
  t.like(succeeded, { actor: 'account', outcome: 'success', client_id: client.clientId, ip: '127.0.0.1' });
  t.deepEqual(succeeded!.details, { amr: ['pwd'] });
  t.truthy(succeeded!.request_id);

  const [reuse] = await entries('token.reuse_detected', user.id);
  t.like(reuse, { actor: 'system', outcome: 'failure', client_id: client.clientId });
  t.like(reuse!.details, { credential: 'RefreshToken' });

  // A fresh sign-in in another browser; it ends this one's session.
  const other = await login(config, user, { resource: accountResourceFor(server.issuer), scope: 'openid account:read account:write' }, new Browser());
  await server.keyhold.background.settled();
  const revoked = await callApi(server, other.tokens.access_token, 'POST', '/api/account/sessions/revoke-others');
  t.is(revoked.status, 200);
  const [ended] = await entries('session.revoked', user.id);
  t.like(ended, { actor: 'account', outcome: 'success' });
  t.is(ended!.details.reason, 'user_others');
  const all = JSON.stringify(await server.keyhold.db.selectFrom('audit_log').selectAll().where('account_id', '=', user.id).execute());
  t.false(all.includes(user.password) || all.includes(tokens.refresh_token!) || all.includes(tokens.access_token), 'no secrets in the audit log');
});

test.serial('entries older than the retention are deleted, newer ones kept', async (t) => {
  const user = await createUser(server);
  await server.keyhold.db.insertInto('audit_log').values({ event: 'test.old', account_id: user.id, details: '{}', at: sql<Date>`now() - interval '400 days'` }).execute();
  await server.keyhold.db.insertInto('audit_log').values({ event: 'test.recent', account_id: user.id, details: '{}', at: sql<Date>`now() - interval '300 days'` }).execute();

  t.true((await deleteAuditOlderThan(server.keyhold.db, 365)) >= 1);
  const left = await server.keyhold.db.selectFrom('audit_log').select(['event', 'at']).where('account_id', '=', user.id).execute();
  t.deepEqual(left.map((entry) => entry.event), ['test.recent']);
  t.true(left.every((entry) => Date.now() - entry.at.getTime() < 365 * 86400_000));
});
