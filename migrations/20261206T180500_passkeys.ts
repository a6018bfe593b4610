import { sql, type Kysely } from 'kysely';

// Passkeys (WebAuthn) are second factors like the others, kind `passkey` in mfa_factors,
// with what verification needs: the credential id (unique: one credential, one account),
// its public key (COSE, base64url), the signature counter, transports, whether it is synced
// (multi-device) and backed up, and the name its owner gave it. `webauthn_challenges` holds
// the challenges handed out, HMAC'd, each usable once before it expires.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('mfa_factors')
    .addColumn('credential_id', 'text')
    .addColumn('public_key', 'text')
    .addColumn('sign_count', 'bigint')
    .addColumn('transports', 'text')
    .addColumn('device_type', 'text')
    .addColumn('backed_up', 'boolean')
    .addColumn('name', 'text')
    .execute();
  await db.schema.createIndex('mfa_factors_credential').unique().on('mfa_factors').column('credential_id').execute();

  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('account_id', 'uuid', (col) => col.references('accounts.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (col) => col.notNull())
    .addColumn('challenge_hash', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute();
  await sql`delete from mfa_factors where kind = 'passkey'`.execute(db);
  await db.schema.dropIndex('mfa_factors_credential').execute();
  for (const column of ['credential_id', 'public_key', 'sign_count', 'transports', 'device_type', 'backed_up', 'name']) {
    await db.schema.alterTable('mfa_factors').dropColumn(column).execute();
  }
}
