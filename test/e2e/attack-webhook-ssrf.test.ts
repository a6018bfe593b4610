// The attacker's view of webhook delivery (WEBHOOK_ALLOW_PRIVATE off, the default): an
// owner, over the Admin API, points webhooks at the provider's own network in each spelling
// an address can take (names, IPv4-mapped IPv6, the unspecified address, NAT64's
// well-known prefix embedding 127.0.0.1). Every delivery is refused before a request is
// made, says why, and the receiver on loopback hears nothing.
import test from 'ava';
import { callApi } from '../helpers/api.ts';
import { adminUserToken } from '../helpers/admin.ts';
import { createUser } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let server: TestServer;
let receiver: WebhookReceiver;
let owner: string;

test.before(async () => {
  receiver = await startWebhookReceiver();
  // Only drain() delivers; one refused attempt gives a delivery up.
  server = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', EVENTS_POLL_INTERVAL: '3600', EVENTS_MAX_ATTEMPTS: '1' } });
  owner = (await adminUserToken(server, { roles: ['admin', 'owner'] })).token;
});
test.after.always(async () => {
  await server?.stop();
  await receiver?.close();
});

test('webhooks aimed at loopback in any spelling are refused at delivery; nothing reaches the receiver', async (t) => {
  const { port, pathname } = new URL(receiver.url);
  const hosts = ['127.0.0.1', 'localhost', '[::1]', '[::ffff:127.0.0.1]', '0.0.0.0', '[::]', '[64:ff9b::7f00:1]', '[64:ff9b::a9fe:a9fe]', '[2002:7f00:1::]'];
  const webhooks = new Map<string, string>();
  for (const host of hosts) {
    const created = await callApi(server, owner, 'POST', '/api/admin/webhooks', { url: `http://${host}:${port}${pathname}`, events: ['auth.user_created'] });
    t.is(created.status, 201, JSON.stringify(created.body));
    webhooks.set(created.body.id, host);
  }
  await createUser(server);
  await server.keyhold.eventWorker.drain();

  for (const [id, host] of webhooks) {
    const { body } = await callApi(server, owner, 'GET', `/api/admin/webhooks/${id}/deliveries`);
    t.true(body.deliveries?.length > 0, host);
    for (const delivery of body.deliveries) {
      t.like(delivery, { status: 'failed' }, host);
      t.regex(delivery.last_error ?? '', /private address/, host);
    }
  }
  t.is(receiver.events.length + receiver.refused, 0);
});
