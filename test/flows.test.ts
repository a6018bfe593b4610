// Self-service flows as stored objects: single-use links, counted codes, decoys that never
// complete, reissued secrets, and removal of ended flows.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { sql } from 'kysely';
import { KeyholdError } from '#src/errors.ts';
import { flowFailureOf, MAX_CODE_ATTEMPTS, createFlowService } from '#src/services/flows.ts';
import { deleteStaleFlows } from '#src/stores/flow-store.ts';
import { openTestDatabase, type TestDatabaseHandle } from './helpers/database.ts';

let handle: TestDatabaseHandle;
const anyFlow = () => true;
// Every refusal of a flow is invalid_code, with the reason as a field.
const invalidCode = { instanceOf: KeyholdError, message: /this link or code/ };

test.before(async () => {
  handle = await openTestDatabase();
});
test.after.always(async () => {
  await handle?.close();
});

const flows = () => createFlowService(handle.db, randomBytes(32));

test('a link token works once; its secret and code are stored only as hashes', async (t) => {
  const service = flows();
  const issued = await service.create({ kind: 'recovery', email: 'a@example.test', ttlSeconds: 600, withCode: true });
  t.regex(issued.token, /^[0-9a-f-]{36}\.[\w-]{43}$/);
  t.regex(issued.code!, /^\d{6}$/);
  const { rows } = await sql<{ row: string }>`select t::text as row from self_service_flows t where id = ${issued.id}`.execute(handle.db);
  t.false(rows[0]!.row.includes(issued.token.split('.')[1]!));
  t.false(rows[0]!.row.includes(issued.code!));

  t.is((await service.peek(issued.token, ['recovery'])).id, issued.id);
  await t.throwsAsync(service.peek(issued.token, ['verification']), invalidCode);
  t.is((await service.completeByToken(issued.token, ['recovery'])).id, issued.id);
  const reused = await t.throwsAsync(service.completeByToken(issued.token, ['recovery']));
  t.is(flowFailureOf(reused), 'used');
  const forged = await t.throwsAsync(service.peek(`${issued.id}.${'A'.repeat(43)}`, ['recovery']));
  t.is(flowFailureOf(forged), 'invalid');
});

test('wrong codes are counted and end the flow; the belongs check comes first', async (t) => {
  const service = flows();
  const issued = await service.create({ kind: 'verification', ttlSeconds: 600, withCode: true });
  const wrong = issued.code === '000000' ? '111111' : '000000';
  await t.throwsAsync(service.completeByCode(issued.id, issued.code!, ['verification'], () => false), invalidCode);
  for (let attempt = 0; attempt < MAX_CODE_ATTEMPTS; attempt++) {
    await t.throwsAsync(service.completeByCode(issued.id, wrong, ['verification'], anyFlow), invalidCode);
  }
  await t.throwsAsync(service.completeByCode(issued.id, issued.code!, ['verification'], anyFlow), invalidCode);
});

test('an expired flow is refused as expired', async (t) => {
  const service = flows();
  const issued = await service.create({ kind: 'recovery', ttlSeconds: 600 });
  await handle.db.updateTable('self_service_flows').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', issued.id).execute();
  const expired = await t.throwsAsync(service.completeByToken(issued.token, ['recovery']));
  t.is(flowFailureOf(expired), 'expired');
});

test('a decoy answers like a flow but its handed-out token and code never complete', async (t) => {
  const service = flows();
  const decoy = await service.create({ kind: 'registration', email: 'taken@example.test', payload: { decoy: true }, ttlSeconds: 600, withCode: true });
  await t.throwsAsync(service.completeByToken(decoy.token, ['registration']), invalidCode);
  await t.throwsAsync(service.completeByCode(decoy.id, decoy.code!, ['registration'], anyFlow), invalidCode);
  const reissued = await service.reissue(decoy.id, ['registration'], 0);
  await t.throwsAsync(service.completeByCode(decoy.id, reissued!.code!, ['registration'], anyFlow), invalidCode);
});

test('reissue replaces the secrets only after the cool-down', async (t) => {
  const service = flows();
  const issued = await service.create({ kind: 'verification', ttlSeconds: 600, withCode: true });
  t.is(await service.reissue(issued.id, ['verification'], 60), undefined);
  const reissued = await service.reissue(issued.id, ['verification'], 0);
  t.truthy(reissued);
  await t.throwsAsync(service.completeByToken(issued.token, ['verification']), invalidCode);
  t.is((await service.completeByCode(issued.id, reissued!.code!, ['verification'], anyFlow)).id, issued.id);
});

test('flows that ended long ago are removed; recent and pending ones stay', async (t) => {
  const service = flows();
  const old = await service.create({ kind: 'recovery', ttlSeconds: 600 });
  const pending = await service.create({ kind: 'recovery', ttlSeconds: 600 });
  await handle.db.updateTable('self_service_flows').set({ expires_at: new Date(Date.now() - 40 * 86400_000) }).where('id', '=', old.id).execute();
  t.true((await deleteStaleFlows(handle.db, 30 * 86400)) >= 1);
  const remaining = await handle.db.selectFrom('self_service_flows').select('id').where('id', 'in', [old.id, pending.id]).execute();
  t.deepEqual(remaining.map((row) => row.id), [pending.id]);
});
