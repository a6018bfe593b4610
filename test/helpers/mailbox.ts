// A mailbox on a real SMTP server in the test process (./smtp.ts) that Keyhold sends to
// through SMTP_URL. Keyhold's mail worker is drained explicitly (run the server with a long
// MAIL_POLL_INTERVAL), so a test decides when mail goes out and can tell "nothing was sent"
// from "not sent yet".
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestFn } from 'ava';
import type { AddressObject, ParsedMail } from 'mailparser';
import type * as oidc from 'openid-client';
import { discover, registerClient } from './oidc.ts';
import { startTestServer, type TestServer } from './server.ts';
import { startSmtpServer } from './smtp.ts';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Every http(s) address in the text part, in order. */
  links: string[];
  /** The six-digit code of a verification mail ("Your code: 123456"), if any. */
  code?: string;
  parsed: ParsedMail;
}

export interface Mailbox {
  /** smtp://127.0.0.1:<port>, for Keyhold's SMTP_URL. */
  url: string;
  /** Every message received so far, in arrival order. */
  readonly received: readonly ReceivedMail[];
  /** Tells the mailbox how to make Keyhold send what it queued (its mail worker's drain). */
  attach(drain: () => Promise<number>): void;
  /**
   * Sends everything Keyhold queued, then waits for the first message to `to` whose
   * subject matches and that no earlier call returned; fails after `timeoutMs`.
   */
  next(to: string, subject?: RegExp, options?: { timeoutMs?: number }): Promise<ReceivedMail>;
  /** Sends everything queued, then returns the messages to `to` not taken by next() yet (and takes them). */
  flush(to: string): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** The standard Keyhold mail env for a test server using this mailbox. */
export function mailEnv(mailbox: Mailbox): Record<string, string> {
  // An hour between polls: only drain() sends.
  return { SMTP_URL: mailbox.url, MAIL_POLL_INTERVAL: '3600' };
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((entry) => entry.value.flatMap((address) => (address.address ? [address.address.toLowerCase()] : [])));
}

export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  let drain: (() => Promise<number>) | undefined;

  const server = await startSmtpServer({
    onMessage(parsed) {
      const text = parsed.text ?? '';
      received.push({
        to: addresses(parsed.to),
        subject: parsed.subject ?? '',
        text,
        html: typeof parsed.html === 'string' ? parsed.html : '',
        links: [...text.matchAll(/https?:\/\/\S+/g)].map((match) => match[0]),
        code: /code: (\d{6})\b/i.exec(text)?.[1],
        parsed,
      });
    },
  });

  const sendQueued = async () => {
    if (!drain) throw new Error('mailbox.attach(keyhold.mailWorker.drain) was not called');
    await drain();
  };
  const pending = (to: string) => received.filter((mail) => !taken.has(mail) && mail.to.includes(to.toLowerCase()));

  return {
    url: server.url,
    received,
    attach(fn) {
      drain = fn;
    },
    async next(to, subject, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 10_000);
      for (;;) {
        await sendQueued();
        const match = pending(to).find((mail) => !subject || subject.test(mail.subject));
        if (match) {
          taken.add(match);
          return match;
        }
        if (Date.now() > deadline) {
          const seen = pending(to).map((mail) => mail.subject);
          throw new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''}; unread for that address: ${JSON.stringify(seen)}`);
        }
        await sleep(50);
      }
    },
    async flush(to) {
      await sendQueued();
      const mails = pending(to);
      for (const mail of mails) taken.add(mail);
      return mails;
    },
    close: server.close,
  };
}

export interface ServerWithMailbox {
  server: TestServer;
  mailbox: Mailbox;
  /** openid-client configuration for a (non-first-party) client registered on the server. */
  config: oidc.Configuration;
  stop(): Promise<void>;
}

/** A test server whose mail goes to a fresh in-process mailbox, sent when a test reads it. */
export async function startServerWithMailbox(env: Record<string, string> = {}): Promise<ServerWithMailbox> {
  const mailbox = await startMailbox();
  const server = await startTestServer({ env: { ...mailEnv(mailbox), ...env } });
  // Work a response left running (a reset request's mail) is finished before mail is sent.
  mailbox.attach(async () => {
    await server.keyhold.background.settled();
    return server.keyhold.mailWorker.drain();
  });
  return {
    server,
    mailbox,
    config: await discover(server, await registerClient(server)),
    async stop() {
      await server.stop();
      await mailbox.close();
    },
  };
}

/**
 * Registers hooks that start `start()` before the file's tests and stop it after them, and
 * returns its parts to read inside the tests (reading them before the start throws).
 */
export function startedForTests<T extends { stop(): Promise<void> }>(test: TestFn, start: () => Promise<T>): T {
  let started: T | undefined;
  test.before(async () => {
    started = await start();
  });
  test.after.always(async () => {
    await started?.stop();
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!started) throw new Error(`read ${String(key)} of the test server before it started (read it inside a test)`);
      return started[key as keyof T];
    },
  });
}

/** A server with a mailbox (startServerWithMailbox) for the tests of one file. */
export const serverWithMailboxForTests = (test: TestFn, env: Record<string, string> = {}) => startedForTests(test, () => startServerWithMailbox(env));
