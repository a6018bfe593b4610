// examples/native as its header says: a native client with a loopback redirect (RFC 8252),
// run as a process; the browser (here the HTTP test browser) opens the URL it prints, signs
// in, and is sent back to the example's own loopback server on a port Keyhold never saw
// registered. The example then prints the profile from userinfo. A callback that does not
// carry the example's state is refused by it, not exchanged.
import { spawn } from 'node:child_process';
import test from 'ava';
import { Browser } from '../helpers/browser.ts';
import { repoRoot } from '../helpers/keyhold-process.ts';
import { createUser, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let keyhold: TestServer;

test.before(async () => {
  keyhold = await startTestServer({ env: { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none' } });
});
test.after.always(async () => keyhold?.stop());

function runNative(clientId: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/native/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ISSUER: keyhold.issuer, CLIENT_ID: clientId },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let buffered = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts.filter(Boolean));
    waiters.splice(0).forEach((wake) => wake());
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const line = async (index: number): Promise<Record<string, unknown>> => {
    while (lines.length <= index) {
      if (child.exitCode !== null) throw new Error(`examples/native exited: ${stderr}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
    }
    return JSON.parse(lines[index]!) as Record<string, unknown>;
  };
  return { line, exited, stderr: () => stderr };
}

const nativeClient = () =>
  registerClient(keyhold, { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code'], post_logout_redirect_uris: [] });

test('a native app signs in through its loopback redirect on a port of its choosing', async (t) => {
  const client = await nativeClient();
  const user = await createUser(keyhold);
  const native = runNative(client.clientId);
  const open = new URL((await native.line(0)).open as string);
  const redirectUri = new URL(open.searchParams.get('redirect_uri')!);
  t.is(redirectUri.hostname, '127.0.0.1');
  t.not(redirectUri.port, '', 'a port chosen at run time');
  t.is(open.searchParams.get('code_challenge_method'), 'S256');

  const atLoopback = (url: string) => url.startsWith(`${redirectUri.origin}/`);
  const browser = new Browser();
  let page = await browser.get(open.href, atLoopback);
  page = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atLoopback });
  if (/action="[^"]*\/confirm"/.test(page.body)) page = await browser.submit(page, /\/confirm$/, {}, { stopAt: atLoopback });
  t.true(atLoopback(page.url), page.url);
  const landed = await fetch(page.url);
  t.is(landed.status, 200);

  const result = await native.line(1);
  t.is(await native.exited, 0, native.stderr());
  t.truthy(result.sub);
  t.is((result.profile as { email?: string }).email, user.email, 'userinfo carries the email (the ID token does not)');
});

test('a callback with another state is refused by the example', async (t) => {
  const client = await nativeClient();
  const native = runNative(client.clientId);
  const open = new URL((await native.line(0)).open as string);
  const redirectUri = new URL(open.searchParams.get('redirect_uri')!);
  await fetch(`${redirectUri.origin}/callback?code=forged&state=someone-elses`);
  t.is(await native.exited, 1);
  t.regex(native.stderr(), /^examples\/native: invalid response encountered\n$/, 'openid-client refuses the unexpected state');
});
