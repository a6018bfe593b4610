// Administration of OAuth clients (Admin API and CLI alike). Metadata follows the same
// rules as `keyhold client create` (src/services/clients.ts); a secret is shown once, when
// it is made (creation, rotation), and never read back. A client of a tenant the actor does
// not see is answered as unknown.
import type { Kysely } from 'kysely';
import { randomToken } from '#src/crypto.ts';
import { KeyholdError } from '#src/errors.ts';
import { auditDetails, sees, type AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { toEngineClientMetadata } from '#src/services/client-scopes.ts';
import { CONSOLE_CLIENT_ID } from '#src/services/console-client.ts';
import { checkClientMetadata, clientRecord, createClient, type ClientValidator } from '#src/services/clients.ts';
import { tenantIdSchema } from '#src/services/tenants.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { deleteClientRow, findClientRow, listClientRows, updateClientRow, type ClientRow } from '#src/stores/client-store.ts';
import { encryptClientSecret } from '#src/stores/oidc-client-adapter.ts';
import type { Database } from '#src/stores/schema.ts';
import { ensureTenantRow } from '#src/stores/tenant-store.ts';

/** A client as administrators see it: its metadata, never its secret. */
export interface ClientView {
  client_id: string;
  tenant: string;
  first_party: boolean;
  has_secret: boolean;
  created_at: string;
  metadata: Record<string, unknown>;
}

function toView(row: ClientRow): ClientView {
  return {
    client_id: row.client_id,
    tenant: row.tenant,
    first_party: row.first_party,
    has_secret: row.secret_encrypted !== null,
    created_at: row.created_at.toISOString(),
    metadata: row.metadata,
  };
}

export interface ClientAdminDependencies {
  db: Kysely<Database>;
  encryptionKey: Buffer;
  /** The engine's metadata rules (the serving engine's, or a bare one for the CLI). */
  validator(): Promise<ClientValidator>;
}

export function createClientAdmin(deps: ClientAdminDependencies) {
  const { db } = deps;
  const unknown = (clientId: string) => new KeyholdError('unknown_client', { params: { clientId } });
  const visible = async (actor: AdminActor, clientId: string) => {
    const row = await findClientRow(db, clientId);
    if (!row || !sees(actor, row.tenant)) throw unknown(clientId);
    return row;
  };
  // A first-party client skips the consent page for every account that signs in, owners and
  // other tenants' administrators included, and its tokens carry whatever scopes (the Admin
  // API's among them) that account holds. An administrator bound to a tenant who could make
  // one, or point one's redirect URIs at their own site, would collect an owner's token with
  // one link; so first-party clients (the console's, in the default tenant, among them) are
  // the owners' and the CLI's to make and change.
  const refuseFirstParty = (actor: AdminActor, clientId: string) => {
    if (actor.tenant === undefined) return;
    if (clientId === CONSOLE_CLIENT_ID) throw new KeyholdError('forbidden', { key: 'error.forbidden.console_client', params: { clientId } });
    throw new KeyholdError('forbidden', { key: 'error.forbidden.first_party' });
  };
  const changeable = async (actor: AdminActor, clientId: string) => {
    const row = await visible(actor, clientId);
    if (row.first_party || clientId === CONSOLE_CLIENT_ID) refuseFirstParty(actor, clientId);
    return row;
  };
  const tenantFor = (actor: AdminActor, tenant: string | undefined): string | undefined => {
    if (tenant === undefined) return actor.tenant;
    if (!tenantIdSchema.safeParse(tenant).success) throw new KeyholdError('invalid_tenant');
    if (!sees(actor, tenant)) throw new KeyholdError('forbidden', { key: 'error.forbidden.owner_only' });
    return tenant;
  };
  const audit = (actor: AdminActor, event: string, row: { client_id: string; tenant: string }, details: Record<string, unknown> = {}) =>
    recordAudit(db, { event, clientId: row.client_id, ip: actor.ip, details: { ...auditDetails(actor, row.tenant), ...details } });

  return {
    list(actor: AdminActor, page: PageRequest & { tenant?: string }): Promise<Page<ClientView>> {
      if (actor.tenant !== undefined && page.tenant !== undefined && page.tenant !== actor.tenant) return Promise.resolve({ items: [], nextCursor: null });
      const tenant = actor.tenant ?? page.tenant;
      return loadPage(page, (request) => listClientRows(db, { ...request, tenant }), (row) => row.client_id, toView);
    },

    /** The tenant a client belongs to (undefined when there is no such client). */
    async tenantOf(clientId: string): Promise<string | undefined> {
      return (await findClientRow(db, clientId))?.tenant;
    },

    async get(actor: AdminActor, clientId: string): Promise<ClientView> {
      return toView(await visible(actor, clientId));
    },

    /** Registers a client; the answer holds its generated secret, the only time it is shown. */
    async create(actor: AdminActor, metadata: unknown, options: { tenant?: string } = {}): Promise<{ client: ClientView; clientSecret?: string }> {
      const tenant = tenantFor(actor, options.tenant);
      if (metadata && typeof metadata === 'object' && (metadata as Record<string, unknown>).first_party === true) refuseFirstParty(actor, '');
      const created = await createClient(db, deps.encryptionKey, await deps.validator(), metadata, { tenant });
      const row = (await findClientRow(db, created.client_id as string))!;
      await audit(actor, 'admin.client_created', row);
      return { client: toView(row), ...(typeof created.client_secret === 'string' ? { clientSecret: created.client_secret } : {}) };
    },

    /**
     * Changes metadata: each given property replaces the stored one, null removes it; the
     * result is checked as a new client would be. The secret changes only by rotation.
     */
    async update(actor: AdminActor, clientId: string, change: { metadata?: Record<string, unknown>; firstParty?: boolean; tenant?: string }): Promise<ClientView> {
      const existing = await changeable(actor, clientId);
      if (change.firstParty === true) refuseFirstParty(actor, clientId);
      const tenant = change.tenant === undefined ? undefined : tenantFor(actor, change.tenant);
      const patch = change.metadata ?? {};
      for (const key of ['client_id', 'client_secret', 'first_party']) {
        if (key in patch) throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.reserved', params: { property: key } });
      }
      const merged: Record<string, unknown> = { ...existing.metadata };
      for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      const validator = await deps.validator();
      // The stored secret stays; the validator only needs to know there is one.
      const placeholder = existing.secret_encrypted ? { client_secret: randomToken(32) } : {};
      const checked = await checkClientMetadata(db, validator, { ...merged, ...placeholder, client_id: clientId, first_party: change.firstParty ?? existing.first_party });
      const record = clientRecord(deps.encryptionKey, checked);
      if (tenant !== undefined) await ensureTenantRow(db, tenant);
      const newSecret = !existing.secret_encrypted && typeof checked.client_secret === 'string' ? record.secretEncrypted : undefined;
      if (!(await updateClientRow(db, clientId, { metadata: record.metadata, firstParty: record.firstParty, tenant, ...(newSecret ? { secretEncrypted: newSecret } : {}) }))) throw unknown(clientId);
      const row = (await findClientRow(db, clientId))!;
      await audit(actor, 'admin.client_updated', row, { fields: Object.keys(patch), ...(tenant !== undefined ? { moved_from: existing.tenant } : {}) });
      return toView(row);
    },

    async remove(actor: AdminActor, clientId: string): Promise<void> {
      const existing = await changeable(actor, clientId);
      await deleteClientRow(db, clientId);
      await audit(actor, 'admin.client_deleted', existing);
    },

    /** A new secret, shown once; the old one stops working at once. */
    async rotateSecret(actor: AdminActor, clientId: string): Promise<{ client_id: string; client_secret: string }> {
      const existing = await changeable(actor, clientId);
      const needsSecret = (await deps.validator()).needsSecret(toEngineClientMetadata({ ...existing.metadata, client_id: clientId }));
      if (!existing.secret_encrypted && !needsSecret) throw new KeyholdError('invalid_client_metadata', { key: 'error.invalid_client_metadata.public_client' });
      const secret = randomToken(32);
      if (!(await updateClientRow(db, clientId, { secretEncrypted: encryptClientSecret(deps.encryptionKey, clientId, secret) }))) throw unknown(clientId);
      await audit(actor, 'admin.client_secret_rotated', existing);
      return { client_id: clientId, client_secret: secret };
    },
  };
}

export type ClientAdmin = ReturnType<typeof createClientAdmin>;
