// The SQL outbox of outgoing mail (`mail_outbox`). Requests only insert rows, inside their
// own transaction when they have one, so a mail exists exactly when the change that caused
// it was committed; workers on any node claim due rows, send them and record the outcome.
import { sql, type Kysely, type Transaction } from 'kysely';
import { claimDueRows } from '#src/stores/lease-claim.ts';
import type { Database } from '#src/stores/schema.ts';

export interface NewOutboxMail {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  /** The text and HTML parts, sealed by the mailer: links and codes never lie in clear. */
  bodyEncrypted: string;
}

export interface OutboxMail {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  bodyEncrypted: string | null;
  /** Only for messages queued before bodies were sealed. */
  legacyBody?: { text: string; html: string };
  /** Attempts so far, including the one this claim starts. */
  attempts: number;
  createdAt: Date;
}

export async function insertOutboxMail(executor: Kysely<Database> | Transaction<Database>, mail: NewOutboxMail): Promise<void> {
  await executor
    .insertInto('mail_outbox')
    .values({
      id: mail.id,
      recipient: mail.recipient,
      template: mail.template,
      subject: mail.subject,
      body_encrypted: mail.bodyEncrypted,
      next_attempt_at: sql<Date>`now()`,
      created_at: sql<Date>`now()`,
    })
    .execute();
}

/** Claims up to `limit` due messages for one worker, leased for `leaseSeconds` (lease-claim.ts). */
export async function claimDueOutboxMails(db: Kysely<Database>, options: { limit: number; leaseSeconds: number }): Promise<OutboxMail[]> {
  const rows = await claimDueRows(db, 'mail_outbox', options);
  return rows
    .map((row) => ({
      id: row.id,
      recipient: row.recipient,
      template: row.template,
      subject: row.subject,
      bodyEncrypted: row.body_encrypted,
      ...(row.text_body !== null && row.html_body !== null ? { legacyBody: { text: row.text_body, html: row.html_body } } : {}),
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
    }))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

// Once a message is out (or given up), its body has no use left and holds live secrets.
const noBody = { body_encrypted: null, text_body: null, html_body: null } as const;

/** Records delivery and drops the body; the row stays (without content) for the export and cleanup. */
export async function markOutboxMailSent(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ sent_at: sql<Date>`now()`, ...noBody }).where('id', '=', id).execute();
}

/** Records a failed attempt and makes the message due again after `delaySeconds`. */
export async function scheduleOutboxMailRetry(db: Kysely<Database>, id: string, error: string, delaySeconds: number): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ next_attempt_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})`, last_error: error })
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

/** Gives up on a message: it stays in the table, with its last error but no body, for operators. */
export async function markOutboxMailFailed(db: Kysely<Database>, id: string, error: string): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({ failed_at: sql<Date>`now()`, last_error: error, ...noBody })
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

/**
 * Hands claimed but unattempted messages back (a worker stopping mid-batch), due at once
 * and without the attempt their claim counted, instead of waiting for the lease to end.
 */
export async function releaseOutboxMails(db: Kysely<Database>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('mail_outbox')
    .set((eb) => ({ next_attempt_at: sql<Date>`now()`, attempts: eb('attempts', '-', 1) }))
    .where('id', 'in', ids)
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .execute();
}

const DELETE_BATCH = 1000;

/** Deletes sent messages older than `olderThanSeconds`, in batches; returns how many. */
export async function deleteSentOutboxMails(db: Kysely<Database>, olderThanSeconds: number): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`
      with batch as (
        select id from mail_outbox
        where sent_at < now() - make_interval(secs => ${olderThanSeconds})
        limit ${DELETE_BATCH}
        for update skip locked
      )
      delete from mail_outbox m using batch
      where m.id = batch.id
    `.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < DELETE_BATCH) return total;
  }
}

/** What was mailed to an address (templates and times, never bodies), newest first: for the data export. */
export function outboxMailsTo(db: Kysely<Database>, recipient: string, limit: number) {
  return db.selectFrom('mail_outbox').select(['template', 'created_at', 'sent_at']).where('recipient', '=', recipient).orderBy('created_at', 'desc').limit(limit).execute();
}

/** Drops the messages to an address that are not sent yet (an erased account's). */
export async function deleteUnsentMailsTo(executor: Kysely<Database> | Transaction<Database>, recipient: string): Promise<void> {
  await executor.deleteFrom('mail_outbox').where('recipient', '=', recipient).where('sent_at', 'is', null).execute();
}
