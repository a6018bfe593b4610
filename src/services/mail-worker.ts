// Sends what the mailer queued. Every node runs one worker; the outbox's claim-with-lease
// lets them share the queue without sending a message twice at the same time. Delivery is
// at least once: a worker that dies after the SMTP server accepted a message, but before
// recording it, leaves it to be sent again when its lease runs out.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { MailError, openMailBody } from '#src/services/mailer.ts';
import {
  claimDueOutboxMails,
  deleteSentOutboxMails,
  markOutboxMailFailed,
  markOutboxMailSent,
  releaseOutboxMails,
  scheduleOutboxMailRetry,
  type OutboxMail,
} from '#src/stores/mail-outbox-store.ts';
import { ensurePrivateDirectory } from '#src/stores/data-dir.ts';
import type { Database } from '#src/stores/schema.ts';

export type MailWorkerConfig = Pick<Config, 'SMTP_URL' | 'MAIL_FROM' | 'MAIL_POLL_INTERVAL' | 'MAIL_MAX_ATTEMPTS' | 'DATA_DIR' | 'ISSUER'>;

export interface MailWorkerOptions {
  db: Kysely<Database>;
  config: MailWorkerConfig;
  logger: Logger;
  /** Opens the sealed bodies the mailer stored (DerivedKeys.mailBodies). */
  bodyKey: Buffer;
  /** Replaces the transport chosen from SMTP_URL (SMTP, or .eml files when unset). */
  transport?: Transporter;
}

export interface MailWorker {
  /** Stops polling; resolves once the send in progress, if any, is finished. */
  stop(): Promise<void>;
  /** Sends everything due now; resolves to how many messages were delivered. */
  drain(): Promise<number>;
}

const BATCH_SIZE = 10;
// Longer than a whole batch can take against an unresponsive server (three 10 s timeouts
// per message), so a lease never runs out while its worker is still sending.
const LEASE_SECONDS = 600;
const SMTP_TIMEOUT_MS = 10_000;
const MAX_RETRY_DELAY_SECONDS = 3600;
const SENT_RETENTION_SECONDS = 7 * 24 * 3600;
const CLEANUP_INTERVAL_MS = 3600_000;
const MAX_ERROR_LENGTH = 500;

/** Exponential back-off after the n-th failed attempt: 10 s, 20 s, 40 s, … at most 1 h. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 ** attempts * 5, MAX_RETRY_DELAY_SECONDS);
}

// What is kept of an error: its message only, on one line, without credentials an SMTP URL
// may carry, and short. Bodies (links, codes) never appear in transport errors.
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/\/\/[^\s/@]*@/g, '//[redacted]@')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_ERROR_LENGTH);
}

function recipientDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function startMailWorker(options: MailWorkerOptions): MailWorker {
  const { db, config, logger } = options;
  const ownsTransport = !options.transport;
  const writesFiles = ownsTransport && !config.SMTP_URL;
  // nodemailer is loaded with the first mail: an idle node never pays its memory.
  let transport: Transporter | undefined = options.transport;
  const openTransport = async (): Promise<Transporter> => {
    if (transport) return transport;
    const { createTransport } = await import('nodemailer');
    transport ??= config.SMTP_URL
      ? // Timeouts keep an unresponsive server from holding a claimed batch indefinitely.
        createTransport({ url: config.SMTP_URL, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS })
      : createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    return transport;
  };
  const outboxDirectory = path.resolve(config.DATA_DIR, 'outbox');
  const messageIdDomain = new URL(config.ISSUER).hostname;

  async function writeEml(mail: OutboxMail, message: Buffer): Promise<string> {
    // Private like the rest of DATA_DIR; an older, too open outbox is closed (with a warning).
    ensurePrivateDirectory(outboxDirectory, (details, message) => logger.warn(details, message));
    const timestamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(outboxDirectory, `${timestamp}-${mail.id}.eml`);
    // The file holds live links and codes: readable by the server's user only (the
    // directory too, so no other user can even list what was sent).
    await writeFile(file, message, { mode: 0o600 });
    return file;
  }

  async function deliver(mail: OutboxMail): Promise<boolean> {
    const log = { mailId: mail.id, template: mail.template, recipientDomain: recipientDomain(mail.recipient), attempt: mail.attempts };
    let file: string | undefined;
    try {
      const body = mail.bodyEncrypted ? openMailBody(options.bodyKey, mail.id, mail.bodyEncrypted) : mail.legacyBody;
      if (!body) throw new MailError('the message has no body');
      const info = await (await openTransport()).sendMail({
        from: config.MAIL_FROM,
        to: mail.recipient,
        subject: mail.subject,
        text: body.text,
        html: body.html,
        // Stable across retries, so a receiver can recognise a message delivered twice.
        messageId: `<${mail.id}@${messageIdDomain}>`,
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      if (writesFiles) file = await writeEml(mail, info.message as Buffer);
    } catch (error) {
      const reason = describeError(error);
      if (mail.attempts >= config.MAIL_MAX_ATTEMPTS) {
        await markOutboxMailFailed(db, mail.id, reason);
        logger.error({ ...log, error: reason }, 'mail failed permanently');
      } else {
        const delay = retryDelaySeconds(mail.attempts);
        await scheduleOutboxMailRetry(db, mail.id, reason, delay);
        logger.warn({ ...log, error: reason, retryInSeconds: delay }, 'mail not sent, will retry');
      }
      return false;
    }
    await markOutboxMailSent(db, mail.id);
    logger.info(file ? { ...log, file } : log, file ? 'mail written to outbox file' : 'mail sent');
    return true;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastCleanup = 0;
  // One pass at a time per worker, so an explicit drain() and a poll never interleave.
  let queue: Promise<unknown> = Promise.resolve();

  function serialised<T>(task: () => Promise<T>): Promise<T> {
    const result = queue.then(task);
    queue = result.catch(() => {});
    return result;
  }

  async function sendDue(): Promise<number> {
    let delivered = 0;
    while (!stopped) {
      const batch = await claimDueOutboxMails(db, { limit: BATCH_SIZE, leaseSeconds: LEASE_SECONDS });
      if (batch.length === 0) break;
      for (const [index, mail] of batch.entries()) {
        if (stopped) {
          await releaseOutboxMails(db, batch.slice(index).map((entry) => entry.id));
          return delivered;
        }
        if (await deliver(mail)) delivered += 1;
      }
    }
    return delivered;
  }

  async function poll(): Promise<void> {
    await sendDue();
    if (Date.now() - lastCleanup >= CLEANUP_INTERVAL_MS) {
      lastCleanup = Date.now();
      const deleted = await deleteSentOutboxMails(db, SENT_RETENTION_SECONDS);
      if (deleted > 0) logger.info({ deleted }, 'deleted old sent mail');
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      serialised(poll)
        .catch((error) => logger.warn({ err: { message: describeError(error) } }, 'mail worker poll failed'))
        .finally(schedule);
    }, config.MAIL_POLL_INTERVAL * 1000);
    timer.unref();
  }
  schedule();

  return {
    drain() {
      if (stopped) return Promise.resolve(0);
      return serialised(sendDue);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await queue;
      if (ownsTransport) transport?.close();
    },
  };
}
