// Engine events reach Keyhold on every engine instance: a key rotation makes the engine
// host build a new engine, and the listeners (src/oidc/events.ts) must come with it.
import test from 'ava';
import { rotateKeys } from '#src/services/signing-keys.ts';
import { registerClient, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ env: { KEY_ACTIVATION_DELAY: '0' } });
});
test.after.always(async () => {
  await server?.stop();
});

async function clientCredentialsIssued(): Promise<number> {
  const text = await (await fetch(`${server.issuer}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith('keyhold_tokens_issued_total{grant_type="client_credentials"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function clientCredentialsToken(client: { clientId: string; clientSecret?: string }): Promise<void> {
  const response = await tokenRequest(server, client, { grant_type: 'client_credentials' });
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(response.body)}`);
}

test('token issuance is counted before and after a key rotation rebuilds the engine', async (t) => {
  const client = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  t.is(await clientCredentialsIssued(), 0);

  await clientCredentialsToken(client);
  t.is(await clientCredentialsIssued(), 1);

  const before = server.keyhold.engine.provider;
  await rotateKeys(server.keyhold.db, server.keyhold.keyOptions);
  t.true(await server.keyhold.engine.reload());
  t.not(server.keyhold.engine.provider, before, 'the rotation built a new engine');

  await clientCredentialsToken(client);
  t.is(await clientCredentialsIssued(), 2);
});
