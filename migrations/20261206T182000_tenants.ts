import { sql, type Kysely } from 'kysely';

// Tenants: every account and client belongs to one (`default` unless said otherwise), and a
// tenant may override a few product settings (registration mode, the tiers that need MFA).
// Accounts kept their tenant as a free label until now: each label in use becomes a tenant,
// and accounts without one join `default`.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text')
    .addColumn('registration', 'text')
    .addColumn('mfa_required_tiers', 'jsonb')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`insert into tenants (id, name) values ('default', 'Default tenant')`.execute(db);
  await sql`insert into tenants (id) select distinct tenant from accounts where tenant is not null on conflict (id) do nothing`.execute(db);
  await sql`update accounts set tenant = 'default' where tenant is null`.execute(db);
  await db.schema.alterTable('accounts').alterColumn('tenant', (col) => col.setDefault('default')).execute();
  await db.schema.alterTable('accounts').alterColumn('tenant', (col) => col.setNotNull()).execute();
  await sql`alter table accounts add constraint accounts_tenant_fk foreign key (tenant) references tenants (id) on update cascade`.execute(db);
  await db.schema.createIndex('accounts_tenant').on('accounts').columns(['tenant', 'id']).execute();

  await db.schema
    .alterTable('clients')
    .addColumn('tenant', 'text', (col) => col.notNull().defaultTo('default').references('tenants.id').onUpdate('cascade'))
    .execute();
  await db.schema.createIndex('clients_tenant').on('clients').columns(['tenant', 'client_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('tenant').execute();
  await db.schema.dropIndex('accounts_tenant').ifExists().execute();
  await sql`alter table accounts drop constraint if exists accounts_tenant_fk`.execute(db);
  await db.schema.alterTable('accounts').alterColumn('tenant', (col) => col.dropNotNull()).execute();
  await db.schema.alterTable('accounts').alterColumn('tenant', (col) => col.dropDefault()).execute();
  await sql`update accounts set tenant = null where tenant = 'default'`.execute(db);
  await db.schema.dropTable('tenants').execute();
}
