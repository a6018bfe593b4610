// Mail from enqueue to mailbox: a real SMTP server in this process (smtp-server, messages
// parsed with mailparser), a fresh Postgres database per test (and an embedded one for the
// restart case), and the worker as Keyhold runs it. Workers are built with a poll interval
// of an hour so that each test decides when mail is sent, except the one about polling.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { sql, type Kysely } from 'kysely';
import { simpleParser } from 'mailparser';
import { pino, type Logger } from 'pino';
import { deriveKey } from '#src/crypto.ts';
import { mailTemplates } from '#src/mail/messages.ts';
import { retryDelaySeconds, startMailWorker, type MailWorker, type MailWorkerConfig } from '#src/services/mail-worker.ts';
import { createMailer, MailError, mailTemplateFields, renderMail, type Mailer } from '#src/services/mailer.ts';
import { openDatabase, type DatabaseHandle } from '#src/stores/database.ts';
import { deleteSentOutboxMails } from '#src/stores/mail-outbox-store.ts';
import { migrateToLatest } from '#src/stores/migrations.ts';
import type { Database } from '#src/stores/schema.ts';
import { openTestDatabase, type TestDatabaseHandle } from './helpers/database.ts';
import { startSmtpServer, type SmtpServer } from './helpers/smtp.ts';

const issuer = 'https://id.keyhold.test';
const mailFrom = 'Keyhold <no-reply@keyhold.test>';

/** A real SMTP server for one test. */
async function smtpServer(t: ExecutionContext): Promise<SmtpServer> {
  const smtp = await startSmtpServer();
  t.teardown(smtp.close);
  return smtp;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

function tempDir(t: ExecutionContext): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-mail-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A fresh, migrated Postgres database for one test; `connect()` opens another handle, like another node. */
async function postgres(t: ExecutionContext): Promise<TestDatabaseHandle> {
  const database = await openTestDatabase({ poolMax: 5 });
  t.teardown(database.close);
  return database;
}

interface CapturedLogs {
  logger: Logger;
  text(): string;
}

function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }), text: () => lines.join('') };
}

function workerConfig(overrides: Partial<MailWorkerConfig> & { DATA_DIR: string }): MailWorkerConfig {
  return { MAIL_FROM: mailFrom, MAIL_POLL_INTERVAL: 3600, MAIL_MAX_ATTEMPTS: 3, ISSUER: issuer, ...overrides };
}

// The key that seals bodies in the outbox; the mailer and the worker share it, as in Keyhold.
const bodyKey = deriveKey('test-secret-0123456789abcdef0123456789abcdef', 'mail-bodies');

function startWorker(t: ExecutionContext, options: Omit<Parameters<typeof startMailWorker>[0], 'bodyKey'>): MailWorker {
  const worker = startMailWorker({ ...options, bodyKey });
  t.teardown(() => worker.stop());
  return worker;
}

function mailerFor(db: Kysely<Database>): Mailer {
  return createMailer(db, { issuer, defaultLocale: 'en', bodyKey });
}

