// How signing keys are kept, from the settings: the algorithms to hold keys for, how long a
// new key is published before it signs, and how long a retired one stays published.
import type { Kysely } from 'kysely';
import type { ProductPolicy } from '#src/config.ts';
import type { DerivedKeys } from '#src/services/master-secret.ts';
import type { SigningAlg, SigningKeyOptions } from '#src/services/signing-keys.ts';
import { maxResourceAccessTokenTtl } from '#src/stores/resource-store.ts';
import type { Database } from '#src/stores/schema.ts';

export type SigningKeyPolicy = Pick<ProductPolicy, 'ID_TOKEN_TTL' | 'ACCESS_TOKEN_TTL' | 'CLIENT_CREDENTIALS_TTL' | 'SIGNING_ALGS' | 'KEY_ACTIVATION_DELAY'>;

export async function signingKeyOptions(policy: SigningKeyPolicy, db: Kysely<Database>, keys: Pick<DerivedKeys, 'signingKeys'>): Promise<SigningKeyOptions> {
  // A retired key stays published as long as anything it signed can still be presented.
  const longestSignedLifetime = Math.max(policy.ID_TOKEN_TTL, policy.ACCESS_TOKEN_TTL, policy.CLIENT_CREDENTIALS_TTL, (await maxResourceAccessTokenTtl(db)) ?? 0);
  return {
    encryptionKey: keys.signingKeys,
    algorithms: policy.SIGNING_ALGS as SigningAlg[],
    activationDelay: policy.KEY_ACTIVATION_DELAY,
    retentionAfterRetirement: longestSignedLifetime + 300,
  };
}
