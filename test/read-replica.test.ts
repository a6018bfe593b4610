// Read-mostly lookups (DATABASE_REPLICA_URL): the engine's client and API resource lookups
// read from the replica pool; a miss or a failure there is read again on the primary; writes
// go to the primary only. The "replica" here is a second database holding different rows
// from the primary's, so every answer shows which pool it came from.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { Kysely } from 'kysely';
import { findResource } from '#src/services/resources.ts';
import { findClientRow, insertClientRow } from '#src/stores/client-store.ts';
import { openDatabase } from '#src/stores/database.ts';
import { createClientAdapter, encryptClientSecret } from '#src/stores/oidc-client-adapter.ts';
import { readMostly, type ReadPools } from '#src/stores/read-replica.ts';
import { createLookupCache } from '#src/stores/lookup-cache.ts';
import { insertResourceRow } from '#src/stores/resource-store.ts';
import type { Database } from '#src/stores/schema.ts';
import { openTestDatabase, type TestDatabaseHandle } from './helpers/database.ts';

const key = randomBytes(32);
const sameView = { toEngine: (metadata: Record<string, unknown>) => metadata, fromEngine: (metadata: Record<string, unknown>) => metadata };
let primary: TestDatabaseHandle;
let replica: TestDatabaseHandle;
let pools: ReadPools;

test.before(async () => {
  [primary, replica] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  pools = { primary: primary.db, replica: replica.db };
});
test.after.always(async () => {
  await Promise.allSettled([primary?.close(), replica?.close()]);
});

async function insertClient(db: Kysely<Database>, clientId: string, name: string) {
  await insertClientRow(db, { clientId, metadata: { client_name: name, grant_types: ['client_credentials'] }, secretEncrypted: encryptClientSecret(key, clientId, `secret-${name}`), firstParty: false });
}

test('the engine reads a client from the replica, a client the replica lacks from the primary', async (t) => {
  const Adapter = createClientAdapter(pools, key, sameView);
  await insertClient(primary.db, 'on-both', 'primary copy');
  await insertClient(replica.db, 'on-both', 'replica copy');
  await insertClient(primary.db, 'just-created', 'primary only');

  const both = await new Adapter().find('on-both');
  t.is(both?.client_name, 'replica copy');
  t.is(both?.client_secret, 'secret-replica copy');
  // Not replicated yet (a client created a moment ago): the primary answers.
  t.is((await new Adapter().find('just-created'))?.client_name, 'primary only');
  t.is(await new Adapter().find('nowhere'), undefined);
  // Without a replica, the primary answers everything.
  const PrimaryOnly = createClientAdapter({ primary: primary.db }, key, sameView);
  t.is((await new PrimaryOnly().find('on-both'))?.client_name, 'primary copy');
});

test('behind a cache, a client that just changed is read from the primary, never cached from a lagging replica', async (t) => {
  const cache = createLookupCache<Record<string, unknown>>({ ttlMs: 60_000 });
  const Adapter = createClientAdapter(pools, key, sameView, cache);
  await insertClient(primary.db, 'cached', 'primary copy');
  await insertClient(replica.db, 'cached', 'replica copy');
  // Never changed here: the replica answers, and its row is cached.
  t.is((await new Adapter().find('cached'))?.client_name, 'replica copy');
  // A change evicts the entry; until the replica surely has it, the primary answers.
  cache.invalidate('cached');
  t.is((await new Adapter().find('cached'))?.client_name, 'primary copy');
  t.is((await new Adapter().find('cached'))?.client_name, 'primary copy', 'what was cached is the primary row');
  // A table-wide eviction counts for every key.
  await insertClient(primary.db, 'other', 'primary other');
  await insertClient(replica.db, 'other', 'replica other');
  cache.clear();
  t.is((await new Adapter().find('other'))?.client_name, 'primary other');
});

test('client writes (dynamic registration) go to the primary only', async (t) => {
  const Adapter = createClientAdapter(pools, key, sameView);
  await new Adapter().upsert('registered', { client_name: 'registered', client_secret: 's3cret', grant_types: ['client_credentials'] });
  t.truthy(await findClientRow(primary.db, 'registered'));
  t.is(await findClientRow(replica.db, 'registered'), undefined);
  await new Adapter().destroy('registered');
  t.is(await findClientRow(primary.db, 'registered'), undefined);
});

test('API resources and their scopes are read from the replica, a miss from the primary', async (t) => {
  await insertResourceRow(replica.db, { identifier: 'https://api.example.test', scopes: ['replica:read'], accessTokenTtl: null });
  await insertResourceRow(primary.db, { identifier: 'https://api.example.test', scopes: ['primary:read'], accessTokenTtl: null });
  await insertResourceRow(primary.db, { identifier: 'https://new.example.test', scopes: ['new:read'], accessTokenTtl: 60 });
  t.deepEqual((await readMostly(pools, (db) => findResource(db, 'https://api.example.test')))?.scopes, ['replica:read']);
  t.deepEqual((await readMostly(pools, (db) => findResource(db, 'https://new.example.test')))?.scopes, ['new:read']);
  t.is(await readMostly(pools, (db) => findResource(db, 'https://missing.example.test')), undefined);
});

test('a replica that fails does not fail the lookup: the primary answers, and the failure is reported', async (t) => {
  // Nothing listens on port 1: every connection is refused at once.
  const unreachable = await openDatabase({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DATABASE_POOL_MAX: 1, DATABASE_CONNECT_TIMEOUT: 5, DATA_DIR: 'unused' });
  t.teardown(() => unreachable.close());
  const failures: unknown[] = [];
  const Adapter = createClientAdapter({ primary: primary.db, replica: unreachable.db, onReplicaError: (error) => failures.push(error) }, key, sameView);
  await insertClient(primary.db, 'while-replica-down', 'primary');
  t.is((await new Adapter().find('while-replica-down'))?.client_name, 'primary');
  t.is(failures.length, 1);
});

test('openDatabase opens a replica pool only when DATABASE_REPLICA_URL is set', async (t) => {
  const without = await openDatabase({ DATABASE_URL: primary.url, DATABASE_POOL_MAX: 1, DATA_DIR: 'unused' });
  t.teardown(() => without.close());
  t.is(without.replica, undefined);
  const withReplica = await openDatabase({ DATABASE_URL: primary.url, DATABASE_REPLICA_URL: replica.url, DATABASE_POOL_MAX: 1, DATA_DIR: 'unused' });
  t.teardown(() => withReplica.close());
  await insertClient(replica.db, 'replica-marker', 'replica');
  t.truthy(await findClientRow(withReplica.replica!, 'replica-marker'));
  t.is(await findClientRow(withReplica.db, 'replica-marker'), undefined);
});
