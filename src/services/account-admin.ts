// Operator changes to an account's authorisation: roles, tier, tenant, active. A role taken
// away takes effect at the next token: the token endpoint reads the account's roles on every
// issue and refresh (see authorization.ts); tokens already issued live out their short TTL.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';
import { toAccount, type Account } from '#src/services/accounts.ts';
import { roleNameSchema } from '#src/services/roles.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { emitEvent } from '#src/services/events.ts';
import { findAccountByEmail, updateAuthorizationColumns, type AuthorizationColumns } from '#src/stores/account-store.ts';
import type { Database } from '#src/stores/schema.ts';

/** What changes; an empty tier or tenant clears it, an empty roles list removes every role. */
export interface AccountAuthorizationChange {
  roles?: string[];
  tier?: string;
  tenant?: string;
  active?: boolean;
}

const labelSchema = z.string().trim().max(100, message('validation.at_most', { max: 100 }));

export async function updateAccountAuthorization(db: Kysely<Database>, email: string, change: AccountAuthorizationChange, actor: string): Promise<Account> {
  const columns: AuthorizationColumns = {};
  if (change.roles !== undefined) {
    const roles = change.roles.filter(Boolean);
    for (const role of roles) {
      const parsed = roleNameSchema.safeParse(role);
      if (!parsed.success) throw new KeyholdError('invalid_account', { key: 'error.invalid_account.role', params: { role, reason: parsed.error.issues[0]!.message } });
    }
    columns.roles = [...new Set(roles)];
  }
  for (const key of ['tier', 'tenant'] as const) {
    if (change[key] === undefined) continue;
    const parsed = labelSchema.safeParse(change[key]);
    if (!parsed.success) throw new KeyholdError('invalid_account', { key: 'error.invalid_account.label', params: { field: key, reason: parsed.error.issues[0]!.message } });
    columns[key] = parsed.data || null;
  }
  if (change.active !== undefined) columns.active = change.active;

  const existing = await findAccountByEmail(db, email);
  if (!existing) throw new KeyholdError('unknown_account');
  if (Object.keys(columns).length === 0) return toAccount(existing);
  const updated = await updateAuthorizationColumns(db, existing.id, columns);
  if (!updated) throw new KeyholdError('unknown_account');
  await recordAudit(db, {
    event: 'account.authorization_changed',
    accountId: updated.id,
    actor,
    outcome: 'success',
    details: {
      actor,
      ...(columns.roles ? { roles: { from: existing.roles, to: updated.roles } } : {}),
      ...Object.fromEntries((['tier', 'tenant', 'active'] as const).filter((key) => key in columns).map((key) => [key, { from: existing[key], to: updated[key] }])),
    },
  });
  if (columns.roles && JSON.stringify([...existing.roles].sort()) !== JSON.stringify([...updated.roles].sort())) {
    await emitEvent(db, 'auth.role_changed', { user_id: updated.id, from: existing.roles, to: updated.roles, actor });
  }
  return toAccount(updated);
}
