// WebAuthn challenges are derived, not stored, until a response to one checks out: what an
// attacker could try with one (use it twice, twice at once, late, early, for another purpose
// or account, a made-up id) is refused, and neither showing a page that carries one nor
// posting a made-up one writes anything.
import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import { sql } from 'kysely';
import { flowFailureOf } from '#src/services/flows.ts';
import { CHALLENGE_TTL_SECONDS, createWebauthnChallenges, issuedAtOf, timeOrderedUuid } from '#src/services/mfa/webauthn-challenges.ts';
import { insertAccount } from '#src/stores/account-store.ts';
import { deleteExpiredWebauthnChallenges } from '#src/stores/passkey-store.ts';
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
const rows = async () => Number((await handle.db.selectFrom('webauthn_challenges').select(({ fn }) => fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
const refusedNow = (t: { is: (a: unknown, b: unknown) => void }, open: () => unknown) => {
  let error: unknown;
  try {
    open();
  } catch (caught) {
    error = caught;
  }
  t.is(flowFailureOf(error), 'invalid');
};
const refusedLater = async (t: { is: (a: unknown, b: unknown) => void }, promise: Promise<unknown>) => {
  t.is(flowFailureOf(await promise.then(() => undefined, (caught: unknown) => caught)), 'invalid');
};

test.serial('a challenge checks out once; issuing it, and checking a made-up one, wrote nothing', async (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const before = await rows();
  const issued = challenges.issue('login:abc');
  // A made-up id of the right shape and age: opened, but nothing matches it, and nothing is written.
  t.false(challenges.open(timeOrderedUuid(Date.now()), 'login:abc').matches(b64(issued.challenge)));
  t.is(await rows(), before);
  const opened = challenges.open(issued.id, 'login:abc');
  t.true(opened.matches(b64(issued.challenge)));
  t.false(opened.matches(b64(randomBytes(32))));
  await opened.use();
  t.is(await rows(), before + 1);
  await refusedLater(t, challenges.open(issued.id, 'login:abc').use());
});

test('used twice at once, only one use gets through', async (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const issued = challenges.issue('login:race');
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => challenges.open(issued.id, 'login:race').use()));
  t.is(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
});

test('a challenge for another purpose, account or server does not match', (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const forLogin = challenges.issue('login:one');
  t.false(challenges.open(forLogin.id, 'login:two').matches(b64(forLogin.challenge)));
  const forAlice = challenges.issue('mfa:x', alice);
  t.false(challenges.open(forAlice.id, 'mfa:x', bob).matches(b64(forAlice.challenge)));
  const passwordless = challenges.issue('mfa:y');
  t.false(challenges.open(passwordless.id, 'mfa:y', alice).matches(b64(passwordless.challenge)));
  // Another server's key makes other challenges.
  const elsewhere = createWebauthnChallenges({ db: handle.db, key: randomBytes(32) }).issue('login:one');
  t.false(challenges.open(elsewhere.id, 'login:one').matches(b64(elsewhere.challenge)));
});

test('an expired, a future, a malformed or a random-uuid id is refused before anything', (t) => {
  let now = Date.now();
  const challenges = createWebauthnChallenges({ db: handle.db, key, now: () => now });
  const issued = challenges.issue('login:late');
  now += CHALLENGE_TTL_SECONDS * 1000 + 1;
  refusedNow(t, () => challenges.open(issued.id, 'login:late'));
  // An id stamped later than now (past the clock skew allowed between nodes).
  refusedNow(t, () => challenges.open(timeOrderedUuid(now + 120_000), 'login:late'));
  for (const id of ['', 'x', randomUUID(), "'; drop table webauthn_challenges; --", '-'.repeat(36)]) refusedNow(t, () => challenges.open(id, 'login:late'));
});

test.serial('a used challenge outlives its validity in the table, so the cleanup never frees it for a replay', async (t) => {
  const challenges = createWebauthnChallenges({ db: handle.db, key });
  const issued = challenges.issue('login:kept');
  await challenges.open(issued.id, 'login:kept').use();
  // An hour past its expiry (a node whose clock is that far behind would still accept it).
  await sql`update webauthn_challenges set expires_at = now() - interval '1 hour' where id = ${issued.id}`.execute(handle.db);
  await deleteExpiredWebauthnChallenges(handle.db);
  await refusedLater(t, challenges.open(issued.id, 'login:kept').use());
  await sql`update webauthn_challenges set expires_at = now() - interval '25 hours' where id = ${issued.id}`.execute(handle.db);
  await deleteExpiredWebauthnChallenges(handle.db);
  t.is(Number((await sql<{ n: string }>`select count(*) as n from webauthn_challenges where id = ${issued.id}`.execute(handle.db)).rows[0]!.n), 0);
});

test('the id carries its issue time', (t) => {
  const at = Date.UTC(2026, 11, 7, 12, 0, 0, 123);
  const id = timeOrderedUuid(at);
  t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(issuedAtOf(id), at);
  t.is(issuedAtOf(randomUUID()), undefined);
});
