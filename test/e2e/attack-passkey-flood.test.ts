// Attacker: posting made-up passkey assertions as fast as possible, from one address. Each
// is refused (and audited) until the address's limit is spent; then 429 with Retry-After,
// and nothing more is written. A made-up challenge id never reaches webauthn_challenges.
import test from 'ava';
import { discover, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
test.before(async () => {
  // The address limit of the passkey form is 5 × LOGIN_RATE_LIMIT.
  server = await startTestServer({ env: { LOGIN_RATE_LIMIT: '2', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
});
test.after.always(async () => {
  await server?.stop();
});

const count = async (sql: 'audit' | 'challenges') =>
  sql === 'audit'
    ? Number((await server.keyhold.db.selectFrom('audit_log').select(({ fn }) => fn.countAll<string>().as('n')).where('event', '=', 'passkey.refused').executeTakeFirstOrThrow()).n)
    : Number((await server.keyhold.db.selectFrom('webauthn_challenges').select(({ fn }) => fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

test('made-up assertions: refused, then 429 with Retry-After once the address limit is spent; no challenge row written', async (t) => {
  const config = await discover(server, await registerClient(server));
  const flow = await openAuthorization(config);
  t.regex(flow.page.body, /data-passkey="autofill"/);
  const forged = JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' }, clientExtensionResults: {} });
  const statuses: number[] = [];
  let last = flow.page;
  for (let attempt = 0; attempt < 12; attempt++) {
    // The form as the page last showed it (its challenge id, a fresh CSRF token).
    const page = await flow.browser.submit(last, /\/passkey$/, { response: forged });
    statuses.push(page.status);
    if (page.status === 429) {
      t.regex(page.headers.get('retry-after') ?? '', /^\d+$/);
      break;
    }
    last = page;
  }
  t.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
  t.true((await count('audit')) <= 10);
  t.is(await count('challenges'), 0);
});
