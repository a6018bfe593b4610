// Events over real transports: a local HTTP receiver that verifies every signature, the
// Redis Stream, and NATS. Delivery is at least once: an event whose delivery failed, or that
// was never attempted, reaches the receiver after the node is replaced (same database).
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { connect } from 'nats';
import * as oidc from 'openid-client';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { webhookSignature } from '#src/services/webhooks.ts';
import { cliEnv, runKeyhold, succeeded } from '../helpers/cli.ts';
import { createTestDatabase, createTestRedisPrefix, testRedisUrl, type TestDatabase, type TestRedisPrefix } from '../helpers/infra.ts';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startWebhookReceiver, verifySignature, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const subject = `keyhold-test.${randomBytes(4).toString('hex')}`;
// Only drain() delivers: a test decides when, and can tell "not yet" from "never".
const env = { WEBHOOK_ALLOW_PRIVATE: 'true', EVENTS_POLL_INTERVAL: '3600', NATS_URL, EVENTS_NATS_SUBJECT: subject };

let database: TestDatabase;
let prefix: TestRedisPrefix;
let server: TestServer;
let receiver: WebhookReceiver;
let redis: Redis;

const startNode = () => startTestServer({ databaseUrl: database.url, redisPrefix: prefix.prefix, env });

test.before(async () => {
  database = await createTestDatabase();
  prefix = createTestRedisPrefix();
  receiver = await startWebhookReceiver();
  server = await startNode();
  redis = new Redis(testRedisUrl);
});
test.after.always(async () => {
  await server?.stop();
  await receiver?.close();
  redis?.disconnect();
  await prefix?.clear();
  await database?.drop();
});

const ofType = (type: string, userId: string) => receiver.events.filter((event) => event.type === type && event.data.user_id === userId);

test.serial('`keyhold webhook create` prints { id, secret }; the secret is stored encrypted', async (t) => {
  const run = await runKeyhold(
    ['webhook', 'create', '--url', receiver.url, '--events', 'auth.user_created auth.login.success auth.login.failed auth.password_changed auth.token_reuse_detected auth.role_changed auth.user_locked auth.session_revoked'],
    cliEnv({ DATABASE_URL: database.url, KEYHOLD_SECRET: 'test-secret-0123456789abcdef0123456789abcdef' }),
  );
  const created = succeeded<{ id: string; secret: string; events: string[] }>(t, run);
  t.regex(created.id, /^[0-9a-f-]{36}$/);
  t.regex(created.secret, /^whsec_[\w-]{43}$/);
  t.is(created.events.length, 8);
  receiver.secret = created.secret;
  const stored = await server.keyhold.db.selectFrom('webhooks').select('secret_encrypted').where('id', '=', created.id).executeTakeFirstOrThrow();
  t.false(stored.secret_encrypted.includes(created.secret.slice(6)), 'not stored in clear');

  const refused = await runKeyhold(['webhook', 'create', '--url', receiver.url, '--events', 'auth.not_a_thing'], cliEnv({ DATABASE_URL: database.url }));
  t.is(refused.code, 2);
  t.regex(refused.stderr, /unknown event type auth\.not_a_thing/);
});

