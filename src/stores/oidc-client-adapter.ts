// The engine's `Client` model, backed by the clients table. Client secrets are stored
// encrypted (the engine needs the plain value to compare and for HS* algorithms).
import { decrypt, encrypt } from '#src/crypto.ts';
import { hasControlCharacters } from '#src/text-input.ts';
import type { LoadOptions, LookupCache } from '#src/stores/lookup-cache.ts';
import { deleteClientRow, findClientRow, upsertClientRow, type ClientRow } from '#src/stores/client-store.ts';
import { readersFor, readMostly, type ReadPools } from '#src/stores/read-replica.ts';

export function encryptClientSecret(key: Buffer, clientId: string, secret: string): string {
  return encrypt(key, secret, `client:${clientId}`);
}

export function clientMetadataFromRow(key: Buffer, row: ClientRow): Record<string, unknown> {
  return {
    ...row.metadata,
    client_id: row.client_id,
    ...(row.secret_encrypted ? { client_secret: decrypt(key, row.secret_encrypted, `client:${row.client_id}`) } : {}),
    first_party: row.first_party,
    tenant: row.tenant,
  };
}

/** How stored metadata and the engine's view of it differ (see src/services/client-scopes.ts). */
export interface ClientMetadataView {
  toEngine(metadata: Record<string, unknown>): Record<string, unknown>;
  fromEngine(metadata: Record<string, unknown>): Record<string, unknown>;
}

/** The engine reads its client on nearly every request: from the cache, else the read replica when there is one. */
export function createClientAdapter(pools: ReadPools, encryptionKey: Buffer, view: ClientMetadataView, cache?: LookupCache<Record<string, unknown>>) {
  const db = pools.primary;
  const load = async (id: string, options?: LoadOptions) => {
    const row = await readMostly(readersFor(pools, options), (reader) => findClientRow(reader, id));
    return row ? view.toEngine(clientMetadataFromRow(encryptionKey, row)) : undefined;
  };
  return class ClientAdapter {
    // The engine asks on every request that names a client; the cache (engine-lookups.ts)
    // spares the query and the decryption, and is evicted on every change to the client.
    async find(id: string) {
      // The engine passes client_id straight from the request; no client has control
      // characters in its id, and Postgres would refuse a NUL with an error (a 500).
      if (hasControlCharacters(id)) return undefined;
      return cache ? cache.get(id, load) : load(id);
    }

    // Used by dynamic registration management.
    async upsert(id: string, payload: Record<string, unknown>) {
      // The tenant is the row's own column, never registration metadata.
      const { client_secret: secret, first_party: firstParty, client_id: _clientId, tenant: _tenant, ...metadata } = view.fromEngine(payload);
      await upsertClientRow(db, {
        clientId: id,
        metadata,
        secretEncrypted: typeof secret === 'string' ? encryptClientSecret(encryptionKey, id, secret) : null,
        firstParty: firstParty === true,
      });
    }

    async destroy(id: string) {
      await deleteClientRow(db, id);
    }

    async consume() {}
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async revokeByGrantId() {}
  };
}
