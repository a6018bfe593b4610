import type { Kysely, Selectable } from 'kysely';
import type { Database, ResourceTable } from '#src/stores/schema.ts';

export type ResourceRow = Selectable<ResourceTable>;

export function findResourceRow(db: Kysely<Database>, identifier: string): Promise<ResourceRow | undefined> {
  return db.selectFrom('resources').selectAll().where('identifier', '=', identifier).executeTakeFirst();
}

/** Inserts an API resource; false when the identifier is taken. */
export async function insertResourceRow(db: Kysely<Database>, resource: { identifier: string; scopes: string[]; accessTokenTtl: number | null }): Promise<boolean> {
  const inserted = await db
    .insertInto('resources')
    .values({ identifier: resource.identifier, scopes: JSON.stringify(resource.scopes), access_token_ttl: resource.accessTokenTtl })
    .onConflict((conflict) => conflict.column('identifier').doNothing())
    .returning('identifier')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function maxResourceAccessTokenTtl(db: Kysely<Database>): Promise<number | null> {
  const row = await db.selectFrom('resources').select((eb) => eb.fn.max('access_token_ttl').as('ttl')).executeTakeFirst();
  return row?.ttl ?? null;
}

/** Every scope some registered API defines. */
export async function listDefinedApiScopes(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom('resources').select('scopes').execute();
  return new Set(rows.flatMap((row) => row.scopes));
}
