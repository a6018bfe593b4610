// The bare-machine default: no DATABASE_URL, no REDIS_URL. Embedded PGlite under DATA_DIR and
// the SQL adapter for engine state; everything survives a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { createUser, discover, login, registerClient } from '../helpers/oidc.ts';
import { startTestServer } from '../helpers/server.ts';

test('embedded database and SQL engine state persist across a restart', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-embedded-'));
  try {
    const first = await startTestServer({ embedded: true, dataDir });
    t.is(first.keyhold.databaseKind, 'pglite');
    t.is(first.keyhold.redis, undefined);
    const client = await registerClient(first, { first_party: true });
    const user = await createUser(first);
    const { tokens } = await login(await discover(first, client), user, { scope: 'openid offline_access', prompt: 'consent' });
    const kids = ((await (await fetch(`${first.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    await first.stop();

    const second = await startTestServer({ embedded: true, dataDir });
    try {
      // Same signing keys, same clients, same accounts, and the refresh token still rotates.
      const secondKids = ((await (await fetch(`${second.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      t.deepEqual(secondKids, kids);
      const config = await discover(second, client);
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      t.truthy(refreshed.access_token);
      t.is((await second.keyhold.accounts.findById(user.id))?.email, user.email);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
