// Bulk import of accounts from another system, with the password hashes it kept: one
// JSON object per line. A line that cannot be imported is reported by number and the rest
// go on; accounts whose email already exists are left as they are, so an interrupted
// import can simply be run again. Imported bcrypt hashes become argon2id at each
// account's first successful login (see passwords.ts).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { emailSchema } from '#src/services/accounts.ts';
import { passwordHashFormat } from '#src/services/passwords.ts';
import { insertAccount, type NewAccount } from '#src/stores/account-store.ts';
import { emitEvent } from '#src/services/events.ts';
import { singleLine, singleLineText } from '#src/text-input.ts';
import type { Database } from '#src/stores/schema.ts';

export interface SkippedLine {
  /** 1-based, counting every line of the input. */
  line: number;
  reason: string;
}

export interface ImportSummary {
  imported: number;
  skipped: SkippedLine[];
}

// Large enough that a big file is not one round trip per transaction, small enough that
// a transaction does not hold locks for long.
const BATCH_SIZE = 500;

// Strict: a misspelt field ("emailVerified") must be refused, not silently dropped.
const importLineSchema = z.strictObject({
  email: emailSchema,
  password_hash: z.string().refine((hash) => passwordHashFormat(hash) !== undefined, 'unknown hash format (expected bcrypt $2a$, $2b$, $2y$ or $argon2id$)'),
  name: singleLineText(200).nullish(),
  email_verified: z.boolean().optional(),
  roles: z.array(singleLine(z.string().min(1))).optional(),
  tier: singleLine(z.string().min(1)).nullish(),
  tenant: singleLine(z.string().min(1)).nullish(),
});

type ParsedLine = { account: NewAccount } | { reason: string };

function parseLine(text: string, defaultRoles: readonly string[]): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the line, hash included.
    return { reason: 'not valid JSON' };
  }
  const parsed = importLineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { reason: issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message };
  }
  const line = parsed.data;
  return {
    account: {
      id: randomUUID(),
      email: line.email,
      name: line.name?.trim() || null,
      passwordHash: line.password_hash,
      emailVerified: line.email_verified ?? false,
      roles: [...new Set(line.roles ?? defaultRoles)],
      tier: line.tier ?? null,
      tenant: line.tenant ?? null,
    },
  };
}

/** Imports accounts from JSON lines, one transaction per batch; lines without roles get `defaultRoles`. */
export async function importAccounts(db: Kysely<Database>, lines: AsyncIterable<string> | Iterable<string>, defaultRoles: readonly string[] = []): Promise<ImportSummary> {
  let imported = 0;
  const skipped: SkippedLine[] = [];
  let batch: Array<{ line: number; account: NewAccount }> = [];

  async function flush(): Promise<void> {
    if (batch.length === 0) return;
    const pending = batch;
    batch = [];
    let batchImported = 0;
    const duplicates: SkippedLine[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const { line, account } of pending) {
          const inserted = await insertAccount(trx, account);
          if (inserted) {
            batchImported++;
            await emitEvent(trx, 'auth.user_created', { user_id: inserted.id, email: inserted.email, source: 'import' });
          } else duplicates.push({ line, reason: 'an account with this email already exists' });
        }
      });
    } catch (error) {
      throw new Error(
        `import stopped in lines ${pending[0]!.line}-${pending.at(-1)!.line} (${(error as Error).message}); ${imported} accounts were imported before them, and running the import again skips those`,
        { cause: error },
      );
    }
    imported += batchImported;
    skipped.push(...duplicates);
  }

  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber++;
    // A byte-order mark is what some editors and exporters start a UTF-8 file with.
    const text = (lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
    if (text === '') continue;
    const parsed = parseLine(text, defaultRoles);
    if ('reason' in parsed) skipped.push({ line: lineNumber, reason: parsed.reason });
    else batch.push({ line: lineNumber, account: parsed.account });
    if (batch.length >= BATCH_SIZE) await flush();
  }
  await flush();

  return { imported, skipped: skipped.sort((a, b) => a.line - b.line) };
}
