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

/** Resources in identifier order after `cursor`, at most `limit`. */
export function listResourceRows(db: Kysely<Database>, page: { cursor?: string; limit: number }): Promise<ResourceRow[]> {
  let query = db.selectFrom('resources').selectAll().orderBy('identifier').limit(page.limit);
  if (page.cursor !== undefined) query = query.where('identifier', '>', page.cursor);
  return query.execute();
}

export function updateResourceRow(db: Kysely<Database>, identifier: string, change: { scopes?: string[]; accessTokenTtl?: number | null }): Promise<ResourceRow | undefined> {
  return db
    .updateTable('resources')
    .set({
      ...(change.scopes !== undefined ? { scopes: JSON.stringify(change.scopes) } : {}),
      ...(change.accessTokenTtl !== undefined ? { access_token_ttl: change.accessTokenTtl } : {}),
    })
    .where('identifier', '=', identifier)
    .returningAll()
    .executeTakeFirst();
}

/** Removes grants of scopes the resource no longer defines. */
export async function deleteStaleGrantRows(db: Kysely<Database>, identifier: string, scopes: string[]): Promise<void> {
  let query = db.deleteFrom('role_grants').where('resource', '=', identifier);
  if (scopes.length > 0) query = query.where('scope', 'not in', scopes);
  await query.execute();
}

/** Deletes a resource (its role grants go with it); false when it was not there. */
export async function deleteResourceRow(db: Kysely<Database>, identifier: string): Promise<boolean> {
  return (await db.deleteFrom('resources').where('identifier', '=', identifier).returning('identifier').executeTakeFirst()) !== undefined;
}
