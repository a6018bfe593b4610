// The administration services, built once per core and used by the Admin API and the CLI
// alike, so both follow the same rules. Client metadata rules come from the engine: the
// core starts with a bare one's (what the CLI needs), and the HTTP layer swaps in the
// serving engine's (useClientValidator), which follows key changes without a second build.
import type { Kysely } from 'kysely';
import type { AccountService } from '#src/services/accounts.ts';
import { createAuditReader } from '#src/services/admin/audit.ts';
import { createClientAdmin, type ClientAdminDependencies } from '#src/services/admin/clients.ts';
import { createConnectorAdmin } from '#src/services/admin/connectors.ts';
import { createResourceAdmin } from '#src/services/admin/resources.ts';
import { createRoleAdmin } from '#src/services/admin/roles.ts';
import { createStatsReader } from '#src/services/admin/stats.ts';
import { createUserSecurityReader } from '#src/services/admin/user-security.ts';
import { createUserAdmin } from '#src/services/admin/users.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import type { ConnectorService } from '#src/services/federation/connectors.ts';
import { createTenantAdmin } from '#src/services/tenants.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';

export interface AdminDependencies {
  db: Kysely<Database>;
  issuer: string;
  accounts: Pick<AccountService, 'create'>;
  credentials: Pick<CredentialService, 'requestReset'>;
  engineState: Pick<EngineStateStore, 'revokeAccount' | 'accountSessions'>;
  lockout: Pick<LockoutService, 'unlock' | 'lockedUntil'>;
  pseudonymKey: Buffer;
  clientSecretKey: Buffer;
  clientValidator: ClientAdminDependencies['validator'];
  connectors: ConnectorService;
}

export function createAdministration(deps: AdminDependencies) {
  const { db } = deps;
  let clientValidator = deps.clientValidator;
  return {
    users: createUserAdmin({ db, accounts: deps.accounts, credentials: deps.credentials, engineState: deps.engineState, lockout: deps.lockout, pseudonymKey: deps.pseudonymKey }),
    clients: createClientAdmin({ db, encryptionKey: deps.clientSecretKey, validator: () => clientValidator() }),
    resources: createResourceAdmin(db, deps.issuer),
    roles: createRoleAdmin(db),
    tenants: createTenantAdmin(db),
    connectors: createConnectorAdmin(db, deps.connectors),
    audit: createAuditReader(db),
    stats: createStatsReader(db, deps.engineState),
    userSecurity: createUserSecurityReader({ db, lockout: deps.lockout }),
    /** Takes client metadata rules from here on (the HTTP layer: the serving engine's). */
    useClientValidator(validator: AdminDependencies['clientValidator']): void {
      clientValidator = validator;
    },
  };
}

export type Administration = ReturnType<typeof createAdministration>;
