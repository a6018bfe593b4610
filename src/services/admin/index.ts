// The administration services, built once per core and used by the Admin API and the CLI
// alike, so both follow the same rules. Two things come from the engine: client metadata
// rules (the core starts with a bare engine's, what the CLI needs) and the reload after a
// signing key change (none in the CLI); the HTTP layer hands in its serving engine's
// (useServingEngine) rather than building a second set of services.
import type { Kysely } from 'kysely';
import type { AccountService } from '#src/services/accounts.ts';
import { createAuditReader } from '#src/services/admin/audit.ts';
import { createClientAdmin, type ClientAdminDependencies } from '#src/services/admin/clients.ts';
import { createConnectorAdmin } from '#src/services/admin/connectors.ts';
import { createResourceAdmin } from '#src/services/admin/resources.ts';
import { createRoleAdmin } from '#src/services/admin/roles.ts';
import { createSigningKeyAdmin, type SigningKeyAdminDependencies } from '#src/services/admin/signing-keys.ts';
import { createStatsReader } from '#src/services/admin/stats.ts';
import { createUserSecurityReader } from '#src/services/admin/user-security.ts';
import { createUserAdmin } from '#src/services/admin/users.ts';
import { createWebhookAdmin } from '#src/services/admin/webhooks.ts';
import type { CredentialService } from '#src/services/credentials.ts';
import type { ConnectorService } from '#src/services/federation/connectors.ts';
import { createTenantAdmin } from '#src/services/tenants.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import type { EngineStateStore } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';
import type { WebhookService } from '#src/services/webhooks.ts';

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
  keyOptions: SigningKeyAdminDependencies['keyOptions'];
  /** The server's engine re-reads the key set after a rotation or retirement (absent in the CLI). */
  keysChanged?: SigningKeyAdminDependencies['keysChanged'];
  webhooks: WebhookService;
}

export function createAdministration(deps: AdminDependencies) {
  const { db } = deps;
  let { clientValidator, keysChanged } = deps;
  return {
    users: createUserAdmin({ db, accounts: deps.accounts, credentials: deps.credentials, engineState: deps.engineState, lockout: deps.lockout, pseudonymKey: deps.pseudonymKey }),
    clients: createClientAdmin({ db, encryptionKey: deps.clientSecretKey, validator: () => clientValidator() }),
    resources: createResourceAdmin(db, deps.issuer),
    roles: createRoleAdmin(db),
    tenants: createTenantAdmin(db),
    connectors: createConnectorAdmin(db, deps.connectors),
    keys: createSigningKeyAdmin({ db, keyOptions: deps.keyOptions, keysChanged: async () => keysChanged?.() }),
    webhooks: createWebhookAdmin(db, deps.webhooks),
    audit: createAuditReader(db),
    stats: createStatsReader(db, deps.engineState),
    userSecurity: createUserSecurityReader({ db, lockout: deps.lockout }),
    /** From here on, the serving engine's client metadata rules and key set reload (the HTTP layer's). */
    useServingEngine(engine: Required<Pick<AdminDependencies, 'clientValidator' | 'keysChanged'>>): void {
      ({ clientValidator, keysChanged } = engine);
    },
  };
}

export type Administration = ReturnType<typeof createAdministration>;
