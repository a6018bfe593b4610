// A webhook receiver as a consumer would write one: a real HTTP server on loopback that
// checks `Keyhold-Signature` over the raw body (HMAC-SHA256 with the webhook's secret,
// constant-time compare, at most five minutes old) before it accepts an event. Forged or
// altered requests get 401; `failNext` makes it answer 500 to test retries.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, any>;
  /** The Keyhold-Event-Id header. */
  headerId: string;
}

export interface WebhookReceiver {
  url: string;
  /** Verified events, in arrival order (redeliveries included). */
  readonly events: ReceivedEvent[];
  /** Requests refused: bad or missing signature. */
  readonly refused: number;
  /** The signing secret to verify with (set after `webhook create`). */
  secret: string;
  /** Answer the next `count` verified requests with 500 (not recorded). */
  failNext(count: number): void;
  close(): Promise<void>;
}

const TOLERANCE_SECONDS = 300;

/** The receiver's check: true when `header` signs `body` with `secret` recently. */
export function verifySignature(secret: string, header: string | undefined, body: string, now = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > TOLERANCE_SECONDS || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(parts.v1!, 'hex'));
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const events: ReceivedEvent[] = [];
  let refused = 0;
  let failures = 0;
  const receiver = {
    url: '',
    events,
    get refused() {
      return refused;
    },
    secret: '',
    failNext(count: number) {
      failures = count;
    },
    close: async () => {},
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (request.method !== 'POST' || !verifySignature(receiver.secret, request.headers['keyhold-signature'] as string | undefined, body)) {
        refused++;
        response.writeHead(401).end();
        return;
      }
      if (failures > 0) {
        failures--;
        response.writeHead(500).end();
        return;
      }
      const event = JSON.parse(body) as Omit<ReceivedEvent, 'headerId'>;
      events.push({ ...event, headerId: String(request.headers['keyhold-event-id']) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/keyhold`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
