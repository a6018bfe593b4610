// Upstream identities linked to accounts: (connector, subject) → account, unique.
import type { Kysely, Selectable } from 'kysely';
import type { Database, FederatedIdentityTable } from '#src/stores/schema.ts';

export type FederatedIdentityRow = Selectable<FederatedIdentityTable>;

export function findFederatedIdentity(db: Kysely<Database>, connectorId: string, subject: string): Promise<FederatedIdentityRow | undefined> {
  return db.selectFrom('federated_identities').selectAll().where('connector_id', '=', connectorId).where('subject', '=', subject).executeTakeFirst();
}

export function listFederatedIdentities(db: Kysely<Database>, accountId: string): Promise<FederatedIdentityRow[]> {
  return db.selectFrom('federated_identities').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
}

/** Links an upstream identity; false when it is already linked (to this or another account). */
export async function insertFederatedIdentity(db: Kysely<Database>, identity: { connectorId: string; subject: string; accountId: string; email: string | null }): Promise<boolean> {
  const inserted = await db
    .insertInto('federated_identities')
    .values({ connector_id: identity.connectorId, subject: identity.subject, account_id: identity.accountId, email: identity.email, last_used_at: new Date() })
    .onConflict((conflict) => conflict.columns(['connector_id', 'subject']).doNothing())
    .returning('subject')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function touchFederatedIdentity(db: Kysely<Database>, connectorId: string, subject: string): Promise<void> {
  await db.updateTable('federated_identities').set({ last_used_at: new Date() }).where('connector_id', '=', connectorId).where('subject', '=', subject).execute();
}

export async function deleteFederatedIdentity(db: Kysely<Database>, accountId: string, connectorId: string, subject: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('federated_identities')
    .where('account_id', '=', accountId)
    .where('connector_id', '=', connectorId)
    .where('subject', '=', subject)
    .returning('subject')
    .executeTakeFirst();
  return deleted !== undefined;
}

/** Whether the account has a password (another way to sign in than its linked identities). */
export async function accountHasPassword(db: Kysely<Database>, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('accounts').select('password_hash').where('id', '=', accountId).executeTakeFirst();
  return Boolean(row?.password_hash);
}
