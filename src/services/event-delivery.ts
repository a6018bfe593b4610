// Delivers the events outbox. Every node runs one worker: it fans new events out to their
// targets, then claims due deliveries (a lease, so two nodes never deliver the same one at
// once) and sends each: a signed POST to a webhook, an XADD to the Redis Stream
// `<REDIS_PREFIX>events`, a publish to NATS (JetStream when a stream takes the subject).
// At least once: a worker that dies after a receiver accepted an event but before recording
// it leaves the delivery to be retried when its lease ends; receivers dedupe by event id.
// Failures are retried with exponential back-off up to EVENTS_MAX_ATTEMPTS.
import { lookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import type { RedisClient } from '#src/stores/redis.ts';
import type { EventEnvelope } from '#src/services/event-types.ts';
import { openWebhookSecret, webhookSignature } from '#src/services/webhooks.ts';
import {
  claimDueDeliveries,
  deleteFinishedEvents,
  fanOutEvents,
  markDelivered,
  markDeliveryFailed,
  releaseDeliveries,
  scheduleDeliveryRetry,
  type ClaimedDelivery,
} from '#src/stores/event-store.ts';
import type { Database, DeliveryTarget } from '#src/stores/schema.ts';

export type EventDeliveryConfig = Pick<Config, 'REDIS_PREFIX' | 'EVENTS_MAX_ATTEMPTS' | 'NATS_URL' | 'EVENTS_NATS_SUBJECT' | 'WEBHOOK_ALLOW_PRIVATE'>;

export interface EventDeliveryOptions {
  db: Kysely<Database>;
  redis?: RedisClient;
  config: EventDeliveryConfig;
  /** Opens webhook secrets (DerivedKeys.webhookSecrets). */
  webhookKey: Buffer;
  logger: Logger;
}

export interface EventDeliveryWorker {
  /** Fans out and delivers everything due now; resolves to how many deliveries succeeded. */
  drain(): Promise<number>;
  /** Stops after the delivery in progress; unattempted claims are handed back. */
  stop(): Promise<void>;
}

const BATCH_SIZE = 20;
// Longer than a batch can take (20 × the 10 s request timeout).
export const LEASE_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_RETRY_DELAY_SECONDS = 3600;
const STREAM_MAX_LENGTH = 100_000;
const MAX_ERROR_LENGTH = 300;
export const FINISHED_EVENT_RETENTION_SECONDS = 7 * 24 * 3600;

/** Back-off after the n-th failed attempt: 5 s, 10 s, 20 s, … at most 1 h. */
export function deliveryRetryDelaySeconds(attempts: number): number {
  return Math.min(2 ** (attempts - 1) * 5, MAX_RETRY_DELAY_SECONDS);
}

// Addresses a webhook must not reach unless WEBHOOK_ALLOW_PRIVATE: the provider's own
// network (loopback, private ranges, link-local and cloud metadata, unique-local IPv6).
const privateRanges = new BlockList();
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [['::', 127], ['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) privateRanges.addSubnet(network, prefix, 'ipv6');

/** The eight 16-bit groups of a valid IPv6 address (isIP said 6), a dotted IPv4 tail included. */
function ipv6Groups(address: string): number[] {
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const [before, after] = [groups(head), groups(tail ?? '')];
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

// IPv6 addresses that a gateway turns into an IPv4 one are judged by that IPv4 address:
// NAT64's well-known prefix 64:ff9b::/96 (RFC 6052; DNS64 gives public hosts such addresses,
// so the prefix as a whole cannot be refused) and 6to4's 2002::/16 (RFC 3056).
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const ipv4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) return ipv4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return ipv4(groups[1]!, groups[2]!);
  return undefined;
}

function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return privateRanges.check(mapped, 'ipv4');
  if (isIP(address) !== 6) return privateRanges.check(address, 'ipv4');
  const embedded = embeddedIpv4(address);
  return privateRanges.check(address, 'ipv6') || (embedded !== undefined && privateRanges.check(embedded, 'ipv4'));
}

const PRIVATE_DESTINATION = 'webhook URL resolves to a private address (WEBHOOK_ALLOW_PRIVATE is off)';

// The name is checked in the connection's own lookup, so the address judged is the address
// connected to: a name answering a public address to a separate check and a private one to
// the connection a moment later (DNS rebinding) cannot pass.
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', undefined);
    if (addresses.length === 0 || addresses.some(({ address }) => isPrivateAddress(address))) return callback(new Error(PRIVATE_DESTINATION), '', undefined);
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** POSTs `body`; resolves to the answer's status. Redirects are not followed (a 3xx is a failure). */
function postWebhook(url: URL, body: string, headers: Record<string, string>, publicOnly: boolean): Promise<number> {
  // An address written in the URL is never looked up: it is judged here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (publicOnly && isIP(literal) && isPrivateAddress(literal)) return Promise.reject(new Error(PRIVATE_DESTINATION));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(publicOnly ? { lookup: publicOnlyLookup } : {}) },
      (response) => {
        // The body is never read (a receiver's answer is not kept).
        response.on('error', () => {});
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, MAX_ERROR_LENGTH);
}

export function envelopeOf(delivery: ClaimedDelivery): EventEnvelope {
  const { event } = delivery;
  return { id: event.id, type: event.type as EventEnvelope['type'], created_at: event.createdAt.toISOString(), data: event.data as never };
}

export function createEventDeliveryWorker(options: EventDeliveryOptions): EventDeliveryWorker {
  const { db, redis, config, logger } = options;
  const streams: DeliveryTarget[] = [...(redis ? (['redis_stream'] as const) : []), ...(config.NATS_URL ? (['nats'] as const) : [])];
  let nats: Promise<{ connection: NatsConnection; jetstream: boolean }> | undefined;
  let stopping = false;
  let running: Promise<number> | undefined;

  // JetStream (acknowledged, deduplicated by event id) when a stream takes the subject;
  // core NATS otherwise. Decided once per connection.
  const natsConnection = () => {
    nats ??= import('nats').then(async ({ connect }) => {
      const connection = await connect({ servers: config.NATS_URL!, name: 'keyhold', timeout: 5000 });
      const jetstream = await connection
        .jetstreamManager({ timeout: 2000 })
        .then((manager) => manager.streams.find(config.EVENTS_NATS_SUBJECT))
        .then(
          () => true,
          () => false,
        );
      return { connection, jetstream };
    });
    // A failed connection is retried at the next delivery, not cached forever.
    nats.catch(() => (nats = undefined));
    return nats;
  };

  const send: Record<DeliveryTarget, (delivery: ClaimedDelivery, body: string) => Promise<void>> = {
    async webhook(delivery, body) {
      const webhook = delivery.webhook;
      if (!webhook) throw new Error('webhook removed');
      const url = new URL(webhook.url);
      const secret = openWebhookSecret(options.webhookKey, webhook.id, webhook.secretEncrypted);
      const status = await postWebhook(
        url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'Keyhold-Webhooks/1',
          'keyhold-event-id': delivery.event.id,
          'keyhold-signature': webhookSignature(secret, Math.floor(Date.now() / 1000), body),
        },
        !config.WEBHOOK_ALLOW_PRIVATE,
      );
      if (status < 200 || status >= 300) throw new Error(`webhook answered HTTP ${status}`);
    },
    async redis_stream(delivery, body) {
      if (!redis) throw new Error('Redis (REDIS_URL or REDIS_CLUSTER_NODES) is not set on this node');
      const { event } = delivery;
      await redis.xadd(`${config.REDIS_PREFIX}events`, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', 'id', event.id, 'type', event.type, 'created_at', event.createdAt.toISOString(), 'event', body);
    },
    async nats(delivery, body) {
      if (!config.NATS_URL) throw new Error('NATS_URL is not set on this node');
      const { connection, jetstream } = await natsConnection();
      const payload = new TextEncoder().encode(body);
      if (jetstream) {
        await connection.jetstream().publish(config.EVENTS_NATS_SUBJECT, payload, { msgID: delivery.event.id, timeout: 5000 });
      } else {
        connection.publish(config.EVENTS_NATS_SUBJECT, payload);
        // Flushed: the server has it (core NATS has no per-message acknowledgement).
        await connection.flush();
      }
    },
  };

  const deliver = async (delivery: ClaimedDelivery): Promise<boolean> => {
    const body = JSON.stringify(envelopeOf(delivery));
    try {
      await send[delivery.target](delivery, body);
      await markDelivered(db, delivery.id);
      return true;
    } catch (error) {
      const reason = describeError(error);
      if (delivery.attempts >= config.EVENTS_MAX_ATTEMPTS) {
        await markDeliveryFailed(db, delivery.id, reason);
        logger.error({ event: delivery.event.type, eventId: delivery.event.id, target: delivery.target, attempts: delivery.attempts, reason }, 'event delivery given up');
      } else {
        await scheduleDeliveryRetry(db, delivery.id, reason, deliveryRetryDelaySeconds(delivery.attempts));
        logger.warn({ event: delivery.event.type, eventId: delivery.event.id, target: delivery.target, attempts: delivery.attempts, reason }, 'event delivery failed; retrying later');
      }
      return false;
    }
  };

  const drainOnce = async (): Promise<number> => {
    let delivered = 0;
    while (!stopping && (await fanOutEvents(db, streams, 100)) > 0);
    for (;;) {
      if (stopping) break;
      const claimed = await claimDueDeliveries(db, { limit: BATCH_SIZE, leaseSeconds: LEASE_SECONDS });
      if (claimed.length === 0) break;
      // Only a full batch means more were waiting; otherwise this pass is done (and a
      // delivery that just failed waits for its back-off, not for the next claim).
      const more = claimed.length === BATCH_SIZE;
      for (const [index, delivery] of claimed.entries()) {
        if (stopping) {
          await releaseDeliveries(db, claimed.slice(index).map((rest) => rest.id));
          break;
        }
        if (await deliver(delivery)) delivered++;
      }
      if (!more) break;
    }
    return delivered;
  };

  return {
    async drain() {
      // One drain at a time per node (the poller and a test, say).
      while (running) await running.catch(() => 0);
      running = drainOnce();
      try {
        return await running;
      } finally {
        running = undefined;
      }
    },
    async stop() {
      stopping = true;
      await running?.catch(() => 0);
      const open = await nats?.catch(() => undefined);
      await open?.connection.drain().catch(() => {});
    },
  };
}

/** Removes events delivered everywhere (or given up) more than a week ago. */
export const deleteDeliveredEvents = (db: Kysely<Database>) => deleteFinishedEvents(db, FINISHED_EVENT_RETENTION_SECONDS);