test.serial('sign-in events reach the webhook signed, the Redis Stream and NATS, each with its event id', async (t) => {
  const nats = await connect({ servers: NATS_URL });
  const natsMessages: Array<Record<string, any>> = [];
  const subscription = nats.subscribe(subject);
  void (async () => {
    for await (const message of subscription) natsMessages.push(JSON.parse(new TextDecoder().decode(message.data)) as Record<string, any>);
  })();
  await nats.flush();

  const client = await registerClient(server, { first_party: true });
  const config = await discover(server, client);
  const user = await createUser(server);
  // A wrong password, then a sign-in with a refresh token.
  await t.throwsAsync(login(config, { email: user.email, password: 'not the password' }));
  const { tokens } = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' });
  // Reuse of a refresh token revokes its grant, and says so.
  const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.truthy(rotated.refresh_token);
  await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  await server.keyhold.admin.users.update(CLI_ACTOR, { email: user.email }, { roles: ['user', 'editor'] });

  await server.keyhold.background.settled();
  const delivered = await server.keyhold.eventWorker.drain();
  // Five events (created, failed, success, reuse, role) to three targets.
  t.is(delivered, 5 * 3);

  const created = ofType('auth.user_created', user.id);
  t.is(created.length, 1);
  t.like(created[0]!.data, { email: user.email, source: 'operator' });
  t.like(ofType('auth.login.failed', user.id)[0]?.data, { method: 'password', reason: 'invalid_credentials', ip: '127.0.0.1' });
  const success = ofType('auth.login.success', user.id);
  t.is(success.length, 1, 'one sign-in, one event');
  t.like(success[0]!.data, { client_id: client.clientId, amr: ['pwd'] });
  t.like(ofType('auth.token_reuse_detected', user.id)[0]?.data, { client_id: client.clientId, credential: 'RefreshToken' });
  t.like(ofType('auth.role_changed', user.id)[0]?.data, { from: ['user'], to: ['user', 'editor'], actor: 'cli' });
  for (const event of receiver.events) {
    t.is(event.headerId, event.id);
    t.false(Number.isNaN(Date.parse(event.created_at)));
  }
  t.is(receiver.refused, 0, 'every request carried a valid signature');

  // The same events, with the same ids, on the Redis Stream (under the prefix) and NATS.
  const entries = await redis.xrange(`${prefix.prefix}events`, '-', '+');
  const streamed = entries.map(([, fields]) => Object.fromEntries(fields.reduce<[string, string][]>((pairs, value, index, all) => (index % 2 === 0 ? [...pairs, [value, all[index + 1]!]] : pairs), [])));
  for (const event of [...created, ...success]) {
    const entry = streamed.find((fields) => fields.id === event.id);
    t.truthy(entry, `${event.type} on the stream`);
    t.is(entry!.type, event.type);
    t.deepEqual(JSON.parse(entry!.event!), { id: event.id, type: event.type, created_at: event.created_at, data: event.data });
    t.truthy(natsMessages.find((message) => message.id === event.id), `${event.type} on NATS`);
  }
  await nats.drain();
});

test.serial('attacker: the receiver refuses a forged or altered request', async (t) => {
  const body = JSON.stringify({ id: 'forged', type: 'auth.user_locked', created_at: new Date().toISOString(), data: { user_id: 'victim' } });
  const now = Math.floor(Date.now() / 1000);
  const before = receiver.refused;
  const attempts: Array<Record<string, string>> = [
    {},
    { 'keyhold-signature': webhookSignature('whsec_guessed-secret', now, body) },
    // A genuine signature over another body.
    { 'keyhold-signature': webhookSignature(receiver.secret, now, body.replace('victim', 'someone')) },
    // A genuine signature, replayed long after.
    { 'keyhold-signature': webhookSignature(receiver.secret, now - 3600, body) },
    { 'keyhold-signature': `t=${now},v1=${'0'.repeat(64)}` },
  ];
  for (const headers of attempts) {
    const response = await fetch(receiver.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'keyhold-event-id': 'forged', ...headers } });
    t.is(response.status, 401);
  }
  t.is(receiver.refused - before, attempts.length);
  t.false(receiver.events.some((event) => event.id === 'forged'));
  t.true(verifySignature(receiver.secret, webhookSignature(receiver.secret, now, body), body), 'the genuine signature passes');
});

test.serial('at least once: failed and unattempted deliveries reach the receiver after the node is replaced', async (t) => {
  const user = await createUser(server);
  receiver.failNext(1);
  await server.keyhold.eventWorker.drain();
  t.is(ofType('auth.user_created', user.id).length, 0, 'the first attempt failed');
  const pending = await server.keyhold.db.selectFrom('event_deliveries').select(['attempts', 'last_error']).where('target', '=', 'webhook').where('delivered_at', 'is', null).execute();
  t.is(pending.length, 1);
  t.is(pending[0]!.attempts, 1);
  t.regex(pending[0]!.last_error ?? '', /HTTP 500/);

  // Another event, queued but never attempted: the node stops first.
  const second = await createUser(server);
  await server.stop();
  server = await startNode();
  // Make the back-off of the failed delivery run out now rather than in five seconds.
  await sql`update event_deliveries set next_attempt_at = now() where delivered_at is null`.execute(server.keyhold.db);
  await server.keyhold.eventWorker.drain();

  t.is(ofType('auth.user_created', user.id).length, 1);
  t.is(ofType('auth.user_created', second.id).length, 1);
  const left = await server.keyhold.db.selectFrom('event_deliveries').select('id').where('delivered_at', 'is', null).where('failed_at', 'is', null).execute();
  t.deepEqual(left, []);
});

test.serial('keyhold_outbox_pending reports undelivered events by kind', async (t) => {
  await createUser(server);
  const pendingEvents = async () => {
    const metrics = await server.keyhold.metricsRegistry.getSingleMetricAsString('keyhold_outbox_pending');
    return Number(/keyhold_outbox_pending\{kind="event"\} (\d+)/.exec(metrics)?.[1]);
  };
  t.true((await pendingEvents()) >= 1);
  await server.keyhold.eventWorker.drain();
  t.is(await pendingEvents(), 0);
});
