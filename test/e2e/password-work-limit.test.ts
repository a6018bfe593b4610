// Password hashing is bounded: UV_THREADPOOL_SIZE hashes at once, ARGON2_QUEUE waiting;
// beyond that a sign-in is answered 503 with Retry-After (server_busy), never queued
// without bound, and the refused attempt neither counts as a wrong password nor locks.
import test from 'ava';
import * as oidc from 'openid-client';
import { KeyholdError } from '#src/errors.ts';
import { createPasswordHasher, hashPrimitives } from '#src/services/passwords.ts';
import { createWorkGate } from '#src/services/work-gate.ts';
import { Browser } from '../helpers/browser.ts';
import { alertText } from '../helpers/page.ts';
import { atRedirectUri, createUser, discover, openAuthorization, registerClient } from '../helpers/oidc.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let config: oidc.Configuration;

test.before(async () => {
  // One hash at a time and nobody waiting: the second concurrent sign-in is refused.
  server = await startTestServer({ redis: false, env: { UV_THREADPOOL_SIZE: '1', ARGON2_QUEUE: '0', LOCKOUT_THRESHOLD: '2' } });
  config = await discover(server, await registerClient(server, { first_party: true }));
});
test.after.always(async () => {
  await server?.stop();
});

test.serial('a sign-in while every hashing slot is taken gets 503 with Retry-After; the same sign-in works once one frees', async (t) => {
  const user = await createUser(server);
  let free!: () => void;
  const held = server.keyhold.passwordWork.run(() => new Promise<void>((resolve) => (free = resolve)));
  t.deepEqual(server.keyhold.passwordWork.load(), { running: 1, waiting: 0 });

  const browser = new Browser();
  let { page } = await openAuthorization(config, { scope: 'openid' }, browser);
  // Tried more often than the lockout threshold: refusals for load are not wrong passwords.
  for (let attempt = 0; attempt < 3; attempt++) {
    const busy = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { follow: false });
    t.is(busy.status, 503);
    t.is(busy.headers.get('retry-after'), '1');
    t.is(alertText(busy), 'Too many sign-ins at this moment. Try again in a few seconds.');
    t.notRegex(busy.body, new RegExp(user.password));
    // The form comes back for another try.
    page = busy;
  }

  free();
  await held;
  const signedIn = await browser.submit(page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.true(atRedirectUri(signedIn.url), `${signedIn.status} ${alertText(signedIn)}`);
  t.deepEqual(server.keyhold.passwordWork.load(), { running: 0, waiting: 0 });
});

test('the gate: runs `concurrency` at once, queues `queue` in order, refuses the rest with server_busy', async (t) => {
  const gate = createWorkGate({ concurrency: 2, queue: 1, retryAfterSeconds: 3 });
  const releases: Array<() => void> = [];
  const order: number[] = [];
  const job = (id: number) => gate.run(() => new Promise<number>((resolve) => releases.push(() => (order.push(id), resolve(id)))));
  const running = [job(1), job(2)];
  const queued = job(3);
  const refused = await t.throwsAsync(job(4), { instanceOf: KeyholdError });
  t.is((refused as KeyholdError).code, 'server_busy');
  t.is((refused as KeyholdError).status, 503);
  t.deepEqual((refused as KeyholdError).headers, { 'Retry-After': '3' });
  t.deepEqual(gate.load(), { running: 2, waiting: 1 });
  releases[0]!();
  await running[0];
  // The freed slot went to the queued job at once.
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(gate.load(), { running: 2, waiting: 0 });
  releases[1]!();
  releases[2]!();
  t.deepEqual(await Promise.all([...running, queued]), [1, 2, 3]);
  t.deepEqual(gate.load(), { running: 0, waiting: 0 });
  // A job that throws gives its slot back too.
  await t.throwsAsync(gate.run(() => Promise.reject(new Error('boom'))), { message: 'boom' });
  t.deepEqual(gate.load(), { running: 0, waiting: 0 });
});

test('the hasher: a refusal is an error, never "wrong password"', async (t) => {
  const parameters = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
  const gate = createWorkGate({ concurrency: 1, queue: 0 });
  const hasher = createPasswordHasher(parameters, { primitives: hashPrimitives, gate });
  const stored = await hasher.hash('correct horse battery staple');
  let free!: () => void;
  const held = gate.run(() => new Promise<void>((resolve) => (free = resolve)));
  const refused = await t.throwsAsync(hasher.verify(stored, 'correct horse battery staple'));
  t.is((refused as KeyholdError).code, 'server_busy');
  free();
  await held;
  t.true(await hasher.verify(stored, 'correct horse battery staple'));
});
