// The product settings a tenant may override, as they apply to one account or client: the
// tenant's own value when it has one (tenants.registration), else the node's. A registration
// goes into the tenant of the client it happens at, so that tenant's mode decides it (the
// `default` tenant's when none is named). The MFA tiers are read in mfa/requirement.ts.
import type { ProductPolicy } from '#src/config.ts';
import type { RegistrationMode } from '#src/services/tenants.ts';
import type { SignInLookups } from '#src/stores/sign-in-lookups.ts';
import { DEFAULT_TENANT } from '#src/stores/tenant-store.ts';

export interface TenantSettings {
  /** How accounts may register into `tenant` (undefined: `default`). */
  registration(tenant: string | undefined): Promise<RegistrationMode>;
}

export function createTenantSettings(lookups: Pick<SignInLookups, 'tenant'>, config: Pick<ProductPolicy, 'REGISTRATION'>): TenantSettings {
  return {
    async registration(tenant) {
      const row = await lookups.tenant(tenant ?? DEFAULT_TENANT);
      return (row?.registration as RegistrationMode | null | undefined) ?? config.REGISTRATION;
    },
  };
}
