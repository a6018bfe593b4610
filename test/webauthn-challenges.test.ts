// WebAuthn challenges are derived, not stored, until used: what an attacker could try with
// one (use it twice, twice at once, late, early, for another purpose or account, a made-up
// id) is refused, and showing a page that carries one writes nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import { flowFailureOf } from '#src/services/flows.ts';
import { CHALLENGE_TTL_SECONDS, createWebauthnChallenges, issuedAtOf, timeOrderedUuid } from '#src/services/mfa/webauthn-challenges.ts';
import { insertAccount } from '#src/stores/account-store.ts';
import { openTestDatabase, type TestDatabaseHandle } from './helpers/database.ts';

let handle: TestDatabaseHandle;
const alice = randomUUID();
const bob = randomUUID();
test.before(async () => {
  handle = await openTestDatabase();
  for (const [id, name] of [[alice, 'alice'], [bob, 'bob']] as const) {
    await insertAccount(handle.db, { id, email: `${name}@example.test`, emailVerified: true, name, passwordHash: null, roles: [], tier: null, tenant: null });
  }
});
test.after.always(async () => {
  await handle?.close();
});

const key = randomBytes(32);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const rows = async () => (await handle.db.selectFrom('webauthn_challenges').select(({ fn }) => fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
const refused = async (t: { is: (a: unknown, b: unknown) => void }, promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  t.is(flowFailureOf(error), 'invalid');
};

test.serial('a challenge checks out once; issuing it wrote nothing', async (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const before = Number(await rows());
  const issued = challenges.issue('login:abc');
  t.is(Number(await rows()), before);
  const check = await challenges.take(issued.id, 'login:abc');
  t.true(check(b64(issued.challenge)));
  t.false(check(b64(randomBytes(32))));
  t.is(Number(await rows()), before + 1);
  await refused(t, challenges.take(issued.id, 'login:abc'));
});

test('used twice at once, only one use gets through', async (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const issued = challenges.issue('login:race');
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => challenges.take(issued.id, 'login:race')));
  t.is(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
});

test('a challenge for another purpose or account does not check out', async (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const forLogin = challenges.issue('login:one');
  t.false((await challenges.take(forLogin.id, 'login:two'))(b64(forLogin.challenge)));
  const forAlice = challenges.issue('mfa:x', alice);
  t.false((await challenges.take(forAlice.id, 'mfa:x', bob))(b64(forAlice.challenge)));
  const passwordless = challenges.issue('mfa:y');
  t.false((await challenges.take(passwordless.id, 'mfa:y', alice))(b64(passwordless.challenge)));
  // Another server's key makes other challenges.
  const elsewhere = createWebauthnChallenges({ db: handle.db, key: randomBytes(32) }).issue('login:one');
  t.false((await challenges.take(elsewhere.id, 'login:one'))(b64(elsewhere.challenge)));
});

test('an expired, a future, a malformed or a random-uuid id is refused', async (t) => {
  let now = Date.now();
  const challenges = createWebauthnChallenges({ db: handle.db, key, now: () => now });
  const issued = challenges.issue('login:late');
  now += CHALLENGE_TTL_SECONDS * 1000 + 1;
  await refused(t, challenges.take(issued.id, 'login:late'));
  // An id stamped later than now (past the clock skew allowed between nodes).
  await refused(t, challenges.take(timeOrderedUuid(now + 120_000), 'login:late'));
  for (const id of ['', 'x', `${randomUUID()}`, "'; drop table webauthn_challenges; --", '-'.repeat(36)]) await refused(t, challenges.take(id, 'login:late'));
});

test('the id carries its issue time', (t) => {
  const at = Date.UTC(2026, 11, 7, 12, 0, 0, 123);
  const id = timeOrderedUuid(at);
  t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(issuedAtOf(id), at);
  t.is(issuedAtOf(randomUUID()), undefined);
});
