// DATABASE_REPLICA_URL against a real streaming replica: a Postgres primary and a hot
// standby (pg_basebackup -R) started here. The standby is read-only, so every flow that
// works shows that writes went to the primary; pausing the standby's replay shows which
// lookups read from it (they see the old row), and what the documented replication lag
// means: a change reaches those lookups once the standby has replayed it. A stopped
// standby does not stop Keyhold: the primary answers the lookups.
import test from 'ava';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { createResource } from '#src/services/resources.ts';
import { registerClient, signInNewUser, tokenRequest } from '../helpers/oidc.ts';
import { startStreamingReplica, type StreamingReplica } from '../helpers/postgres-replica.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://api.example.test';
let replica: StreamingReplica;
let server: TestServer;

test.before(async () => {
  replica = await startStreamingReplica();
  await replica.createDatabase('keyhold');
  server = await startTestServer({
    databaseUrl: replica.primaryUrl('keyhold'),
    // CACHE_TTL 0: the replica's lag is what this file observes, and with the caches a row
    // that just changed is read from the primary (test/read-replica.test.ts).
    env: { DATABASE_REPLICA_URL: replica.standbyUrl('keyhold'), CACHE_TTL: '0', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' },
  });
  await createResource(server.keyhold.db, { identifier: API, scopes: ['read'] });
  await replica.caughtUp();
});
test.after.always(async () => {
  await server?.stop();
  await replica?.destroy();
});

const serviceClient = () => registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'read' });

test.serial('every flow works with a read-only standby as the replica (writes go to the primary)', async (t) => {
  const [{ in_recovery: inRecovery }] = await replica.onStandby<{ in_recovery: boolean }>('keyhold', 'select pg_is_in_recovery() as in_recovery');
  t.true(inRecovery, 'the replica is a standby');
  const { tokens, client } = await signInNewUser(server, { client: { first_party: true }, parameters: { scope: 'openid offline_access', prompt: 'consent' } });
  const refreshed = await tokenRequest(server, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  t.is(refreshed.status, 200, JSON.stringify(refreshed.body));
  // A client created this instant is used at once, whether or not the standby has it yet.
  const service = await serviceClient();
  const issued = await tokenRequest(server, service, { grant_type: 'client_credentials', resource: API, scope: 'read' });
  t.is(issued.status, 200, JSON.stringify(issued.body));
});

test.serial('the client lookup reads the standby: while its replay is paused, a rotated secret is not seen yet', async (t) => {
  const client = await serviceClient();
  await replica.caughtUp();
  await replica.onStandby('keyhold', 'select pg_wal_replay_pause()');
  try {
    const { client_secret: rotated } = await server.keyhold.admin.clients.rotateSecret(CLI_ACTOR, client.clientId);
    // The standby still has the old row: the old secret is accepted, the new one is not.
    t.is((await tokenRequest(server, client, { grant_type: 'client_credentials' })).status, 200);
    t.is((await tokenRequest(server, { ...client, clientSecret: rotated }, { grant_type: 'client_credentials' })).body.error, 'invalid_client');
    await replica.onStandby('keyhold', 'select pg_wal_replay_resume()');
    await replica.caughtUp();
    // Replayed: the new secret works, the old one is refused.
    t.is((await tokenRequest(server, { ...client, clientSecret: rotated }, { grant_type: 'client_credentials' })).status, 200);
    t.is((await tokenRequest(server, client, { grant_type: 'client_credentials' })).body.error, 'invalid_client');
  } finally {
    await replica.onStandby('keyhold', 'select pg_wal_replay_resume()').catch(() => {});
  }
});

test.serial('a stopped standby does not stop Keyhold: the primary answers the lookups', async (t) => {
  const client = await serviceClient();
  replica.stopStandby();
  const issued = await tokenRequest(server, client, { grant_type: 'client_credentials', resource: API, scope: 'read' });
  t.is(issued.status, 200, JSON.stringify(issued.body));
  const { tokens } = await signInNewUser(server, { parameters: { scope: 'openid' } });
  t.truthy(tokens.access_token);
});
