// The `keyhold` command beside a running server on the embedded database: the server holds
// the database, so the command goes through its control socket (DATA_DIR/control.sock) and
// the server runs it with its own rules. What the command made is then used for real: the
// client gets tokens, the account signs in. The socket is the server user's alone, answers
// garbage with an error line (and keeps serving), and leaves with the server, after which the
// command opens the database itself again.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import bcrypt from 'bcryptjs';
import * as oidc from 'openid-client';
import { cliEnv, runKeyhold } from '../helpers/cli.ts';
import { startKeyholdProcess, type KeyholdProcess } from '../helpers/keyhold-process.ts';
import { login } from '../helpers/oidc.ts';

let dataDir: string;
let server: KeyholdProcess | undefined;
const env = () => cliEnv({ DATA_DIR: dataDir, NODE_ENV: 'development', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' });

test.before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keyhold-beside-'));
  // Development, no KEYHOLD_SECRET: the server generates one into DATA_DIR; the command sent
  // through the socket needs none of its own.
  server = await startKeyholdProcess({ DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1', MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' });
});

test.after.always(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function json(t: import('ava').ExecutionContext, run: Awaited<ReturnType<typeof runKeyhold>>): Record<string, unknown> {
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr, '');
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

test.serial('the control socket is private to the server user', (t) => {
  const socket = statSync(path.join(dataDir, 'control.sock'));
  t.true(socket.isSocket());
  t.is(socket.mode & 0o777, 0o600);
  t.is(statSync(dataDir).mode & 0o077, 0, 'DATA_DIR is closed to others');
});

test.serial('client create and user create run beside the server, and what they made works', async (t) => {
  const client = json(
    t,
    await runKeyhold(['client', 'create', '--metadata', JSON.stringify({ client_name: 'Beside', redirect_uris: ['https://app.example.test/callback'], grant_types: ['authorization_code', 'client_credentials'] })], env()),
  );
  const clientId = client.client_id as string;
  const clientSecret = client.client_secret as string;
  t.truthy(clientSecret);

  // The password travels on stdin, through the socket, never in the argv the server sees.
  const user = json(t, await runKeyhold(['user', 'create', '--email', 'beside@example.test', '--password-stdin', '--verified'], env(), { stdin: 'quiet harbour lantern 42\n' }));
  t.is(user.email, 'beside@example.test');

  // An import file is read by the command (its working directory), not by the server.
  const importFile = path.join(dataDir, 'import.jsonl');
  const legacyHash = await bcrypt.hash('imported lantern 42', 4);
  writeFileSync(importFile, `${JSON.stringify({ email: 'imported@example.test', name: 'Imported', password_hash: legacyHash, email_verified: true })}\n`);
  const imported = json(t, await runKeyhold(['user', 'import', '--file', importFile], env()));
  t.is((imported as { imported?: number }).imported, 1, JSON.stringify(imported));

  const config = await oidc.discovery(new URL(server!.issuer), clientId, clientSecret, oidc.ClientSecretBasic(clientSecret), { execute: [oidc.allowInsecureRequests] });
  const grant = await oidc.clientCredentialsGrant(config);
  t.truthy(grant.access_token);
  const signedIn = await login(config, { email: 'beside@example.test', password: 'quiet harbour lantern 42' }, {}, undefined);
  t.is(signedIn.tokens.claims()!.email, undefined, 'no email without the email scope');
  t.truthy(signedIn.tokens.claims()!.sub);
  const importedSignIn = await login(config, { email: 'imported@example.test', password: 'imported lantern 42' });
  t.truthy(importedSignIn.tokens.access_token, 'the imported account signs in with its old password');

  const listing = await runKeyhold(['user', 'list'], env());
  t.log(`user list beside the server: ${Math.round(listing.ms)} ms`);
  const listed = json(t, listing);
  t.true(JSON.stringify(listed).includes('beside@example.test'));
});

test.serial('errors through the socket keep the contract: one line, usage errors exit 2', async (t) => {
  const usage = await runKeyhold(['client', 'nonsense'], env());
  t.is(usage.code, 2);
  t.is(usage.stdout, '');
  t.regex(usage.stderr, /^keyhold: unknown command "client nonsense" \(run "keyhold help"\)\n$/);
  const duplicate = await runKeyhold(['user', 'create', '--email', 'beside@example.test', '--password', 'another password 42'], env());
  t.is(duplicate.code, 1);
  t.regex(duplicate.stderr, /^keyhold: [^\n]+\n$/);
});

test.serial('garbage on the socket gets an error line and the server goes on', async (t) => {
  for (const garbage of ['not json\n', '{"argv":"user list"}\n', '{"argv":[1,2]}\n', '{"argv":["user","list"],"stdin":5}\n']) {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(path.join(dataDir, 'control.sock'));
      let body = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (body += chunk));
      socket.once('end', () => resolve(body));
      socket.once('error', reject);
      socket.end(garbage);
    });
    const answer = JSON.parse(reply) as { error?: string; usage?: boolean };
    t.is(typeof answer.error, 'string', garbage);
    t.true(answer.usage, garbage);
  }
  t.is((await fetch(`${server!.issuer}/readyz`)).status, 200);
});

test.serial('after the server stops, the socket is gone and the command opens the database itself', async (t) => {
  await server!.stop();
  t.false(statSync(path.join(dataDir, 'control.sock'), { throwIfNoEntry: false }) !== undefined);
  // The generated development secret is in DATA_DIR; the command reads it as the server did.
  const listed = json(t, await runKeyhold(['user', 'list'], cliEnv({ DATA_DIR: dataDir, NODE_ENV: 'development', KEYHOLD_SECRET: '' })));
  t.true(JSON.stringify(listed).includes('beside@example.test'));
});
