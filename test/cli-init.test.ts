// keyhold init on Postgres: refuses production (demo credentials have no place there) and a
// bad --spa-origin; otherwise makes the quickstart's objects once, with the same rules as
// the server (the SPA is public, the service confidential with its allow-list), and a second
// run reports them as existing without showing any secret again.
import test from 'ava';
import { cliEnv, runKeyhold } from './helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from './helpers/infra.ts';

let database: TestDatabase;
test.before(async () => {
  database = await createTestDatabase();
});
test.after.always(async () => database?.drop());

const env = (settings: Record<string, string> = {}) => cliEnv({ DATABASE_URL: database.url, NODE_ENV: 'development', ...settings });

test.serial('refuses production and a bad origin, each in one line', async (t) => {
  const production = await runKeyhold(['init'], env({ NODE_ENV: 'production', ISSUER: 'https://id.example.test' }));
  t.is(production.code, 1);
  t.is(production.stderr, 'keyhold: init makes demo accounts and clients for a local trial; it does not run with NODE_ENV=production\n');
  const origin = await runKeyhold(['init', '--spa-origin', 'javascript:alert(1)'], env());
  t.is(origin.code, 2);
  t.is(origin.stderr, 'keyhold: --spa-origin must be an http:// or https:// URL\n');
});

test.serial('makes the quickstart once, then says what exists', async (t) => {
  const first = await runKeyhold(['init', '--email', 'first@example.test'], env());
  t.is(first.code, 0, first.stderr);
  const made = JSON.parse(first.stdout) as Record<string, Record<string, unknown>>;
  t.is(made.user!.status, 'created');
  t.true((made.user!.password as string).length >= 16);
  t.is(made.spa!.client_id, 'demo-spa');
  t.is(made.spa!.redirect_uri, 'http://localhost:5173/');
  t.is(made.service!.status, 'created');
  t.true((made.service!.client_secret as string).length >= 43);
  t.deepEqual(made.api!.scopes, ['orders:read', 'orders:write']);

  const shown = await runKeyhold(['client', 'show', '--id', 'demo-spa'], env());
  const spa = JSON.parse(shown.stdout) as { metadata?: Record<string, unknown> } & Record<string, unknown>;
  const metadata = (spa.metadata ?? spa) as Record<string, unknown>;
  t.is(metadata.token_endpoint_auth_method, 'none', 'the SPA is a public client');

  const second = await runKeyhold(['init', '--email', 'first@example.test'], env());
  t.is(second.code, 0, second.stderr);
  const again = JSON.parse(second.stdout) as Record<string, Record<string, unknown>>;
  t.deepEqual([again.user!.status, again.spa!.status, again.api!.status, again.service!.status], ['exists', 'exists', 'exists', 'exists']);
  t.false(second.stdout.includes(made.user!.password as string));
  t.false(second.stdout.includes(made.service!.client_secret as string));
});
