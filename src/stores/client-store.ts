import type { Kysely, Selectable } from 'kysely';
import type { ClientTable, Database } from '#src/stores/schema.ts';

export type ClientRow = Selectable<ClientTable>;

export function findClientRow(db: Kysely<Database>, clientId: string): Promise<ClientRow | undefined> {
  return db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** Every client's metadata alone (no secrets), e.g. to list redirect origins. */
export async function listClientMetadata(db: Kysely<Database>): Promise<Record<string, unknown>[]> {
  return (await db.selectFrom('clients').select('metadata').execute()).map((row) => row.metadata);
}

export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  secretEncrypted: string | null;
  firstParty: boolean;
  /** Absent: `default` on insert, unchanged on update. */
  tenant?: string;
}

function clientValues(client: ClientRecord) {
  return {
    client_id: client.clientId,
    metadata: JSON.stringify(client.metadata),
    secret_encrypted: client.secretEncrypted,
    first_party: client.firstParty,
    ...(client.tenant !== undefined ? { tenant: client.tenant } : {}),
  };
}

/** Inserts a client; false when the client_id is taken. */
export async function insertClientRow(db: Kysely<Database>, client: ClientRecord): Promise<boolean> {
  const inserted = await db
    .insertInto('clients')
    .values(clientValues(client))
    .onConflict((conflict) => conflict.column('client_id').doNothing())
    .returning('client_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function upsertClientRow(db: Kysely<Database>, client: ClientRecord): Promise<void> {
  await db
    .insertInto('clients')
    .values(clientValues(client))
    .onConflict((conflict) =>
      conflict.column('client_id').doUpdateSet((eb) => ({
        metadata: eb.ref('excluded.metadata'),
        secret_encrypted: eb.ref('excluded.secret_encrypted'),
        first_party: eb.ref('excluded.first_party'),
      })),
    )
    .execute();
}

export async function deleteClientRow(db: Kysely<Database>, clientId: string): Promise<void> {
  await db.deleteFrom('clients').where('client_id', '=', clientId).execute();
}

/** Clients in client_id order after `cursor`, at most `limit`; of one tenant when given. */
export function listClientRows(db: Kysely<Database>, page: { cursor?: string; limit: number; tenant?: string }): Promise<ClientRow[]> {
  let query = db.selectFrom('clients').selectAll().orderBy('client_id').limit(page.limit);
  if (page.cursor !== undefined) query = query.where('client_id', '>', page.cursor);
  if (page.tenant !== undefined) query = query.where('tenant', '=', page.tenant);
  return query.execute();
}

/** Replaces a client's metadata, first-party flag and secret (undefined: kept); false when it is gone. */
export async function updateClientRow(
  db: Kysely<Database>,
  clientId: string,
  change: { metadata?: Record<string, unknown>; firstParty?: boolean; secretEncrypted?: string | null; tenant?: string },
): Promise<boolean> {
  const row = await db
    .updateTable('clients')
    .set({
      ...(change.metadata !== undefined ? { metadata: JSON.stringify(change.metadata) } : {}),
      ...(change.firstParty !== undefined ? { first_party: change.firstParty } : {}),
      ...(change.secretEncrypted !== undefined ? { secret_encrypted: change.secretEncrypted } : {}),
      ...(change.tenant !== undefined ? { tenant: change.tenant } : {}),
    })
    .where('client_id', '=', clientId)
    .returning('client_id')
    .executeTakeFirst();
  return row !== undefined;
}
