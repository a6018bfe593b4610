// Administration of the signing keys. The key set signs for every tenant, so rotating and
// retiring are for owners and the CLI; any administrator may read it (the public part only:
// kid, algorithm, stage and its times). The rules are the signing-key service's
// (src/services/signing-keys.ts), the same as `keyhold keys`. After a change this node's
// engine re-reads the key set at once (`keysChanged`); other nodes pick it up at their next
// scheduled reload (KEY_RELOAD_INTERVAL), as after `keyhold keys rotate`.
import type { Kysely } from 'kysely';
import { assertEveryTenant, auditDetails, type AdminActor } from '#src/services/admin/actor.ts';
import { listKeys, retireKey, rotateKeys, type SigningAlg, type SigningKeyInfo, type SigningKeyOptions } from '#src/services/signing-keys.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface SigningKeyAdminDependencies {
  db: Kysely<Database>;
  keyOptions: SigningKeyOptions;
  /** Makes the serving engine use the changed key set now (the server's engine host); absent in the CLI. */
  keysChanged?: () => Promise<unknown>;
}

export function createSigningKeyAdmin(deps: SigningKeyAdminDependencies) {
  const { db, keyOptions } = deps;
  const audit = (actor: AdminActor, event: string, details: Record<string, unknown>) => recordAudit(db, { event, ip: actor.ip, details: { ...auditDetails(actor), ...details } });

  return {
    list: (_actor: AdminActor): Promise<SigningKeyInfo[]> => listKeys(db),

    /** Starts a rotation (every SIGNING_ALGS algorithm, or `alg`); the keys it created. */
    async rotate(actor: AdminActor, alg?: SigningAlg): Promise<SigningKeyInfo[]> {
      assertEveryTenant(actor);
      const created = await rotateKeys(db, keyOptions, alg);
      await audit(actor, 'admin.signing_keys_rotated', { kids: created.map((key) => key.kid), ...(alg ? { alg } : {}) });
      await deps.keysChanged?.();
      return created;
    },

    /** Retires one key now; refused (last_signing_key) when its algorithm would have no key to sign. */
    async retire(actor: AdminActor, kid: string): Promise<SigningKeyInfo> {
      assertEveryTenant(actor);
      const retired = await retireKey(db, keyOptions, kid);
      await audit(actor, 'admin.signing_key_retired', { kid });
      await deps.keysChanged?.();
      return retired;
    },
  };
}

export type SigningKeyAdmin = ReturnType<typeof createSigningKeyAdmin>;
