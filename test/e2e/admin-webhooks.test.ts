// The Admin API's webhook routes over HTTP: an owner adds a webhook (its secret in that
// answer only, the very secret the receiver verifies signatures with), lists it, follows its
// deliveries and retries one; a delivery the receiver refused is listed as failed, and after
// a retry the running event worker delivers it. Secrets never come back in a GET; admin:read
// reads but cannot write; an administrator bound to a tenant cannot add, remove or retry
// (webhooks receive every tenant's events); another webhook's delivery does not exist.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { callApi, type ApiResponse } from '../helpers/api.ts';
import { assertOwnerOnlyWrite, installationWideCallers } from '../helpers/admin.ts';
import { createUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let server: TestServer;
let receiver: WebhookReceiver;
let owner: string;
let ownerId: string;
/** A service client's token with scope admin: bound to its tenant (default). */
let tenantWrite: string;
let read: string;
/** A signed-in account without role admin. */
let plainUser: string;
/** Made by the first test: a webhook, its secret, and one delivery of it. */
let webhook: { id: string; secret: string };
let deliveryId: string;

test.before(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    env: {
      MFA_REQUIRED_TIERS: 'none',
      MFA_REQUIRED_ROLES: 'none',
      // The receiver is on loopback; the worker polls every second; one failed attempt gives up.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      EVENTS_POLL_INTERVAL: '1',
      EVENTS_MAX_ATTEMPTS: '1',
    },
  });
  ({ owner, ownerId, tenantWrite, read, plainUser } = await installationWideCallers(server));
});
test.after.always(async () => {
  await server?.stop();
  await receiver?.close();
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(server, token, method, path, body);

/** Calls `probe` until `done` holds for its answer, for at most 30 s. */
async function waitFor(probe: () => Promise<ApiResponse>, done: (response: ApiResponse) => boolean): Promise<ApiResponse> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await probe();
    if (done(response) || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function rawText(token: string, path: string): Promise<string> {
  const response = await fetch(`${server.issuer}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
  return response.text();
}

const auditOf = (event: string) => server.keyhold.db.selectFrom('audit_log').select(['details']).where('event', '=', event).execute();

test.serial('create shows the secret once; a refused delivery is listed as failed; a retry delivers it', async (t) => {
  // The events of before() (the accounts it made) are fanned out first, to no webhook: on a
  // loaded machine the worker's next pass could otherwise give them to the new webhook too.
  await server.keyhold.eventWorker.drain();
  const created = await api(owner, 'POST', '/api/admin/webhooks', { url: receiver.url, events: ['auth.user_created'] });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(created.headers.get('cache-control'), 'no-store');
  t.like(created.body, { url: receiver.url, events: ['auth.user_created'], active: true });
  t.regex(created.body.secret, /^whsec_/);
  webhook = { id: created.body.id, secret: created.body.secret };
  // The receiver checks every request's signature with the secret the answer showed.
  receiver.secret = webhook.secret;
  receiver.failNext(1_000_000);

  const listed = await api(read, 'GET', '/api/admin/webhooks');
  t.is(listed.status, 200);
  t.deepEqual(listed.body.webhooks, [{ id: webhook.id, url: receiver.url, events: ['auth.user_created'], active: true, created_at: created.body.created_at }]);

  const user = await createUser(server);
  const path = `/api/admin/webhooks/${webhook.id}/deliveries`;
  const failed = await waitFor(
    () => api(read, 'GET', path),
    (response) => response.body.deliveries?.[0]?.status === 'failed',
  );
  t.is(failed.status, 200, JSON.stringify(failed.body));
  t.is(failed.body.deliveries.length, 1);
  const [delivery] = failed.body.deliveries;
  t.like(delivery, { type: 'auth.user_created', status: 'failed', delivered_at: null, next_attempt_at: null });
  t.true(delivery.attempts >= 1);
  t.regex(delivery.last_error, /HTTP 500/);
  t.truthy(delivery.failed_at);
  t.is(failed.body.next_cursor, null);
  const event = await server.keyhold.db.selectFrom('event_outbox').select(['id', 'data']).where('id', '=', delivery.event_id).executeTakeFirstOrThrow();
  t.is((event.data as { user_id?: string }).user_id, user.id);
  deliveryId = delivery.id;
  t.is(receiver.events.length, 0);

  // The receiver is back; the delivery was given up, so only a retry sends it again.
  receiver.failNext(0);
  const retried = await api(owner, 'POST', `${path}/${deliveryId}/retry`);
  t.is(retried.status, 202, JSON.stringify(retried.body));
  t.like(retried.body, { id: deliveryId, event_id: delivery.event_id, failed_at: null });
  // Due again (the running worker may already have sent it by the time the answer is read).
  t.true(['retrying', 'delivered'].includes(retried.body.status), retried.body.status);
  if (retried.body.status === 'retrying') t.truthy(retried.body.next_attempt_at);

  const delivered = await waitFor(
    () => api(read, 'GET', `${path}?status=delivered`),
    (response) => response.body.deliveries?.[0]?.status === 'delivered',
  );
  t.like(delivered.body.deliveries?.[0], { id: deliveryId, status: 'delivered', last_error: null });
  t.truthy(delivered.body.deliveries?.[0]?.delivered_at);
  t.deepEqual(
    receiver.events.map((received) => [received.id, received.headerId, received.type]),
    [[delivery.event_id, delivery.event_id, 'auth.user_created']],
  );

  const again = await api(owner, 'POST', `${path}/${deliveryId}/retry`);
  t.is(again.status, 409);
  t.is(again.body.error, 'delivery_delivered');

  const actor = `account:${ownerId}`;
  t.like((await auditOf('admin.webhook_created'))[0]?.details, { actor, webhook: webhook.id, url: receiver.url });
  t.like((await auditOf('admin.webhook_delivery_retried'))[0]?.details, { actor, webhook: webhook.id, delivery: deliveryId });
  t.false(JSON.stringify(await server.keyhold.db.selectFrom('audit_log').select('details').execute()).includes(webhook.secret));
});

test.serial('no GET ever carries a webhook secret or its sealed form', async (t) => {
  const stored = await server.keyhold.db.selectFrom('webhooks').select('secret_encrypted').execute();
  for (const token of [owner, read, tenantWrite]) {
    for (const path of ['/api/admin/webhooks', `/api/admin/webhooks/${webhook.id}/deliveries`]) {
      const text = await rawText(token, path);
      t.false(text.includes(webhook.secret), path);
      t.false(text.includes('whsec_'), path);
      t.false(/secret/i.test(text), path);
      for (const row of stored) t.false(text.includes(row.secret_encrypted.slice(0, 40)), path);
    }
  }
});

test.serial("deliveries page newest first, filter by status; another webhook's delivery does not exist", async (t) => {
  const other = await api(owner, 'POST', '/api/admin/webhooks', { url: `${receiver.url}?other`, events: ['auth.user_created'] });
  t.is(other.status, 201);
  for (let i = 0; i < 2; i++) await createUser(server);
  const path = `/api/admin/webhooks/${webhook.id}/deliveries`;
  const all = await waitFor(
    () => api(read, 'GET', `${path}?status=delivered`),
    (response) => response.body.deliveries?.length === 3,
  );
  t.is(all.body.deliveries.length, 3, JSON.stringify(all.body));
  const ids = all.body.deliveries.map((delivery: { id: string }) => delivery.id);
  t.deepEqual([...ids].sort((a, b) => Number(b) - Number(a)), ids, 'newest first');

  const first = await api(read, 'GET', `${path}?limit=2`);
  t.deepEqual(first.body.deliveries.map((delivery: { id: string }) => delivery.id), ids.slice(0, 2));
  t.truthy(first.body.next_cursor);
  const second = await api(read, 'GET', `${path}?limit=2&cursor=${first.body.next_cursor}`);
  t.deepEqual(second.body.deliveries.map((delivery: { id: string }) => delivery.id), ids.slice(2));
  t.is(second.body.next_cursor, null);
  t.deepEqual((await api(read, 'GET', `${path}?status=failed`)).body.deliveries, []);

  // The other webhook's path with this webhook's delivery: not found, and nothing scheduled.
  const crossed = await api(owner, 'POST', `/api/admin/webhooks/${other.body.id}/deliveries/${deliveryId}/retry`);
  t.is(crossed.status, 404);
  t.is(crossed.body.error, 'unknown_delivery');
  for (const [webhookId, id, code] of [
    [webhook.id, '999999999', 'unknown_delivery'],
    [webhook.id, 'abc', 'unknown_delivery'],
    [randomUUID(), deliveryId, 'unknown_webhook'],
    ['not-a-uuid', deliveryId, 'unknown_webhook'],
  ]) {
    const response = await api(owner, 'POST', `/api/admin/webhooks/${webhookId}/deliveries/${id}/retry`);
    t.is(response.status, 404, `${webhookId} ${id}`);
    t.is(response.body.error, code);
  }
  for (const id of [randomUUID(), 'not-a-uuid']) {
    const response = await api(read, 'GET', `/api/admin/webhooks/${id}/deliveries`);
    t.is(response.status, 404);
    t.is(response.body.error, 'unknown_webhook');
  }
  for (const query of ['limit=0', 'limit=201', 'status=lost', 'cursor=%25%25', `cursor=${Buffer.from('x').toString('base64url')}`, 'extra=1']) {
    const response = await api(read, 'GET', `${path}?${query}`);
    t.is(response.status, 400, query);
    t.is(response.body.error, 'validation_failed', query);
  }
  t.is((await api(read, 'GET', `${path}?limit=200`)).status, 200);
});

test.serial('delete answers 204, takes the deliveries with it, and a second delete is 404', async (t) => {
  const created = await api(owner, 'POST', '/api/admin/webhooks', { url: 'https://hooks.example.test/keyhold' });
  t.is(created.status, 201);
  t.deepEqual(created.body.events, [], 'every event type');
  await createUser(server);
  const deliveriesOf = async () => (await server.keyhold.db.selectFrom('event_deliveries').select('id').where('webhook_id', '=', created.body.id).execute()).length;
  await waitFor(
    () => api(read, 'GET', `/api/admin/webhooks/${created.body.id}/deliveries`),
    (response) => response.body.deliveries?.length > 0,
  );
  t.true((await deliveriesOf()) > 0);
  const removed = await api(owner, 'DELETE', `/api/admin/webhooks/${created.body.id}`);
  t.is(removed.status, 204);
  t.false((await api(read, 'GET', '/api/admin/webhooks')).body.webhooks.some((item: { id: string }) => item.id === created.body.id));
  const again = await api(owner, 'DELETE', `/api/admin/webhooks/${created.body.id}`);
  t.is(again.status, 404);
  t.is(again.body.error, 'unknown_webhook');
  t.is(await deliveriesOf(), 0);
  t.is((await api(read, 'GET', `/api/admin/webhooks/${created.body.id}/deliveries`)).status, 404);
  t.is((await api(owner, 'DELETE', '/api/admin/webhooks/not-a-uuid')).status, 404);
  t.like((await auditOf('admin.webhook_deleted'))[0]?.details, { actor: `account:${ownerId}`, webhook: created.body.id });
});

test.serial('a delivery the worker is sending is not made due again by a retry: no second request while the first is open', async (t) => {
  const { db } = server.keyhold;
  // A receiver that holds each request open until the test lets it answer.
  const answers: Array<() => void> = [];
  let arrived!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  const holding = createServer((request, response) => {
    request.resume();
    answers.push(() => response.end());
    arrived();
  });
  await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
  const created = await api(owner, 'POST', '/api/admin/webhooks', { url: `http://127.0.0.1:${(holding.address() as AddressInfo).port}/hook`, events: ['auth.user_created'] });
  t.is(created.status, 201);
  try {
    await createUser(server);
    await firstArrived;
    const leased = await db.selectFrom('event_deliveries').select(['id', 'next_attempt_at']).where('webhook_id', '=', created.body.id).executeTakeFirstOrThrow();
    t.true(new Date(leased.next_attempt_at) > new Date(), 'the worker holds it (a lease)');

    const retried = await api(owner, 'POST', `/api/admin/webhooks/${created.body.id}/deliveries/${leased.id}/retry`);
    t.is(retried.status, 409, JSON.stringify(retried.body));
    t.is(retried.body.error, 'delivery_scheduled');
    const after = await db.selectFrom('event_deliveries').select('next_attempt_at').where('id', '=', leased.id).executeTakeFirstOrThrow();
    t.deepEqual(after.next_attempt_at, leased.next_attempt_at, 'the lease stands: no other pass claims it');
  } finally {
    for (const answer of answers) answer();
    holding.closeAllConnections();
    holding.close();
    await api(owner, 'DELETE', `/api/admin/webhooks/${created.body.id}`);
  }
});

test('bad bodies are refused with a code, never a 5xx, and add nothing', async (t) => {
  const before = (await server.keyhold.webhooks.list()).length;
  for (const body of [
    { url: 'not a url' },
    { url: 'ftp://hooks.example.test/x' },
    { url: 'https://user:pass@hooks.example.test/x' },
    { url: 'https://hooks.example.test/x#fragment' },
    { url: 'https://hooks.example.test/x', events: ['auth.not_a_thing'] },
    { url: 'https://hooks.example.test/x', secret: 'chosen' },
    { url: 'https://hooks.example.test/\nx' },
    { events: ['auth.user_created'] },
    [],
  ]) {
    const response = await api(owner, 'POST', '/api/admin/webhooks', body);
    t.is(response.status, 400, JSON.stringify(body));
    t.is(response.body.error, 'validation_failed', JSON.stringify(body));
  }
  const malformed = await api(owner, 'POST', '/api/admin/webhooks', '{"url":');
  t.is(malformed.status, 400);
  t.is(malformed.body.error, 'invalid_body');
  t.is((await server.keyhold.webhooks.list()).length, before);
});

test.serial('admin:read, a tenant-bound administrator and a non-administrator cannot create, delete or retry; no token is 401', async (t) => {
  const before = await server.keyhold.webhooks.list();
  const retryPath = `/api/admin/webhooks/${webhook.id}/deliveries/${deliveryId}/retry`;
  for (const [method, path, body] of [
    ['POST', '/api/admin/webhooks', { url: 'https://attacker.example.test/hook' }],
    ['DELETE', `/api/admin/webhooks/${webhook.id}`, undefined],
    ['POST', retryPath, undefined],
  ] as const) {
    await assertOwnerOnlyWrite(t, server, { read, tenantWrite, plainUser }, { method, path, body });
  }
  // Reading is any administrator's, as for connectors.
  t.is((await api(tenantWrite, 'GET', '/api/admin/webhooks')).status, 200);
  for (const path of ['/api/admin/webhooks', `/api/admin/webhooks/${webhook.id}/deliveries`]) {
    t.is((await api(plainUser, 'GET', path)).status, 403, path);
    t.is((await api(undefined, 'GET', path)).status, 401);
  }
  t.deepEqual(await server.keyhold.webhooks.list(), before);
  t.is((await server.keyhold.db.selectFrom('event_deliveries').select('delivered_at').where('id', '=', deliveryId).executeTakeFirstOrThrow()).delivered_at instanceof Date, true);
});

test('every webhook route is in the OpenAPI document', async (t) => {
  const document = (await api(undefined, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  t.deepEqual(Object.keys(document.paths['/api/admin/webhooks'] ?? {}).sort(), ['get', 'post']);
  t.deepEqual(Object.keys(document.paths['/api/admin/webhooks/{id}'] ?? {}), ['delete']);
  t.deepEqual(Object.keys(document.paths['/api/admin/webhooks/{id}/deliveries'] ?? {}), ['get']);
  t.deepEqual(Object.keys(document.paths['/api/admin/webhooks/{id}/deliveries/{deliveryId}/retry'] ?? {}), ['post']);
  // The secret is documented in the creation answer only.
  const schemas = (document as unknown as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }).components.schemas;
  t.truthy(schemas.AdminWebhookCreated?.properties?.secret);
  for (const name of ['AdminWebhook', 'AdminWebhooks', 'AdminWebhookDelivery', 'AdminWebhookDeliveryPage']) t.false(JSON.stringify(schemas[name] ?? null).includes('"secret"'), name);
});
