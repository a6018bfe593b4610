// DATABASE_REPLICA_URL on a running Keyhold. Two set-ups, said plainly:
// - `same database`: the replica URL points at the primary's own database (no replication
//   here); it shows every flow works with the replica pool in use, writes included.
// - `separate database`: the "replica" is a second database with rows of its own, so an
//   answer shows where the engine read it: a client that exists only there is honoured
//   (the engine read the replica), one that exists only on the primary too (a miss on the
//   replica is asked of the primary: a client created a moment ago works at once).
// test/e2e/streaming-replica.test.ts runs against a real streaming standby;
// test/read-replica.test.ts checks the stores' read path on its own.
import test from 'ava';
import { decodeJwt } from 'jose';
import { createResource } from '#src/services/resources.ts';
import { deleteClientRow, findClientRow, insertClientRow } from '#src/stores/client-store.ts';
import { openTestDatabase, type TestDatabaseHandle } from '../helpers/database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/infra.ts';
import { registerClient, signInNewUser, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://api.example.test';
const env = { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' };
let shared: TestDatabase;
let sameDatabase: TestServer;
let replica: TestDatabaseHandle;
let separateDatabase: TestServer;

test.before(async () => {
  shared = await createTestDatabase();
  sameDatabase = await startTestServer({ databaseUrl: shared.url, env: { ...env, DATABASE_REPLICA_URL: shared.url } });
  replica = await openTestDatabase();
  // CACHE_TTL 0: this server shows where the engine reads by changing rows behind its back;
  // with the caches, a row that just changed is read from the primary (test/read-replica.test.ts).
  separateDatabase = await startTestServer({ env: { ...env, DATABASE_REPLICA_URL: replica.url, CACHE_TTL: '0' } });
});
test.after.always(async () => {
  await sameDatabase?.stop();
  await separateDatabase?.stop();
  await shared?.drop();
  await replica?.close();
});

const serviceClient = (server: TestServer, metadata: Record<string, unknown> = {}) => registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], ...metadata });

test('same database: code flow, refresh and JWT client_credentials with the replica pool in use', async (t) => {
  t.truthy(sameDatabase.keyhold.reads.replica, 'a replica pool is open');
  const { tokens, config } = await signInNewUser(sameDatabase, { client: { first_party: true }, parameters: { scope: 'openid offline_access', prompt: 'consent' } });
  t.truthy(tokens.refresh_token);
  const refreshed = await tokenRequest(sameDatabase, { clientId: config.clientMetadata().client_id, clientSecret: config.clientMetadata().client_secret as string }, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  t.is(refreshed.status, 200, JSON.stringify(refreshed.body));

  await createResource(sameDatabase.keyhold.db, { identifier: API, scopes: ['read'] });
  const client = await serviceClient(sameDatabase, { scope: 'read' });
  const issued = await tokenRequest(sameDatabase, client, { grant_type: 'client_credentials', resource: API, scope: 'read' });
  t.is(issued.status, 200, JSON.stringify(issued.body));
  t.like(decodeJwt(issued.body.access_token as string), { aud: API, scope: 'read', client_id: client.clientId });
});

test('separate database: the engine reads the client from the replica, and a client the replica lacks from the primary', async (t) => {
  const server = separateDatabase;
  // Created on the primary only: found there after the replica's miss.
  const fresh = await serviceClient(server);
  t.is(await findClientRow(replica.db, fresh.clientId), undefined);
  t.is((await tokenRequest(server, fresh, { grant_type: 'client_credentials' })).status, 200);

  // On the replica only (the primary's row deleted): still honoured, so the engine read it there.
  const moved = await serviceClient(server);
  const row = (await findClientRow(server.keyhold.db, moved.clientId))!;
  await insertClientRow(replica.db, { clientId: row.client_id, metadata: row.metadata, secretEncrypted: row.secret_encrypted, firstParty: row.first_party, tenant: row.tenant });
  await deleteClientRow(server.keyhold.db, moved.clientId);
  const fromReplica = await tokenRequest(server, moved, { grant_type: 'client_credentials' });
  t.is(fromReplica.status, 200, JSON.stringify(fromReplica.body));
  // And on neither: unknown.
  await deleteClientRow(replica.db, moved.clientId);
  t.is((await tokenRequest(server, moved, { grant_type: 'client_credentials' })).body.error, 'invalid_client');
});

test('separate database: an API resource the replica holds is what the engine issues JWTs for', async (t) => {
  const server = separateDatabase;
  const client = await serviceClient(server);
  // The replica's copy of the API grants `read` for 120 s; the primary has no such API.
  const identifier = 'https://replica-only.example.test';
  await createResource(replica.db, { identifier, scopes: ['read'], accessTokenTtl: 120 });
  const issued = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: identifier, scope: 'read' });
  t.is(issued.status, 200, JSON.stringify(issued.body));
  const claims = decodeJwt(issued.body.access_token as string);
  t.is(claims.aud, identifier);
  t.is(claims.exp! - claims.iat!, 120);
});