async function outboxRow(db: Kysely<Database>, id: string) {
  return db
    .selectFrom('mail_outbox')
    .select(['attempts', 'last_error', 'sent_at', 'failed_at', sql<number>`extract(epoch from next_attempt_at - now())::float8`.as('due_in')])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function makeDue(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', id).execute();
}

const silent = pino({ level: 'silent' });

test('a queued message reaches the SMTP server with text and escaped HTML parts, and is marked sent', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  const logs = captureLogs();
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t) }), logger: logs.logger });
  const link = 'https://id.keyhold.test/verify/flow-0123456789';
  const code = '493817';

  const id = await mailerFor(db).enqueue({
    to: 'ana@example.org',
    template: 'verification',
    data: { link, code, name: 'Ana <script>alert(1)</script>' },
  });
  t.is(await worker.drain(), 1);

  t.is(smtp.received.length, 1);
  const mail = smtp.received[0]!;
  t.is(mail.to && !Array.isArray(mail.to) ? mail.to.text : undefined, 'ana@example.org');
  t.is(mail.from?.text, '"Keyhold" <no-reply@keyhold.test>');
  t.is(mail.subject, 'Confirm your email address for Keyhold');
  t.is(mail.messageId, `<${id}@id.keyhold.test>`);
  const text = mail.text ?? '';
  const html = typeof mail.html === 'string' ? mail.html : '';
  t.true(text.includes(link) && text.includes(code) && text.includes('Keyhold'));
  t.true(html.includes(`href="${link}"`) && html.includes(code) && html.includes('Keyhold'));
  t.true(html.includes('Ana &lt;script&gt;alert(1)&lt;/script&gt;'));
  t.false(html.includes('<script>'));

  const row = await outboxRow(db, id);
  t.truthy(row.sent_at);
  t.is(row.attempts, 1);
  t.is(row.failed_at, null);
  t.is(await worker.drain(), 0, 'a sent message is not sent again');

  // One line per message, naming it, but nothing a reader of the logs could use.
  const logged = logs.text();
  t.true(logged.includes(id) && logged.includes('"template":"verification"'));
  t.false(logged.includes(code) || logged.includes(link) || logged.includes('ana@'));
});

/** Every column of every outbox row, as one string: what a reader of the table (or a backup) sees. */
async function outboxDump(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ row: string }>`select row_to_json(m)::text as row from mail_outbox m`.execute(db);
  return rows.map((entry) => entry.row).join('\n');
}

test('the outbox never holds a link or code in clear: bodies are sealed while queued and gone once sent', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t) }), logger: silent });
  const link = 'https://id.keyhold.test/recovery/reset?token=sealed-secret-4711';
  const code = '604213';
  const id = await mailerFor(db).enqueue({ to: 'hal@example.org', template: 'email_change_verify', data: { link, code } });

  const queued = await outboxDump(db);
  t.true(queued.includes(id), 'the row is there');
  t.false(queued.includes('sealed-secret-4711') || queued.includes(code), 'no secret in any column while queued');
  const row = await db.selectFrom('mail_outbox').select(['body_encrypted', 'text_body', 'html_body']).where('id', '=', id).executeTakeFirstOrThrow();
  t.regex(row.body_encrypted ?? '', /^v1\./);
  t.is(row.text_body, null);

  t.is(await worker.drain(), 1);
  const text = smtp.received[0]!.text ?? '';
  t.true(text.includes(link) && text.includes(code), 'the recipient gets the real link and code');
  const sent = await db.selectFrom('mail_outbox').select(['body_encrypted', 'text_body', 'html_body', 'sent_at']).where('id', '=', id).executeTakeFirstOrThrow();
  t.truthy(sent.sent_at);
  t.deepEqual([sent.body_encrypted, sent.text_body, sent.html_body], [null, null, null]);
  t.false((await outboxDump(db)).includes(code));
});

test('a sealed body copied onto another row does not open there: the worker gives up on it without sending', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t), MAIL_MAX_ATTEMPTS: 1 }), logger: silent });
  const mailer = mailerFor(db);
  const secret = await mailer.enqueue({ to: 'ivy@example.org', template: 'password_reset', data: { link: 'https://id.keyhold.test/r?token=1' } });
  const decoy = await mailer.enqueue({ to: 'mallory@example.org', template: 'password_changed', data: { recoveryUrl: 'https://id.keyhold.test/recovery' } });
  const { body_encrypted } = await db.selectFrom('mail_outbox').select('body_encrypted').where('id', '=', secret).executeTakeFirstOrThrow();
  await db.updateTable('mail_outbox').set({ body_encrypted }).where('id', '=', decoy).execute();
  await db.deleteFrom('mail_outbox').where('id', '=', secret).execute();

  t.is(await worker.drain(), 0);
  t.is(smtp.received.length, 0);
  const row = await outboxRow(db, decoy);
  t.truthy(row.failed_at);
  t.regex(row.last_error ?? '', /cannot decrypt/);
});

