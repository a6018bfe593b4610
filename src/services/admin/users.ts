// Administration of accounts (Admin API and CLI alike): find, create, change, disable,
// erase, sign out everywhere, mail a reset link. Every change is audited with its actor;
// an account of a tenant the actor does not see is answered as unknown.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';
import { authorizationColumns, type AccountAuthorizationChange } from '#src/services/account-admin.ts';
import { erasedSubject } from '#src/services/account-data.ts';
import { toAccount, type Account, type AccountService, type CreateAccountInput } from '#src/services/accounts.ts';
import { auditDetails, OWNER_ROLE, sees, type AdminActor } from '#src/services/admin/actor.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { UUID_SHAPE } from '#src/stores/id-shapes.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import { singleLine } from '#src/text-input.ts';
import {
  deleteAccountRow,
  findAccountByEmail,
  findAccountById,
  listAccountRows,
  updateAuthorizationColumns,
  updateProfileColumns,
  type AccountFilter,
  type AccountRow,
} from '#src/stores/account-store.ts';
import { anonymiseAuditTrail, recordAudit } from '#src/stores/audit-store.ts';
import { emitEvent } from '#src/services/events.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import { deleteUnsentMailsTo } from '#src/stores/mail-outbox-store.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';

export interface UserChange extends AccountAuthorizationChange {
  /** Empty clears it. */
  name?: string;
}

export interface UserAdminDependencies {
  db: Kysely<Database>;
  accounts: Pick<AccountService, 'create'>;
  credentials: Pick<CredentialService, 'requestReset'>;
  engineState: Pick<EngineStateStore, 'revokeAccount'>;
  lockout: Pick<LockoutService, 'unlock'>;
  pseudonymKey: Buffer;
}

const nameSchema = singleLine(z.string().trim().max(200, message('validation.at_most', { max: 200 })));

/** One account: by id (a UUID) or by email address. */
export type AccountReference = { id: string } | { email: string };

