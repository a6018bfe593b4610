// The rules of an operator's change to an account's authorisation: roles, tier, tenant,
// active (applied by src/services/admin/users.ts). A role taken away takes effect at the
// next token: the token endpoint reads the account's roles on every issue and refresh (see
// authorization.ts); tokens already issued live out their short TTL.
import { z } from 'zod';
import { KeyholdError } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';
import { roleNameSchema } from '#src/services/roles.ts';
import { tenantIdSchema } from '#src/services/tenants.ts';
import type { AuthorizationColumns } from '#src/stores/account-store.ts';
import { DEFAULT_TENANT } from '#src/stores/tenant-store.ts';

/** What changes; an empty tier clears it, an empty tenant means `default`, an empty roles list removes every role. */
export interface AccountAuthorizationChange {
  roles?: string[];
  tier?: string;
  tenant?: string;
  active?: boolean;
}

const labelSchema = z.string().trim().max(100, message('validation.at_most', { max: 100 }));

/** The columns a change sets, each checked; an empty tier clears it, an empty tenant means `default`. */
export function authorizationColumns(change: AccountAuthorizationChange): AuthorizationColumns {
  const columns: AuthorizationColumns = {};
  if (change.roles !== undefined) {
    const roles = change.roles.filter(Boolean);
    for (const role of roles) {
      const parsed = roleNameSchema.safeParse(role);
      if (!parsed.success) throw new KeyholdError('invalid_account', { key: 'error.invalid_account.role', params: { role, reason: parsed.error.issues[0]!.message } });
    }
    columns.roles = [...new Set(roles)];
  }
  if (change.tier !== undefined) {
    const parsed = labelSchema.safeParse(change.tier);
    if (!parsed.success) throw new KeyholdError('invalid_account', { key: 'error.invalid_account.label', params: { field: 'tier', reason: parsed.error.issues[0]!.message } });
    columns.tier = parsed.data || null;
  }
  if (change.tenant !== undefined) {
    const tenant = change.tenant.trim();
    if (tenant !== '' && !tenantIdSchema.safeParse(tenant).success) throw new KeyholdError('invalid_tenant');
    columns.tenant = tenant || DEFAULT_TENANT;
  }
  if (change.active !== undefined) columns.active = change.active;
  return columns;
}