test('a message the server refuses is retried with back-off and delivered once the server recovers', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t) }), logger: silent });
  const id = await mailerFor(db).enqueue({ to: 'bo@example.org', template: 'password_reset', data: { link: 'https://id.keyhold.test/reset/abc' } });

  smtp.rejecting = true;
  t.is(await worker.drain(), 0);
  let row = await outboxRow(db, id);
  t.is(row.attempts, 1);
  t.is(row.sent_at, null);
  t.is(row.failed_at, null);
  t.regex(row.last_error ?? '', /550/);
  t.false((row.last_error ?? '').includes('/reset/abc'));
  t.true(row.due_in > retryDelaySeconds(1) - 3 && row.due_in <= retryDelaySeconds(1), `due in ${row.due_in}s`);

  t.is(await worker.drain(), 0, 'not due again before its back-off');
  t.is((await outboxRow(db, id)).attempts, 1);

  smtp.rejecting = false;
  await makeDue(db, id);
  t.is(await worker.drain(), 1);
  t.is(smtp.received.length, 1);
  t.is(smtp.received[0]!.subject, 'Reset your Keyhold password');
  row = await outboxRow(db, id);
  t.truthy(row.sent_at);
  t.is(row.attempts, 2);
});

test('after MAIL_MAX_ATTEMPTS refusals a message is marked failed, with growing delays in between', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  smtp.rejecting = true;
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t), MAIL_MAX_ATTEMPTS: 3 }), logger: silent });
  const id = await mailerFor(db).enqueue({ to: 'cy@example.org', template: 'password_changed', data: { recoveryUrl: 'https://id.keyhold.test/recover' } });

  const delays: number[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    t.is(await worker.drain(), 0);
    const row = await outboxRow(db, id);
    t.is(row.attempts, attempt);
    if (attempt < 3) {
      t.is(row.failed_at, null);
      delays.push(row.due_in);
      await makeDue(db, id);
    } else {
      t.truthy(row.failed_at);
      t.is(row.sent_at, null);
      t.regex(row.last_error ?? '', /mailbox unavailable/);
    }
  }
  t.true(delays[1]! > delays[0]!, `delays ${delays.join(', ')}`);
  t.is(smtp.started, 3);

  // Failed is final, even when the row's time comes again.
  await makeDue(db, id);
  smtp.rejecting = false;
  t.is(await worker.drain(), 0);
  t.is(smtp.started, 3);
  t.is(retryDelaySeconds(30), 3600, 'back-off is capped at an hour');
});