export function createUserAdmin(deps: UserAdminDependencies) {
  const { db } = deps;

  const unknown = (reference: AccountReference) =>
    'id' in reference ? new KeyholdError('unknown_account', { key: 'error.unknown_account.id', params: { id: reference.id } }) : new KeyholdError('unknown_account');

  /** The account, when the actor sees its tenant. */
  const visible = async (actor: AdminActor, reference: AccountReference): Promise<AccountRow> => {
    const row = 'id' in reference ? await findAccountById(db, reference.id) : await findAccountByEmail(db, reference.email);
    if (!row || !sees(actor, row.tenant)) throw unknown(reference);
    return row;
  };

  // An administrator bound to a tenant may not touch an owner, hand out the owner role, or
  // move an account to another tenant: each would reach beyond the tenant.
  const assertWithinTenant = (actor: AdminActor, row: AccountRow | undefined, change: AccountAuthorizationChange) => {
    if (actor.tenant === undefined) return;
    if (row?.roles.includes(OWNER_ROLE) || change.roles?.includes(OWNER_ROLE)) throw new KeyholdError('forbidden', { key: 'error.forbidden.owner_account' });
    if (change.tenant !== undefined && change.tenant !== actor.tenant) throw new KeyholdError('forbidden', { key: 'error.forbidden.owner_only' });
  };

  const audit = (actor: AdminActor, event: string, accountId: string | null, tenant: string, details: Record<string, unknown> = {}) =>
    recordAudit(db, { event, accountId, ip: actor.ip, details: { ...auditDetails(actor, tenant), ...details } });

  return {
    async list(actor: AdminActor, filter: AccountFilter, page: PageRequest): Promise<Page<Account>> {
      // A tenant-bound actor lists its own tenant, whatever tenant filter it asks for.
      if (actor.tenant !== undefined && filter.tenant !== undefined && filter.tenant !== actor.tenant) return { items: [], nextCursor: null };
      const scoped = actor.tenant === undefined ? filter : { ...filter, tenant: actor.tenant };
      return loadPage(page, (request) => listAccountRows(db, scoped, request), (row) => row.id, toAccount, UUID_SHAPE);
    },

    async get(actor: AdminActor, reference: AccountReference): Promise<Account> {
      return toAccount(await visible(actor, reference));
    },

    async create(actor: AdminActor, input: CreateAccountInput): Promise<Account> {
      const tenant = input.tenant || actor.tenant;
      assertWithinTenant(actor, undefined, { roles: input.roles, tenant });
      if (input.name !== undefined) {
        const name = nameSchema.safeParse(input.name);
        if (!name.success) throw new KeyholdError('invalid_name');
      }
      const change = authorizationColumns({ roles: input.roles, tier: input.tier, tenant });
      const account = await deps.accounts.create({ ...input, roles: change.roles, tier: change.tier ?? undefined, tenant: change.tenant ?? undefined });
      await audit(actor, 'admin.account_created', account.id, account.tenant!, { roles: account.roles });
      return account;
    },

    async update(actor: AdminActor, reference: AccountReference, change: UserChange): Promise<Account> {
      const existing = await visible(actor, reference);
      assertWithinTenant(actor, existing, change);
      const columns = authorizationColumns(change);
      let row: AccountRow | undefined = existing;
      if (change.name !== undefined) {
        const name = nameSchema.safeParse(change.name);
        if (!name.success) throw new KeyholdError('invalid_name');
        row = await updateProfileColumns(db, existing.id, { name: name.data || null });
      }
      if (row && Object.keys(columns).length > 0) row = await updateAuthorizationColumns(db, existing.id, columns);
      if (!row) throw unknown(reference);
      const changed = (['roles', 'tier', 'tenant', 'active', 'name'] as const).filter((key) => key === 'name' ? change.name !== undefined : key in columns);
      if (changed.length > 0) {
        await audit(actor, 'account.authorization_changed', row.id, row.tenant, {
          ...Object.fromEntries(changed.map((key) => [key, { from: existing[key], to: row[key] }])),
        });
      }
      if (columns.roles && JSON.stringify([...existing.roles].sort()) !== JSON.stringify([...row.roles].sort())) {
        await emitEvent(db, 'auth.role_changed', { user_id: row.id, from: existing.roles, to: row.roles, actor: actor.actor });
      }
      // A disabled account keeps nothing alive: its sessions and tokens end with it.
      if (columns.active === false && existing.active) await deps.engineState.revokeAccount(existing.id);
      return toAccount(row);
    },

    /** Erases the account as its owner's own deletion does: tokens end, the audit trail stays without personal data. */
    async remove(actor: AdminActor, reference: AccountReference): Promise<void> {
      const existing = await visible(actor, reference);
      assertWithinTenant(actor, existing, {});
      const subject = erasedSubject(deps.pseudonymKey, existing.id);
      await db.transaction().execute(async (trx) => {
        await anonymiseAuditTrail(trx, existing.id, subject);
        await deleteUnsentMailsTo(trx, existing.email);
        await deleteAccountRow(trx, existing.id);
        await recordAudit(trx, { event: 'account.deleted', ip: actor.ip, details: { ...auditDetails(actor, existing.tenant), erased_subject: subject } });
      });
      await deps.engineState.revokeAccount(existing.id);
    },

    /** Ends every session, grant and token of the account. */
    async logout(actor: AdminActor, reference: AccountReference): Promise<void> {
      const existing = await visible(actor, reference);
      assertWithinTenant(actor, existing, {});
      await deps.engineState.revokeAccount(existing.id);
      await audit(actor, 'admin.account_logged_out', existing.id, existing.tenant);
    },

    /** Lifts a sign-in lockout; whether the account was locked. */
    async unlock(actor: AdminActor, reference: AccountReference): Promise<{ id: string; was_locked: boolean }> {
      const existing = await visible(actor, reference);
      assertWithinTenant(actor, existing, {});
      // Recorded once, here (with the tenant, and also when nothing was locked).
      const wasLocked = await deps.lockout.unlock(existing.id);
      await audit(actor, 'admin.account_unlocked', existing.id, existing.tenant, { was_locked: wasLocked });
      return { id: existing.id, was_locked: wasLocked };
    },

    /** Mails a reset link (at most one per minute, as the recovery page); a disabled account gets none. */
    async sendPasswordReset(actor: AdminActor, reference: AccountReference): Promise<void> {
      const existing = await visible(actor, reference);
      assertWithinTenant(actor, existing, {});
      await deps.credentials.requestReset(existing.email, actor.ip);
      await audit(actor, 'admin.password_reset_sent', existing.id, existing.tenant);
    },
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
