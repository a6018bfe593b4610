// Pairwise subject identifiers (OIDC Core 8.1): a client with `subject_type: pairwise` sees
// each account under a `sub` of its sector alone (the host of its redirect URIs, or of its
// sector_identifier_uri), so clients of different sectors cannot correlate users by `sub`.
// The value is an HMAC of sector and account id under a key derived from KEYHOLD_SECRET:
// stable on every node and across restarts, not reversible to the account id.
import { createHmac } from 'node:crypto';
import type { Configuration } from 'oidc-provider';

export function pairwiseIdentifier(key: Buffer): NonNullable<Configuration['pairwiseIdentifier']> {
  return async (_ctx, accountId, client) => {
    const sector = (client as unknown as { sectorIdentifier?: string }).sectorIdentifier ?? '';
    return createHmac('sha256', key).update(`${sector}\0${accountId}`).digest('base64url');
  };
}
