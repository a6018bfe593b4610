// What a password sign-in hands on is the account as it is when the password checked out,
// not as it was read before the hash ran (the hash may wait in its queue): a deactivation
// or a role granted meanwhile counts. And a sign-in's audit entry and event are written
// together: both or neither.
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createAccountService } from '#src/services/accounts.ts';
import type { PasswordPolicy } from '#src/services/password-policy.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import { insertAccount } from '#src/stores/account-store.ts';
import { recordAuditWithEvent } from '#src/stores/audit-store.ts';
import { openTestDatabase, type TestDatabaseHandle } from './helpers/database.ts';

let handle: TestDatabaseHandle;
test.before(async () => {
  handle = await openTestDatabase();
});
test.after.always(async () => {
  await handle?.close();
});

/** Signs in while `meanwhile` changes the account during the (held) password check. */
async function signInWhile(meanwhile: (id: string) => Promise<unknown>) {
  const id = randomUUID();
  const email = `${id}@example.test`;
  await insertAccount(handle.db, { id, email, emailVerified: true, name: null, passwordHash: 'held', roles: [], tier: null, tenant: null });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const verifying = new Promise<void>((resolve) => (started = resolve));
  // A real hasher's answer, held until the change is made: the race, made certain.
  const hasher: PasswordHasher = {
    hash: async () => 'held',
    verify: async () => {
      started();
      await held;
      return true;
    },
    needsRehash: () => false,
  };
  const accounts = createAccountService(handle.db, hasher, {} as PasswordPolicy, { defaultRoles: [] });
  const signingIn = accounts.authenticate(email, 'correct horse battery staple');
  await verifying;
  await meanwhile(id);
  release();
  return signingIn;
}

test('an account deactivated while its password was checked is not signed in', async (t) => {
  const account = await signInWhile((id) => handle.db.updateTable('accounts').set({ active: false }).where('id', '=', id).execute());
  t.is(account, undefined);
});

test('a role granted while the password was checked is on the account the sign-in goes on with', async (t) => {
  const account = await signInWhile((id) => handle.db.updateTable('accounts').set({ roles: JSON.stringify(['admin']) }).where('id', '=', id).execute());
  t.deepEqual(account?.roles, ['admin']);
});

test('an audit entry and its event: neither when the event cannot be stored, both otherwise', async (t) => {
  const taken = randomUUID();
  await handle.db.insertInto('event_outbox').values({ id: taken, type: 'auth.login.success', data: '{}' }).execute();
  const marker = `freshness-${randomUUID()}`;
  await t.throwsAsync(recordAuditWithEvent(handle.db, { event: marker }, { id: taken, type: 'auth.login.success', data: {} }));
  t.is((await handle.db.selectFrom('audit_log').select('id').where('event', '=', marker).execute()).length, 0);
  const id = randomUUID();
  await recordAuditWithEvent(handle.db, { event: marker }, { id, type: 'auth.login.success', data: { a: 1 } });
  t.is((await handle.db.selectFrom('audit_log').select('id').where('event', '=', marker).execute()).length, 1);
  t.is((await handle.db.selectFrom('event_outbox').select('id').where('id', '=', id).execute()).length, 1);
});
