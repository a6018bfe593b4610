// Staged key rotation: published before signing, retired keys kept in JWKS while tokens
// they signed live, removed afterwards; and the stage rules as pure functions.
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createResource } from '#src/services/resources.ts';
import { ensureSigningKeys, keyStage, listKeys, loadEngineJwks, retireKey, rotateKeys } from '#src/services/signing-keys.ts';
import type { SigningKeyRow } from '#src/stores/signing-key-store.ts';
import { registerClient, tokenRequest } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://api.example.test';
let server: TestServer;

test.before(async () => {
  // Long enough that the reload and token request between rotation and activation fit in it
  // on a loaded machine; the test waits for the activation time itself, not a fixed delay.
  server = await startTestServer({ env: { KEY_ACTIVATION_DELAY: '4' } });
  await createResource(server.keyhold.db, { identifier: API, scopes: ['read'] });
});
test.after.always(async () => {
  await server?.stop();
});

async function publishedKids(): Promise<string[]> {
  const response = await fetch(`${server.issuer}/jwks`);
  const { keys } = (await response.json()) as { keys: Array<{ kid: string; d?: string }> };
  for (const key of keys) if ('d' in key) throw new Error('private key material in JWKS');
  return keys.map((key) => key.kid);
}

async function issueJwt(client: { clientId: string; clientSecret?: string }): Promise<string> {
  return (await tokenRequest(server, client, { grant_type: 'client_credentials', resource: API, scope: 'read' })).body.access_token as string;
}

test.serial('rotation publishes the new key before it signs; old tokens keep verifying', async (t) => {
  const { db } = server.keyhold;
  const client = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const [original] = await listKeys(db);
  t.is(original!.stage, 'signing');
  t.deepEqual(await publishedKids(), [original!.kid]);
  const before = await issueJwt(client);
  t.is(decodeProtectedHeader(before).kid, original!.kid);

  const [created] = await rotateKeys(db, server.keyhold.keyOptions);
  t.is(created!.stage, 'published');
  t.true(await server.keyhold.engine.reload());
  t.deepEqual((await publishedKids()).sort(), [original!.kid, created!.kid].sort());
  // Published, not yet signing.
  t.is(decodeProtectedHeader(await issueJwt(client)).kid, original!.kid);

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(created!.activatesAt) + 250 - Date.now())));
  t.true(await server.keyhold.engine.reload());
  const after = await issueJwt(client);
  t.is(decodeProtectedHeader(after).kid, created!.kid);
  const stages = Object.fromEntries((await listKeys(db)).map((key) => [key.kid, key.stage]));
  t.is(stages[original!.kid], 'retired');
  t.is(stages[created!.kid], 'signing');

  // The retired key stays published: a token signed before the rotation still verifies
  // against a freshly fetched JWKS.
  const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  await t.notThrowsAsync(jwtVerify(before, jwks, { audience: API }));
  await t.notThrowsAsync(jwtVerify(after, jwks, { audience: API }));
});

test.serial('the last key able to sign cannot be retired; unknown kids are refused', async (t) => {
  const { db, keyOptions } = server.keyhold;
  const signing = (await listKeys(db)).find((key) => key.stage === 'signing')!;
  const error = await t.throwsAsync(retireKey(db, keyOptions, signing.kid));
  t.regex(error!.message, /only RS256 key that can sign/);
  await t.throwsAsync(retireKey(db, keyOptions, 'no-such-kid'), { message: /no signing key/ });
});

test.serial('a retired key leaves JWKS once everything it signed has expired', async (t) => {
  const { db, keyOptions } = server.keyhold;
  const retired = (await listKeys(db)).find((key) => key.stage === 'retired')!;
  const afterRemoval = new Date(Date.parse(retired.removesAt!) + 1000);
  const { keys } = await loadEngineJwks(db, keyOptions, afterRemoval);
  t.false(keys.some((key) => key.kid === retired.kid));
  t.false((await listKeys(db)).some((key) => key.kid === retired.kid));
  // ensureSigningKeys does not add keys while a usable one exists.
  await ensureSigningKeys(db, keyOptions);
  t.is((await listKeys(db)).length, 1);
});

test('key stages follow from timestamps', (t) => {
  const at = (iso: string) => new Date(iso);
  const row = {
    kid: 'k',
    alg: 'RS256',
    created_at: at('2026-01-01T00:00:00Z'),
    activates_at: at('2026-01-01T01:00:00Z'),
    retired_at: at('2026-01-02T00:00:00Z'),
    removes_at: at('2026-01-03T00:00:00Z'),
  } as SigningKeyRow;
  t.is(keyStage(row, at('2026-01-01T00:30:00Z')), 'published');
  t.is(keyStage(row, at('2026-01-01T01:00:00Z')), 'signing');
  t.is(keyStage(row, at('2026-01-02T00:00:00Z')), 'retired');
  t.is(keyStage(row, at('2026-01-03T00:00:00Z')), 'removed');
  t.is(keyStage({ ...row, retired_at: null, removes_at: null }, at('2030-01-01T00:00:00Z')), 'signing');
});
