// The bcrypt cost every password verification pads to while imported bcrypt hashes remain
// (see passwords.ts). Read from the database at most once a minute per node: an import
// made elsewhere is padded for within that time, and once the last imported account has
// signed in (and been rehashed to argon2id) the padding stops.
import type { Kysely } from 'kysely';
import type { Database } from '#src/stores/schema.ts';
import { maxBcryptCost } from '#src/stores/legacy-hash-store.ts';

export function createLegacyBcryptCost(db: Kysely<Database>, refreshMs = 60_000): () => Promise<number | undefined> {
  let known: { cost: number | undefined; at: number } | undefined;
  let pending: Promise<number | undefined> | undefined;
  const refresh = () => {
    pending ??= maxBcryptCost(db)
      .then((cost) => {
        known = { cost, at: Date.now() };
        return cost;
      })
      // Keep padding with what was known; try again on the next call.
      .catch(() => known?.cost)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  return async () => (known && Date.now() - known.at < refreshMs ? known.cost : refresh());
}
