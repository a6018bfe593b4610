// The bare-machine default: no DATABASE_URL, no REDIS_URL. Embedded PGlite under DATA_DIR and
// the SQL adapter for engine state; everything survives a restart.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, parseForms } from '../helpers/browser.ts';
import { atRedirectUri, authorizationRequest, createUser, discover, login, registerClient } from '../helpers/oidc.ts';
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

/** Every entry under `root` (root included) whose mode lets group or others in. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const visit = (entry: string) => {
    const stats = statSync(entry);
    if ((stats.mode & 0o077) !== 0) found.push(`${path.relative(root, entry) || '.'} ${(stats.mode & 0o777).toString(8)}`);
    if (stats.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(root);
  return found;
}

test('DATA_DIR and everything in it is private to the server user, like a Postgres data directory', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-modes-'));
  // As an older Keyhold (or mkdir -p) left it: world-readable.
  chmodSync(dataDir, 0o755);
  try {
    // No KEYHOLD_SECRET: the development secret is generated into DATA_DIR too.
    const server = await startTestServer({ embedded: true, dataDir, env: { KEYHOLD_SECRET: '' } });
    try {
      // A mail in the outbox: the registration code goes to DATA_DIR/outbox as an .eml file.
      const config = await discover(server, await registerClient(server));
      const browser = new Browser();
      const { url } = await authorizationRequest(config, { prompt: 'create' });
      const page = await browser.get(url.toString(), atRedirectUri);
      const csrf = parseForms(page.body, page.url)[0]!.fields.find((field) => field.name === 'csrf')!.value;
      const body = new URLSearchParams({ csrf, email: 'modes@example.test', password: 'a perfectly fine passphrase', name: 'Modes' });
      t.is((await browser.request(page.url, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 200);
      const outbox = path.join(dataDir, 'outbox');
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          if (readdirSync(outbox).some((name) => name.endsWith('.eml'))) break;
        } catch {
          // not created yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const names = readdirSync(dataDir);
      t.true(names.includes('keyhold-secret'));
      t.true(names.includes('pglite'));
      t.true(readdirSync(outbox).some((name) => name.endsWith('.eml')));
      t.true(readdirSync(path.join(dataDir, 'pglite')).length > 0);
      // While it runs, no directory lets anyone else in (so no file can be reached), and
      // every file Keyhold itself wrote is private.
      t.deepEqual(openToOthers(dataDir).filter((entry) => statSync(path.join(dataDir, entry.split(' ')[0]!)).isDirectory() || !entry.startsWith('pglite/')), []);
    } finally {
      await server.stop();
    }
    // Stopped, every file and directory is private.
    t.deepEqual(openToOthers(dataDir), []);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
