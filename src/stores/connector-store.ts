// Connectors (upstream identity providers) in SQL. Secrets arrive here already sealed.
import type { Kysely, Selectable } from 'kysely';
import type { ConnectorTable, Database } from '#src/stores/schema.ts';

export type ConnectorRow = Selectable<ConnectorTable>;

export interface NewConnectorRow {
  id: string;
  type: string;
  name: string;
  clientId: string;
  secretsEncrypted: string;
  settings: Record<string, unknown>;
}

/** Inserts a connector; false when the id is taken. */
export async function insertConnectorRow(db: Kysely<Database>, connector: NewConnectorRow): Promise<boolean> {
  const inserted = await db
    .insertInto('connectors')
    .values({
      id: connector.id,
      type: connector.type,
      name: connector.name,
      client_id: connector.clientId,
      secrets_encrypted: connector.secretsEncrypted,
      settings: JSON.stringify(connector.settings),
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export function findConnectorRow(db: Kysely<Database>, id: string): Promise<ConnectorRow | undefined> {
  return db.selectFrom('connectors').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every connector in a stable order: the order they were created in. */
export function listConnectorRows(db: Kysely<Database>): Promise<ConnectorRow[]> {
  return db.selectFrom('connectors').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Connectors in id order after `cursor` (an id), at most `limit`. */
export function listConnectorRowPage(db: Kysely<Database>, page: { cursor?: string; limit: number }): Promise<ConnectorRow[]> {
  let query = db.selectFrom('connectors').selectAll().orderBy('id').limit(page.limit);
  if (page.cursor !== undefined) query = query.where('id', '>', page.cursor);
  return query.execute();
}

export async function deleteConnectorRow(db: Kysely<Database>, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom('connectors').where('id', '=', id).returning('id').executeTakeFirst();
  return deleted !== undefined;
}

export async function updateConnectorRow(db: Kysely<Database>, id: string, changes: { name: string; clientId: string; secretsEncrypted: string; settings: Record<string, unknown> }): Promise<void> {
  await db
    .updateTable('connectors')
    .set({ name: changes.name, client_id: changes.clientId, secrets_encrypted: changes.secretsEncrypted, settings: JSON.stringify(changes.settings) })
    .where('id', '=', id)
    .execute();
}
