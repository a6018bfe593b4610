// The Admin API's signing-key routes over HTTP: they list, rotate and retire through the
// service behind `keyhold keys` (same rules, same errors); a rotation shows in this node's
// /jwks at once; no answer ever carries key material; admin:read reads but cannot write,
// an administrator bound to a tenant cannot change the keys every tenant's tokens are
// signed with, and every change is in the audit log with its actor.
import test from 'ava';
import { sql } from 'kysely';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { listKeys, rotateKeys } from '#src/services/signing-keys.ts';
import { callApi } from '../helpers/api.ts';
import { assertOwnerOnlyWrite, installationWideCallers } from '../helpers/admin.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let owner: string;
let ownerId: string;
/** A service client's token with scope admin: bound to its tenant (default). */
let tenantWrite: string;
let read: string;
/** A signed-in account without role admin. */
let plainUser: string;

test.before(async () => {
  // A rotated-in key stays published (not signing) for the whole test unless a test says otherwise.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', KEY_ACTIVATION_DELAY: '3600' } });
  ({ owner, ownerId, tenantWrite, read, plainUser } = await installationWideCallers(server));
});
test.after.always(async () => {
  await server?.stop();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);

async function jwksKids(): Promise<string[]> {
  const { keys } = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
  return keys.map((key) => key.kid);
}

/** Fails when an answer carries anything of a private key: JWK private members or the sealed column. */
async function assertNoKeyMaterial(t: import('ava').ExecutionContext, text: string) {
  for (const member of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', '"k"', 'private', 'BEGIN']) t.false(text.includes(member), `${member} in ${text.slice(0, 200)}`);
  const sealed = await server.keyhold.db.selectFrom('signing_keys').select(['private_jwk_encrypted', 'public_jwk']).execute();
  for (const row of sealed) t.false(text.includes(row.private_jwk_encrypted.slice(0, 40)));
}

const auditOf = (event: string) => server.keyhold.db.selectFrom('audit_log').select(['details']).where('event', '=', event).execute();

test.serial('list shows every key with its stage and times, and nothing secret', async (t) => {
  for (const token of [owner, read, tenantWrite]) {
    const response = await fetch(`${server.issuer}/api/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
    t.is(response.status, 200);
    const text = await response.text();
    await assertNoKeyMaterial(t, text);
    const { keys } = JSON.parse(text) as { keys: Array<Record<string, unknown>> };
    const [stored] = await listKeys(server.keyhold.db);
    t.deepEqual(keys, [
      { kid: stored!.kid, alg: 'RS256', stage: 'signing', created_at: stored!.createdAt, activates_at: stored!.activatesAt, retired_at: null, removes_at: null },
    ]);
  }
});

test.serial('rotate publishes a new key in /jwks at once; the old one keeps signing and cannot be retired yet', async (t) => {
  const [original] = await listKeys(server.keyhold.db);
  t.deepEqual(await jwksKids(), [original!.kid]);

  // No body at all: every algorithm of SIGNING_ALGS.
  const response = await fetch(`${server.issuer}/api/admin/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${owner}` } });
  const text = await response.text();
  t.is(response.status, 200, text);
  await assertNoKeyMaterial(t, text);
  const rotation = JSON.parse(text) as { keys: Array<{ kid: string; stage: string; retired_at: string | null; activates_at: string }>; rotated: string[] };
  t.is(rotation.rotated.length, 1);
  const created = rotation.keys.find((key) => key.kid === rotation.rotated[0])!;
  t.is(created.stage, 'published');
  const old = rotation.keys.find((key) => key.kid === original!.kid)!;
  t.is(old.stage, 'signing', 'the old key signs until the new one activates');
  t.is(old.retired_at, created.activates_at);
  // This node serves the new key set without waiting for the reload job.
  t.deepEqual((await jwksKids()).sort(), [original!.kid, created.kid].sort());
  t.deepEqual((await api(read, 'GET', '/api/admin/keys')).body.keys, rotation.keys);

  // The new key is not active yet: the old one is still the only RS256 key that can sign.
  const refused = await api(owner, 'POST', `/api/admin/keys/${original!.kid}/retire`);
  t.is(refused.status, 409);
  t.is(refused.body.error, 'last_signing_key');
  const cli = await t.throwsAsync(server.keyhold.admin.keys.retire(CLI_ACTOR, original!.kid));
  t.is(refused.body.error_description, cli?.message);

  t.like((await auditOf('admin.signing_keys_rotated'))[0]?.details, { actor: `account:${ownerId}`, kids: rotation.rotated });
});

test.serial('retire: a key with an active successor retires and stays in /jwks; twice is 409; unknown kids are 404', async (t) => {
  const [original] = (await listKeys(server.keyhold.db)).filter((key) => key.stage === 'signing');
  // A successor that signs at once, as `KEY_ACTIVATION_DELAY=0 keyhold keys rotate` makes one.
  const [successor] = await rotateKeys(server.keyhold.db, { ...server.keyhold.keyOptions, activationDelay: 0 });
  t.is(successor!.stage, 'signing');

  const retired = await api(owner, 'POST', `/api/admin/keys/${original!.kid}/retire`);
  t.is(retired.status, 200, JSON.stringify(retired.body));
  t.like(retired.body, { kid: original!.kid, alg: 'RS256', stage: 'retired' });
  t.truthy(retired.body.removes_at);
  // Retired keys stay published: what they signed still verifies.
  t.true((await jwksKids()).includes(original!.kid));
  t.like((await auditOf('admin.signing_key_retired'))[0]?.details, { actor: `account:${ownerId}`, kid: original!.kid });

  const again = await api(owner, 'POST', `/api/admin/keys/${original!.kid}/retire`);
  t.is(again.status, 409);
  t.is(again.body.error, 'signing_key_retired');

  for (const kid of ['00000000-0000-4000-8000-000000000000', 'no-such-key']) {
    const unknown = await api(owner, 'POST', `/api/admin/keys/${kid}/retire`);
    t.is(unknown.status, 404, kid);
    t.is(unknown.body.error, 'unknown_signing_key');
  }
  t.is((await api(owner, 'POST', `/api/admin/keys/${'k'.repeat(300)}/retire`)).status, 400);
});

test.serial('two retirements at once never leave an algorithm without a signing key', async (t) => {
  const { db } = server.keyhold;
  // Two RS256 keys that sign, neither scheduled to retire: each alone may be retired.
  const current = (await listKeys(db)).filter((key) => key.alg === 'RS256' && key.stage === 'signing' && key.retiredAt === null);
  await rotateKeys(db, { ...server.keyhold.keyOptions, activationDelay: 0 });
  await db.updateTable('signing_keys').set({ retired_at: null, removes_at: null }).where('kid', 'in', current.map((key) => key.kid)).execute();
  const signing = (await listKeys(db)).filter((key) => key.alg === 'RS256' && key.stage === 'signing' && key.retiredAt === null);
  t.is(signing.length, 2, JSON.stringify(await listKeys(db)));

  // Writes to the key table wait until both retirements are under way, so that each
  // reads the key set before either has written (reads are not blocked).
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = db.transaction().execute(async (trx) => {
    await sql`lock table signing_keys in exclusive mode`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  const retirements = signing.map((key) => api(owner, 'POST', `/api/admin/keys/${key.kid}/retire`));
  const waiting = async () => {
    const { rows } = await sql<{ count: string }>`select count(*) as count from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`.execute(db);
    return Number(rows[0]!.count) >= 2;
  };
  while (!(await waiting())) await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  await holder;
  const answers = await Promise.all(retirements);

  t.deepEqual(answers.map((answer) => answer.status).sort(), [200, 409], JSON.stringify(answers.map((answer) => answer.body)));
  t.truthy(answers.find((answer) => answer.status === 409 && answer.body.error === 'last_signing_key'));
  t.is((await listKeys(db)).filter((key) => key.alg === 'RS256' && key.stage === 'signing' && key.retiredAt === null).length, 1);
});

test('bad rotate bodies are refused with a code, never a 5xx, and rotate nothing', async (t) => {
  const before = (await listKeys(server.keyhold.db)).length;
  for (const [body, code] of [
    [{ alg: 'HS256' }, 'validation_failed'],
    [{ alg: 'none' }, 'validation_failed'],
    [{ alg: 'RS256', extra: true }, 'validation_failed'],
    [[], 'validation_failed'],
    ['{"alg":', 'invalid_body'],
  ] as const) {
    const response = await api(owner, 'POST', '/api/admin/keys/rotate', body);
    t.is(response.status, 400, JSON.stringify(body));
    t.is(response.body.error, code, JSON.stringify(body));
  }
  // A known algorithm the nodes do not sign with: the error `keyhold keys rotate --alg` gives.
  const unconfigured = await api(owner, 'POST', '/api/admin/keys/rotate', { alg: 'ES256' });
  t.is(unconfigured.status, 400);
  t.is(unconfigured.body.error, 'invalid_signing_alg');
  const cli = await t.throwsAsync(server.keyhold.admin.keys.rotate(CLI_ACTOR, 'ES256'));
  t.is(unconfigured.body.error_description, cli?.message);
  t.is((await listKeys(server.keyhold.db)).length, before);
});

test('admin:read, a tenant-bound administrator and a non-administrator cannot rotate or retire; no token is 401', async (t) => {
  const keys = await listKeys(server.keyhold.db);
  const kid = keys[0]!.kid;
  for (const [method, path] of [
    ['POST', '/api/admin/keys/rotate'],
    ['POST', `/api/admin/keys/${kid}/retire`],
  ] as const) {
    await assertOwnerOnlyWrite(t, server, { read, tenantWrite, plainUser }, { method, path, body: {} });
  }
  t.is((await api(plainUser, 'GET', '/api/admin/keys')).status, 403);
  t.is((await api(undefined, 'GET', '/api/admin/keys')).status, 401);
  t.deepEqual(await listKeys(server.keyhold.db), keys);
});

test('every signing-key route is in the OpenAPI document', async (t) => {
  const document = (await api(undefined, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  t.deepEqual(Object.keys(document.paths['/api/admin/keys'] ?? {}), ['get']);
  t.deepEqual(Object.keys(document.paths['/api/admin/keys/rotate'] ?? {}), ['post']);
  t.deepEqual(Object.keys(document.paths['/api/admin/keys/{kid}/retire'] ?? {}), ['post']);
  // A rotation needs no body; one with an alg is documented.
  const rotate = (document.paths['/api/admin/keys/rotate'] as { post: { requestBody: { required: boolean } } }).post;
  t.false(rotate.requestBody.required);
  t.true(JSON.stringify(rotate.requestBody).includes('AdminKeyRotate'));
});
