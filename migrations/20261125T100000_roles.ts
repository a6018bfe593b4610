import { sql, type Kysely } from 'kysely';

// Roles grant API scopes (role → resource → scope). Before this migration every client got
// every scope of every API; from here on nothing is granted that a role (for a user's token)
// and the client's `scope` allow-list do not both name. The migration itself grants no API
// scope: it creates the roles `user` (no grants) and `admin` (its grants on the Admin API are
// added when Keyhold registers that resource at start), and gives `user` to every existing
// account without roles, so that one `keyhold role grant --name user …` reaches them all.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('roles')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('description', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('role_grants')
    .addColumn('role', 'text', (col) => col.notNull().references('roles.name').onDelete('cascade'))
    .addColumn('resource', 'text', (col) => col.notNull().references('resources.identifier').onDelete('cascade'))
    .addColumn('scope', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('role_grants_pk', ['role', 'resource', 'scope'])
    .execute();
  await db.schema.createIndex('role_grants_resource').on('role_grants').columns(['resource', 'role']).execute();

  await sql`insert into roles (name, description) values
    ('user', 'Every account (DEFAULT_ROLES)'),
    ('admin', 'Administrators: the Admin API')
    on conflict (name) do nothing`.execute(db);
  await sql`update accounts set roles = '["user"]'::jsonb where roles = '[]'::jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('role_grants').ifExists().execute();
  await db.schema.dropTable('roles').ifExists().execute();
}
