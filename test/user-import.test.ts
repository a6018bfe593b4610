// `keyhold user import` end to end: the real bin shim in a child process writes into the
// database of a Keyhold built as the server builds it; imported legacy (bcrypt) hashes
// then sign in through accounts.authenticate and are rehashed to argon2id on the way.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import argon2 from 'argon2';
import { hash as bcryptHash } from 'bcryptjs';
import { createPasswordHasher, passwordHashFormat } from '#src/services/passwords.ts';
import { findAccountByEmail } from '#src/stores/account-store.ts';
import { cliEnv, failed, runKeyhold, succeeded } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
let env: Record<string, string>;
let workDir: string;

const keyhold = (args: string[], stdin?: string) => runKeyhold(args, env, { stdin });

interface Summary {
  imported: number;
  skipped: Array<{ line: number; reason: string }>;
}

function writeLines(lines: string[]): string {
  const file = path.join(workDir, `${randomBytes(4).toString('hex')}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const uniqueEmail = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.test`;

test.before(async () => {
  server = await startTestServer({ redis: false });
  workDir = mkdtempSync(path.join(tmpdir(), 'keyhold-import-'));
  // The server's secret: the command writes into the server's database.
  env = cliEnv({ KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef', DATABASE_URL: server.databaseUrl!, DATA_DIR: workDir });
});

test.after.always(async () => {
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('imports bcrypt and argon2id hashes; bad lines are listed by number and the rest go on', async (t) => {
  const { accounts } = server.keyhold;
  const bcryptEmail = uniqueEmail('legacy');
  const bcryptPassword = 'tangerine-walrus-41';
  const argonEmail = uniqueEmail('argon');
  const argonPassword = 'orchid-tundra-sextant-27';
  const existing = await accounts.create({ email: uniqueEmail('existing'), password: 'already-here-123' });

  const file = writeLines([
    JSON.stringify({ email: bcryptEmail, password_hash: await bcryptHash(bcryptPassword, 10), name: ' Ada Legacy ', email_verified: true, roles: ['admin', 'admin', 'auditor'], tier: 'gold', tenant: 'acme' }),
    '{"email": "broken@example.test", "password_hash": ',
    JSON.stringify({ email: argonEmail, password_hash: await argon2.hash(argonPassword, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 }) }),
    '',
    JSON.stringify({ email: uniqueEmail('md5'), password_hash: '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/' }),
    JSON.stringify({ email: 'not-an-email', password_hash: await bcryptHash('whatever-pass', 4) }),
    JSON.stringify({ email: bcryptEmail.toUpperCase(), password_hash: await bcryptHash('other-password-9', 4) }),
    JSON.stringify({ email: existing.email, password_hash: await bcryptHash('other-password-9', 4) }),
    JSON.stringify({ email: uniqueEmail('typo'), password_hash: await bcryptHash('whatever-pass', 4), emailVerified: true }),
    JSON.stringify({ email: uniqueEmail('2x'), password_hash: (await bcryptHash('whatever-pass', 4)).replace(/^\$2b\$/, '$2x$') }),
    JSON.stringify({ email: uniqueEmail('argon2i'), password_hash: await argon2.hash('whatever-pass', { type: argon2.argon2i, memoryCost: 8192, timeCost: 1 }) }),
    JSON.stringify({ email: uniqueEmail('roles'), password_hash: await bcryptHash('whatever-pass', 4), roles: 'admin' }),
    JSON.stringify(['not', 'an', 'object']),
    JSON.stringify({ email: uniqueEmail('nul'), password_hash: await bcryptHash('whatever-pass', 4), name: 'Ada\u0000' }),
    JSON.stringify({ email: uniqueEmail('newline'), password_hash: await bcryptHash('whatever-pass', 4), tenant: 'acme\nevil' }),
  ]);
  const result = succeeded<Summary>(t, await keyhold(['user', 'import', '--file', file]));
  t.is(result.imported, 2);
  t.deepEqual(
    result.skipped.map((entry) => entry.line),
    [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  );
  const reasons = new Map(result.skipped.map((entry) => [entry.line, entry.reason]));
  t.is(reasons.get(2), 'not valid JSON');
  t.regex(reasons.get(5)!, /^password_hash: unknown hash format/);
  t.regex(reasons.get(6)!, /^email: /);
  t.is(reasons.get(7), 'an account with this email already exists', 'a duplicate within the file');
  t.is(reasons.get(8), 'an account with this email already exists', 'an account that existed before');
  t.regex(reasons.get(9)!, /emailVerified/);
  t.regex(reasons.get(10)!, /^password_hash: unknown hash format/, '$2x$ is not accepted');
  t.regex(reasons.get(11)!, /^password_hash: unknown hash format/, 'argon2i is not accepted');
  t.regex(reasons.get(12)!, /^roles: /);
  t.truthy(reasons.get(13));
  t.is(reasons.get(14), 'name: must not contain control characters', 'a NUL is refused by the line, not by Postgres for the whole batch');
  t.is(reasons.get(15), 'tenant: must not contain control characters');
  t.notRegex(JSON.stringify(result), /\$2[abxy]\$\d\d\$|\$argon2i\$v=/, 'no hash is echoed back');

  const imported = await findAccountByEmail(server.keyhold.db, bcryptEmail);
  t.truthy(imported);
  t.is(imported!.name, 'Ada Legacy');
  t.true(imported!.email_verified);
  t.deepEqual(imported!.roles, ['admin', 'auditor']);
  t.is(imported!.tier, 'gold');
  t.is(imported!.tenant, 'acme');
  t.regex(imported!.password_hash!, /^\$2b\$10\$/);
  const existingRow = await findAccountByEmail(server.keyhold.db, existing.email);
  t.regex(existingRow!.password_hash!, /^\$argon2id\$/, 'an existing account is left as it was');

  // A wrong password fails and leaves the legacy hash alone.
  t.is(await accounts.authenticate(bcryptEmail, 'tangerine-walrus-42'), undefined);
  t.regex((await findAccountByEmail(server.keyhold.db, bcryptEmail))!.password_hash!, /^\$2b\$/);

  // The right one signs in, and the stored hash becomes argon2id with the current parameters.
  const signedIn = await accounts.authenticate(bcryptEmail, bcryptPassword);
  t.is(signedIn?.email, bcryptEmail);
  const rehashed = (await findAccountByEmail(server.keyhold.db, bcryptEmail))!.password_hash!;
  t.regex(rehashed, /^\$argon2id\$v=19\$/);
  t.regex(rehashed, /[$,]m=8192[,$]/);
  t.regex(rehashed, /[$,]t=1[,$]/);
  t.is((await accounts.authenticate(bcryptEmail, bcryptPassword))?.id, signedIn!.id, 'and signs in again with the new hash');
  t.is(await accounts.authenticate(bcryptEmail, 'tangerine-walrus-42'), undefined);

  // An argon2id hash with the current parameters is kept as it is.
  const argonHash = (await findAccountByEmail(server.keyhold.db, argonEmail))!.password_hash!;
  t.truthy(await accounts.authenticate(argonEmail, argonPassword));
  t.is((await findAccountByEmail(server.keyhold.db, argonEmail))!.password_hash, argonHash);
});

test('reads stdin with --file -, tolerates a byte-order mark and CRLF line ends', async (t) => {
  const email = uniqueEmail('stdin');
  const password = 'correct horse battery staple';
  const input = `\uFEFF${JSON.stringify({ email, password_hash: (await bcryptHash(password, 4)).replace(/^\$2b\$/, '$2y$') })}\r\nnot json\r\n`;
  const result = succeeded<Summary>(t, await keyhold(['user', 'import', '--file', '-'], input));
  t.deepEqual(result, { imported: 1, skipped: [{ line: 2, reason: 'not valid JSON' }] });
  t.truthy(await server.keyhold.accounts.authenticate(email, password), 'a $2y$ hash verifies');
  t.regex((await findAccountByEmail(server.keyhold.db, email))!.password_hash!, /^\$argon2id\$/);
});

test('imports more lines than one batch', async (t) => {
  const hash = await bcryptHash('batch-password-1', 4);
  const prefix = randomBytes(4).toString('hex');
  const lines = Array.from({ length: 1203 }, (_, index) => JSON.stringify({ email: `batch-${prefix}-${index}@example.test`, password_hash: hash }));
  lines[700] = JSON.stringify({ email: `batch-${prefix}-0@example.test`, password_hash: hash });
  const result = succeeded<Summary>(t, await keyhold(['user', 'import', '--file', writeLines(lines)]));
  t.deepEqual(result, { imported: 1202, skipped: [{ line: 701, reason: 'an account with this email already exists' }] });
});

test('command-line refusals', async (t) => {
  const [missing, unknownFlag, absent, directory, help] = await Promise.all([
    keyhold(['user', 'import']),
    keyhold(['user', 'import', '--file', 'x.jsonl', '--dry-run']),
    keyhold(['user', 'import', '--file', path.join(workDir, 'absent.jsonl')]),
    keyhold(['user', 'import', '--file', workDir]),
    keyhold(['help']),
  ]);
  failed(t, missing, 2, /missing required option --file/);
  failed(t, unknownFlag, 2, /unknown option '--dry-run'/);
  failed(t, absent, 1, /cannot read .*absent\.jsonl: ENOENT/);
  failed(t, directory, 1, /EISDIR/);
  t.regex(help.stdout, /user import --file PATH/);
});

test('the hasher verifies bcrypt, and asks for a rehash of anything but current argon2id', async (t) => {
  const hasher = createPasswordHasher({ memoryCost: 8192, timeCost: 2, parallelism: 1 });
  const legacy = await bcryptHash('legacy-password', 4);
  for (const variant of ['$2a$', '$2b$', '$2y$']) {
    const hash = legacy.replace(/^\$2b\$/, variant);
    t.is(passwordHashFormat(hash), 'bcrypt');
    t.true(await hasher.verify(hash, 'legacy-password'), variant);
    t.false(await hasher.verify(hash, 'legacy-passwore'), variant);
    t.true(hasher.needsRehash(hash), variant);
  }
  t.is(passwordHashFormat(legacy.replace(/^\$2b\$/, '$2x$')), undefined);
  t.false(await hasher.verify(null, 'anything'), 'an unknown account never verifies');
  t.false(await hasher.verify('not a hash', 'anything'));

  const argon = (options: { memoryCost: number; timeCost: number; parallelism: number }, type: 0 | 1 | 2 = argon2.argon2id) =>
    argon2.hash('legacy-password', { type, ...options });
  t.false(hasher.needsRehash(await hasher.hash('x')), 'the current parameters');
  t.true(hasher.needsRehash(await argon({ memoryCost: 8192, timeCost: 1, parallelism: 1 })), 'fewer iterations');
  t.true(hasher.needsRehash(await argon({ memoryCost: 4096, timeCost: 2, parallelism: 1 })), 'less memory');
  t.false(hasher.needsRehash(await argon({ memoryCost: 16384, timeCost: 3, parallelism: 1 })), 'stronger is not downgraded');
  t.false(hasher.needsRehash(await argon({ memoryCost: 8192, timeCost: 2, parallelism: 2 })), 'parallelism is not strength');
  t.true(hasher.needsRehash(await argon({ memoryCost: 8192, timeCost: 2, parallelism: 1 }, argon2.argon2i)), 'argon2i');
  t.true(await hasher.verify(await argon({ memoryCost: 8192, timeCost: 1, parallelism: 1 }, argon2.argon2i), 'legacy-password'), 'argon2i still verifies');
});
