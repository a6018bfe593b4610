// Webhooks: where events are POSTed, and how each request is signed. The signing secret is
// shown once at creation and stored encrypted. A receiver checks
// `Keyhold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` over the
// raw body, compares in constant time, and refuses an old `t` (replays);
// `Keyhold-Event-Id` tells a redelivery (at least once) from a new event.
import { createHmac, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { decrypt, encrypt, randomToken } from '#src/crypto.ts';
import { KeyholdError } from '#src/errors.ts';
import { isEventType, type EventType } from '#src/services/event-types.ts';
import { deleteWebhook, insertWebhook, listWebhooks } from '#src/stores/event-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface Webhook {
  id: string;
  url: string;
  /** Empty: every event type. */
  events: string[];
  active: boolean;
  created_at: string;
}

export interface CreatedWebhook extends Webhook {
  /** Shown once; Keyhold keeps it encrypted. */
  secret: string;
}

const associatedData = (id: string) => `webhook-secret|${id}`;

export function sealWebhookSecret(key: Buffer, id: string, secret: string): string {
  return encrypt(key, secret, associatedData(id));
}

export function openWebhookSecret(key: Buffer, id: string, sealed: string): string {
  return decrypt(key, sealed, associatedData(id));
}

/** The Keyhold-Signature header value for `body` sent at `timestamp` (unix seconds). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

function parseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeyholdError('validation_failed', { params: { part: 'url' }, fields: { issues: [{ path: 'url', message: 'not a URL' }] } });
  }
  if (!['https:', 'http:'].includes(parsed.protocol) || parsed.username || parsed.password || parsed.hash) {
    throw new KeyholdError('validation_failed', { params: { part: 'url' }, fields: { issues: [{ path: 'url', message: 'must be an http(s) URL without credentials or fragment' }] } });
  }
  return parsed.toString();
}

function parseEvents(events: readonly string[]): EventType[] {
  const unknown = events.filter((type) => !isEventType(type));
  if (unknown.length > 0) {
    throw new KeyholdError('validation_failed', { params: { part: 'events' }, fields: { issues: unknown.map((type) => ({ path: 'events', message: `unknown event type ${type}` })) } });
  }
  return [...new Set(events)] as EventType[];
}

const toWebhook = (row: Awaited<ReturnType<typeof listWebhooks>>[number]): Webhook => ({
  id: row.id,
  url: row.url,
  events: row.events,
  active: row.active,
  created_at: new Date(row.created_at).toISOString(),
});

export interface WebhookService {
  create(input: { url: string; events?: readonly string[] }): Promise<CreatedWebhook>;
  list(): Promise<Webhook[]>;
  remove(id: string): Promise<boolean>;
}

export function createWebhookService(db: Kysely<Database>, secretKey: Buffer): WebhookService {
  return {
    async create(input) {
      const url = parseUrl(input.url);
      const events = parseEvents(input.events ?? []);
      const id = randomUUID();
      const secret = `whsec_${randomToken(32)}`;
      const row = await insertWebhook(db, { id, url, events, secretEncrypted: sealWebhookSecret(secretKey, id, secret) });
      return { ...toWebhook(row), secret };
    },
    async list() {
      return (await listWebhooks(db)).map(toWebhook);
    },
    remove: (id) => deleteWebhook(db, id),
  };
}