test('with the SMTP server unreachable, enqueue still returns at once and the worker only schedules a retry', async (t) => {
  const { db } = await postgres(t);
  const worker = startWorker(t, {
    db,
    config: workerConfig({ SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`, DATA_DIR: tempDir(t) }),
    logger: silent,
  });
  const mailer = mailerFor(db);

  const id = await mailer.enqueue({ to: 'di@example.org', template: 'invitation', data: { link: 'https://id.keyhold.test/invite/x', code: '111222' } });
  // Enqueueing only writes the outbox: no attempt at the (unreachable) server was made.
  const queued = await outboxRow(db, id);
  t.is(queued.attempts, 0, 'enqueue does not touch SMTP');
  t.is(queued.last_error, null);

  t.is(await worker.drain(), 0);
  const row = await outboxRow(db, id);
  t.is(row.attempts, 1);
  t.is(row.sent_at, null);
  t.regex(row.last_error ?? '', /ECONNREFUSED|connect/i);
  t.true(row.due_in > 0);

  // The worker is still usable afterwards.
  const second = await mailer.enqueue({ to: 'di@example.org', template: 'email_change_notice', data: { newEmail: 'new@example.org', link: 'https://id.keyhold.test/email-change/cancel?token=u' } });
  t.is(await worker.drain(), 0);
  t.is((await outboxRow(db, second)).attempts, 1);
});

test('without SMTP_URL each message is written as an .eml file under DATA_DIR/outbox and logged', async (t) => {
  const { db } = await postgres(t);
  const dataDir = tempDir(t);
  const logs = captureLogs();
  const worker = startWorker(t, { db, config: workerConfig({ DATA_DIR: dataDir }), logger: logs.logger });
  const id = await mailerFor(db).enqueue({
    to: 'eve@example.org',
    template: 'email_change_verify',
    data: { link: 'https://id.keyhold.test/email/confirm', code: '777000' },
  });

  t.is(await worker.drain(), 1);
  const outbox = path.join(dataDir, 'outbox');
  const files = readdirSync(outbox);
  t.is(files.length, 1);
  t.regex(files[0]!, new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z-${id}\\.eml$`));
  const raw = readFileSync(path.join(outbox, files[0]!));
  t.true(raw.toString('utf8').includes('Subject: Confirm your new email address for Keyhold'));
  const parsed = await simpleParser(raw);
  t.is(parsed.subject, 'Confirm your new email address for Keyhold');
  t.true((parsed.text ?? '').includes('777000'));
  t.truthy((await outboxRow(db, id)).sent_at);
  // The operator's outbox holds live links: the server's user alone may read it.
  t.is(statSync(path.join(outbox, files[0]!)).mode & 0o777, 0o600);
  t.true(logs.text().includes(files[0]!));
  t.false(logs.text().includes('777000'));
});

test('two workers draining the same outbox at once send every message exactly once', async (t) => {
  const { db, connect } = await postgres(t);
  const other = await connect();
  const smtp = await smtpServer(t);
  // A little latency per message makes the two workers' batches overlap.
  smtp.delayMs = 5;
  const config = workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t) });
  const first = startWorker(t, { db, config, logger: silent });
  const second = startWorker(t, { db: other.db, config, logger: silent });
  const mailer = mailerFor(db);
  const count = 35;
  for (let index = 0; index < count; index++) {
    await mailer.enqueue({ to: `user${index}@example.org`, template: 'password_reset', data: { link: `https://id.keyhold.test/reset/${index}` } });
  }

  const [sentByFirst, sentBySecond] = await Promise.all([first.drain(), second.drain()]);
  t.is(sentByFirst + sentBySecond, count);
  t.is(smtp.received.length, count);
  const recipients = new Set(smtp.received.map((mail) => (mail.to && !Array.isArray(mail.to) ? mail.to.text : '')));
  t.is(recipients.size, count);
  const rows = await db.selectFrom('mail_outbox').select(['attempts', 'sent_at']).execute();
  t.true(rows.every((row) => row.sent_at !== null && row.attempts === 1));
});

test('a row another node is claiming is skipped, not waited for; a claimed row waits for its lease', async (t) => {
  const { db, connect } = await postgres(t);
  const otherNode = await connect();
  const smtp = await smtpServer(t);
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t) }), logger: silent });
  const mailer = mailerFor(db);
  const enqueueReset = (to: string) => mailer.enqueue({ to, template: 'password_reset', data: { link: 'https://id.keyhold.test/reset/k' } });
  const locked = await enqueueReset('locked@example.org');
  const free = await enqueueReset('free@example.org');

  // Another node's claim statement, caught while it holds the row lock.
  let releaseLock!: () => void;
  let lockTaken!: () => void;
  const lockHeld = new Promise<void>((resolve) => (lockTaken = resolve));
  const otherClaim = otherNode.db.transaction().execute(async (trx) => {
    await trx.selectFrom('mail_outbox').select('id').where('id', '=', locked).forUpdate().execute();
    lockTaken();
    await new Promise<void>((resolve) => (releaseLock = resolve));
  });
  await lockHeld;
  const outcome = await Promise.race([worker.drain(), sleep(5000).then(() => 'blocked' as const)]);
  releaseLock();
  await otherClaim;
  t.is(outcome, 1);
  t.deepEqual(smtp.received.map((mail) => (mail.to && !Array.isArray(mail.to) ? mail.to.text : '')), ['free@example.org']);
  t.truthy((await outboxRow(db, free)).sent_at);

  // A completed claim by a node that then died: leased, so not sent until the lease ends.
  await db.updateTable('mail_outbox').set({ next_attempt_at: sql<Date>`now() + interval '10 minutes'`, attempts: 1 }).where('id', '=', locked).execute();
  t.is(await worker.drain(), 0);
  await makeDue(db, locked);
  t.is(await worker.drain(), 1);
  t.is(smtp.received.length, 2);
  t.is((await outboxRow(db, locked)).attempts, 2);
});

