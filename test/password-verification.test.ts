// Login timing must not tell imported (bcrypt) accounts, argon2id accounts and unknown
// names apart. Wall time is not measured (it would be flaky); the work is counted instead,
// with the real hash functions wrapped by counters: every verification does one argon2id
// verification and, while bcrypt hashes remain, one bcrypt comparison at their cost.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { createAccountService } from '#src/services/accounts.ts';
import { createLegacyBcryptCost } from '#src/services/legacy-hash-cost.ts';
import { createPasswordPolicy } from '#src/services/password-policy.ts';
import { bcryptCost, createPasswordHasher, hashPrimitives, type HashPrimitives } from '#src/services/passwords.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const ARGON2 = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
const PASSWORD = 'imported legacy passphrase 9';

interface Operation {
  kind: 'argon2' | 'bcrypt';
  /** bcrypt: the cost of the hash compared against. */
  cost?: number;
}

function countingPrimitives() {
  const operations: Operation[] = [];
  const primitives: HashPrimitives = {
    ...hashPrimitives,
    async argon2Verify(hash, password) {
      operations.push({ kind: 'argon2' });
      return hashPrimitives.argon2Verify(hash, password);
    },
    async bcryptCompare(password, hash) {
      operations.push({ kind: 'bcrypt', cost: bcryptCost(hash) });
      return hashPrimitives.bcryptCompare(password, hash);
    },
  };
  return { primitives, operations, take: () => operations.splice(0) };
}

let server: TestServer;
test.before(async () => {
  server = await startTestServer({ redis: false });
});
test.after.always(async () => {
  await server?.stop();
});

test('while bcrypt hashes remain, every verification does one argon2id and one bcrypt at their cost', async (t) => {
  const counter = countingPrimitives();
  const hasher = createPasswordHasher(ARGON2, { primitives: counter.primitives, legacyBcryptCost: async () => 5 });
  const argon2Hash = await hasher.hash(PASSWORD);
  const bcryptHash = await hashPrimitives.bcryptHash(PASSWORD, 5);
  const cases: Array<[string, string | undefined, string, boolean]> = [
    ['unknown account', undefined, PASSWORD, false],
    ['argon2id, wrong password', argon2Hash, 'wrong', false],
    ['argon2id, right password', argon2Hash, PASSWORD, true],
    ['bcrypt, wrong password', bcryptHash, 'wrong', false],
    ['bcrypt, right password', bcryptHash, PASSWORD, true],
  ];
  for (const [label, stored, password, expected] of cases) {
    counter.take();
    t.is(await hasher.verify(stored, password), expected, label);
    t.deepEqual(counter.take(), [{ kind: 'argon2' }, { kind: 'bcrypt', cost: 5 }], label);
  }
});

test('with no bcrypt hash left, a verification is one argon2id and nothing else', async (t) => {
  const counter = countingPrimitives();
  const hasher = createPasswordHasher(ARGON2, { primitives: counter.primitives, legacyBcryptCost: async () => undefined });
  const argon2Hash = await hasher.hash(PASSWORD);
  for (const stored of [undefined, argon2Hash]) {
    counter.take();
    await hasher.verify(stored, 'wrong');
    t.deepEqual(counter.take(), [{ kind: 'argon2' }]);
  }
});

test('accounts.authenticate: an imported bcrypt account, an argon2id account and an unknown name cost the same; padding ends with the last bcrypt hash', async (t) => {
  const { db } = server.keyhold;
  const counter = countingPrimitives();
  const hasher = createPasswordHasher(ARGON2, { primitives: counter.primitives, legacyBcryptCost: createLegacyBcryptCost(db, 0) });
  const policy = createPasswordPolicy({ db, hasher, historySize: 0, logger: server.keyhold.logger });
  const accounts = createAccountService(db, hasher, policy, { defaultRoles: [] });
  const tag = randomBytes(4).toString('hex');
  const imported = await accounts.create({ email: `imported-${tag}@example.test`, passwordHash: await hashPrimitives.bcryptHash(PASSWORD, 6), emailVerified: true });
  const native = await accounts.create({ email: `native-${tag}@example.test`, password: PASSWORD, emailVerified: true });

  const padded = [{ kind: 'argon2' }, { kind: 'bcrypt', cost: 6 }];
  for (const email of [`nobody-${tag}@example.test`, native.email, imported.email]) {
    counter.take();
    t.is(await accounts.authenticate(email, 'a wrong password'), undefined);
    t.deepEqual(counter.take(), padded, email);
  }
  // A right password for the native account costs the same as well.
  counter.take();
  t.truthy(await accounts.authenticate(native.email, PASSWORD));
  t.deepEqual(counter.take(), padded);

  // The imported account signs in and is rehashed: no bcrypt hash is left, the padding stops.
  t.truthy(await accounts.authenticate(imported.email, PASSWORD));
  counter.take();
  t.is(await accounts.authenticate(`nobody-${tag}@example.test`, 'x'), undefined);
  t.deepEqual(counter.take(), [{ kind: 'argon2' }]);
});
