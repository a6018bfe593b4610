// Tenants: every account and client belongs to one (`default` unless said otherwise); a token
// carries its subject's tenant. A tenant may override a few product settings — the
// registration mode and the tiers that need MFA — which otherwise come from the node's
// configuration. Creating, changing and removing tenants reaches every tenant: owners only.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { assertEveryTenant, auditDetails, sees, type AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';
import {
  countTenantMembers,
  DEFAULT_TENANT,
  deleteTenantRow,
  findTenantRow,
  insertTenantRow,
  listTenantRows,
  updateTenantRow,
  type TenantRow,
  type TenantValues,
} from '#src/stores/tenant-store.ts';

export const tenantIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);
export const REGISTRATION_MODES = ['open', 'invite', 'closed'] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

export interface Tenant {
  id: string;
  name: string | null;
  /** Overrides REGISTRATION for this tenant; null: the node's setting. */
  registration: RegistrationMode | null;
  /** Overrides MFA_REQUIRED_TIERS for this tenant; null: the node's setting. */
  mfaRequiredTiers: string[] | null;
  createdAt: string;
  updatedAt: string;
}

export interface TenantChange {
  /** Empty clears it. */
  name?: string;
  /** null: back to the node's setting. */
  registration?: RegistrationMode | null;
  mfaRequiredTiers?: string[] | null;
}

function toTenant(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    registration: (row.registration as RegistrationMode | null) ?? null,
    mfaRequiredTiers: row.mfa_required_tiers,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function values(change: TenantChange): TenantValues {
  if (change.registration != null && !REGISTRATION_MODES.includes(change.registration)) {
    throw new KeyholdError('invalid_tenant', { key: 'error.invalid_tenant.registration', params: { modes: REGISTRATION_MODES.join(', ') } });
  }
  return {
    ...(change.name !== undefined ? { name: change.name.trim() || null } : {}),
    ...(change.registration !== undefined ? { registration: change.registration } : {}),
    ...(change.mfaRequiredTiers !== undefined ? { mfaRequiredTiers: change.mfaRequiredTiers === null ? null : [...new Set(change.mfaRequiredTiers.map((tier) => tier.trim()).filter(Boolean))] } : {}),
  };
}

export function createTenantAdmin(db: Kysely<Database>) {
  const unknown = (id: string) => new KeyholdError('unknown_tenant', { params: { id } });
  const visible = async (actor: AdminActor, id: string) => {
    const row = sees(actor, id) ? await findTenantRow(db, id) : undefined;
    if (!row) throw unknown(id);
    return row;
  };

  return {
    list(actor: AdminActor, page: PageRequest): Promise<Page<Tenant>> {
      return loadPage(page, (request) => listTenantRows(db, { ...request, only: actor.tenant }), (row) => row.id, toTenant);
    },

    async get(actor: AdminActor, id: string): Promise<Tenant> {
      return toTenant(await visible(actor, id));
    },

    async create(actor: AdminActor, id: string, change: TenantChange): Promise<Tenant> {
      assertEveryTenant(actor);
      if (!tenantIdSchema.safeParse(id).success) throw new KeyholdError('invalid_tenant');
      const row = await insertTenantRow(db, id, values(change));
      if (!row) throw new KeyholdError('tenant_exists', { params: { id } });
      await recordAudit(db, { event: 'admin.tenant_created', ip: actor.ip, details: auditDetails(actor, id) });
      return toTenant(row);
    },

    async update(actor: AdminActor, id: string, change: TenantChange): Promise<Tenant> {
      await visible(actor, id);
      assertEveryTenant(actor);
      const row = await updateTenantRow(db, id, values(change));
      if (!row) throw unknown(id);
      await recordAudit(db, { event: 'admin.tenant_updated', ip: actor.ip, details: { ...auditDetails(actor, id), fields: Object.keys(change) } });
      return toTenant(row);
    },

    /** Removes an empty tenant; `default` stays. */
    async remove(actor: AdminActor, id: string): Promise<void> {
      await visible(actor, id);
      assertEveryTenant(actor);
      if (id === DEFAULT_TENANT) throw new KeyholdError('tenant_in_use', { key: 'error.tenant_in_use.default' });
      const members = await countTenantMembers(db, id);
      if (members.accounts > 0 || members.clients > 0) throw new KeyholdError('tenant_in_use', { params: { id, ...members } });
      if (!(await deleteTenantRow(db, id))) throw unknown(id);
      await recordAudit(db, { event: 'admin.tenant_deleted', ip: actor.ip, details: auditDetails(actor, id) });
    },
  };
}

export type TenantAdmin = ReturnType<typeof createTenantAdmin>;