const survivesRestart = test.macro(async (t, kind: 'postgres' | 'pglite') => {
  const smtp = await smtpServer(t);
  const dataDir = tempDir(t);
  let reopen: () => Promise<DatabaseHandle>;
  if (kind === 'postgres') {
    const { connect } = await postgres(t);
    reopen = connect;
  } else {
    reopen = () => openDatabase({ DATA_DIR: dataDir, DATABASE_POOL_MAX: 1 });
  }

  const before = await reopen();
  await migrateToLatest(before.db);
  const id = await mailerFor(before.db).enqueue({
    to: 'fay@example.org',
    template: 'registration_duplicate',
    data: { loginUrl: 'https://id.keyhold.test/login', recoveryUrl: 'https://id.keyhold.test/recover' },
  });
  await before.close();

  const after = await reopen();
  t.teardown(() => after.close());
  const worker = startWorker(t, { db: after.db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: dataDir }), logger: silent });
  t.is(await worker.drain(), 1);
  t.is(smtp.received[0]?.subject, 'Someone tried to register with your email address');
  t.true((smtp.received[0]?.text ?? '').includes('https://id.keyhold.test/recover'));
  t.truthy((await outboxRow(after.db, id)).sent_at);
  await worker.stop();
});

test('queued mail survives a restart (Postgres)', survivesRestart, 'postgres');
test('queued mail survives a restart (embedded PGlite)', survivesRestart, 'pglite');

test('the worker polls on its own every MAIL_POLL_INTERVAL seconds', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t), MAIL_POLL_INTERVAL: 1 }), logger: silent });
  await mailerFor(db).enqueue({ to: 'gil@example.org', template: 'password_reset', data: { link: 'https://id.keyhold.test/reset/p' } });
  await smtp.waitForReceived(1, 5000);
  t.is(smtp.received[0]!.subject, 'Reset your Keyhold password');
});

test('stop lets the send in progress finish and hands back the rest of the batch', async (t) => {
  const { db } = await postgres(t);
  const smtp = await smtpServer(t);
  smtp.delayMs = 300;
  const worker = startWorker(t, { db, config: workerConfig({ SMTP_URL: smtp.url, DATA_DIR: tempDir(t) }), logger: silent });
  const mailer = mailerFor(db);
  const ids: string[] = [];
  for (let index = 0; index < 3; index++) {
    ids.push(await mailer.enqueue({ to: `hal${index}@example.org`, template: 'password_reset', data: { link: `https://id.keyhold.test/reset/${index}` } }));
  }

  const draining = worker.drain();
  while (smtp.started === 0) await sleep(10);
  await worker.stop();
  t.is(await draining, 1);
  t.is(smtp.received.length, 1);

  const rows = await db.selectFrom('mail_outbox').select(['id', 'attempts', 'sent_at', sql<boolean>`next_attempt_at <= now()`.as('due')]).execute();
  t.is(rows.filter((row) => row.sent_at).length, 1);
  // The two not attempted are due again at once, their claim not counted as an attempt.
  t.deepEqual(
    rows.filter((row) => !row.sent_at).map((row) => [row.attempts, row.due]),
    [
      [0, true],
      [0, true],
    ],
  );
});

test('a mail enqueued in a transaction exists only if the transaction commits', async (t) => {
  const { db } = await postgres(t);
  const mailer = mailerFor(db);
  const message = { to: 'ida@example.org', template: 'password_changed', data: { recoveryUrl: 'https://id.keyhold.test/recover' } } as const;

  await t.throwsAsync(
    db.transaction().execute(async (trx) => {
      await mailer.enqueue(message, trx);
      throw new Error('the change failed');
    }),
    { message: 'the change failed' },
  );
  const committed = await db.transaction().execute((trx) => mailer.enqueue(message, trx));
  const rows = await db.selectFrom('mail_outbox').select('id').execute();
  t.deepEqual(rows, [{ id: committed }]);
});

