// Runs the example service: it creates an order at the example API and lists the orders,
// printing one JSON document; on any failure one line on stderr and exit code 1.
//   KEYHOLD_ISSUER=http://localhost:3000 CLIENT_ID=… CLIENT_SECRET=… \
//   API_URL=http://127.0.0.1:4000 API_RESOURCE=https://orders.example.com \
//     npx tsx examples/service/main.ts
import * as oidc from 'openid-client';
import { createServiceClient } from './client.ts';

const { KEYHOLD_ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL, API_RESOURCE, SCOPE = 'orders:read orders:write' } = process.env;

async function main(): Promise<unknown> {
  if (!KEYHOLD_ISSUER || !CLIENT_ID || !CLIENT_SECRET || !API_URL || !API_RESOURCE) {
    throw new Error('set KEYHOLD_ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL and API_RESOURCE');
  }
  const client = await createServiceClient({ issuer: KEYHOLD_ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, resource: API_RESOURCE, scope: SCOPE });
  const expectOk = async (response: Response) => {
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${response.url} answered ${response.status} ${String(body.error)}: ${String(body.error_description ?? '')}`);
    return body;
  };
  const created = await expectOk(await client.call(`${API_URL}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'paper, 500 sheets' }) }));
  const listed = await expectOk(await client.call(`${API_URL}/orders`));
  return { created, listed };
}

/** One line saying what went wrong; for Keyhold's refusals, its OAuth error code. */
async function describe(error: unknown): Promise<string> {
  if (error instanceof oidc.ResponseBodyError) return `Keyhold answered ${error.status} ${error.error}`;
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    const body = (await error.response.json().catch(() => ({}))) as { error?: string };
    return `Keyhold answered ${error.status} ${body.error ?? error.cause[0]?.scheme}`;
  }
  return error instanceof Error ? error.message : String(error);
}

try {
  console.log(JSON.stringify(await main()));
} catch (error) {
  console.error(`examples/service: ${await describe(error)}`);
  process.exit(1);
}