test('sent messages older than seven days are deleted; recent, pending and failed ones stay', async (t) => {
  const { db } = await postgres(t);
  const mailer = mailerFor(db);
  const message = { to: 'jo@example.org', template: 'password_reset', data: { link: 'https://id.keyhold.test/reset/j' } } as const;
  const [old, recent, pending, failed] = await Promise.all([1, 2, 3, 4].map(() => mailer.enqueue(message)));
  await db.updateTable('mail_outbox').set({ sent_at: sql<Date>`now() - interval '8 days'` }).where('id', '=', old!).execute();
  await db.updateTable('mail_outbox').set({ sent_at: sql<Date>`now() - interval '6 days'` }).where('id', '=', recent!).execute();
  await db.updateTable('mail_outbox').set({ failed_at: sql<Date>`now() - interval '30 days'` }).where('id', '=', failed!).execute();

  t.is(await deleteSentOutboxMails(db, 7 * 24 * 3600), 1);
  const left = (await db.selectFrom('mail_outbox').select('id').execute()).map((row) => row.id).sort();
  t.deepEqual(left, [recent!, pending!, failed!].sort());
});

test('every template renders in English with its data, names Keyhold, and refuses bad data', (t) => {
  const sample: Record<string, string> = {
    link: 'https://id.keyhold.test/l',
    code: '123456',
    loginUrl: 'https://id.keyhold.test/login',
    recoveryUrl: 'https://id.keyhold.test/recover',
    newEmail: 'new@example.org',
    name: 'Kim',
    minutes: '5',
    securityUrl: 'https://id.keyhold.test/account/security',
    remaining: '9',
  };
  for (const template of mailTemplates) {
    const data = Object.fromEntries(mailTemplateFields[template].required.map((key) => [key, sample[key]!]));
    const rendered = renderMail(template, { ...data, name: 'Kim' }, { issuer, locale: 'en' });
    t.truthy(rendered.subject, template);
    for (const value of Object.values(data)) {
      t.true(rendered.text.includes(value), `${template} text has ${value}`);
      t.true(rendered.html.includes(value), `${template} html has ${value}`);
    }
    t.true(rendered.text.includes('Keyhold') && rendered.html.includes('Keyhold'), template);
    t.true(rendered.text.startsWith('Hello Kim,'), template);
    t.throws(() => renderMail(template, {}, { issuer, locale: 'en' }), { instanceOf: MailError }, `${template} without data`);
  }

  const unknownLocale = renderMail('password_reset', { link: sample.link! }, { issuer, locale: 'xx-YY' });
  t.is(unknownLocale.subject, 'Reset your Keyhold password');
  t.regex(unknownLocale.html, /<html lang="en">/);
  t.throws(() => renderMail('password_reset', { link: sample.link!, password: 'hunter2' }, { issuer, locale: 'en' }), { message: /password/ });
  t.throws(() => renderMail('password_reset', { link: 'javascript:alert(1)' }, { issuer, locale: 'en' }), { instanceOf: MailError });
  // A line break in a name cannot add lines to the text part.
  t.true(renderMail('password_reset', { link: sample.link!, name: 'Lou\nFake: line' }, { issuer, locale: 'en' }).text.startsWith('Hello Lou Fake: line,\n'));
});

test('enqueue refuses recipients that are not a single plain address', async (t) => {
  const { db } = await postgres(t);
  const mailer = mailerFor(db);
  for (const to of ['not-an-address', 'a@example.org, b@example.org', 'a@example.org\r\nBcc: b@example.org', 'Name <a@example.org>']) {
    await t.throwsAsync(mailer.enqueue({ to, template: 'password_reset', data: { link: 'https://id.keyhold.test/r' } }), { instanceOf: MailError }, to);
  }
  t.is((await db.selectFrom('mail_outbox').select('id').execute()).length, 0);
});
