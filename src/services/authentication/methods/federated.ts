// Sign-in method: an identity at an upstream provider (a connector). The upstream vouches
// for the person; Keyhold maps the upstream identity to an account
// (src/services/federation/identities.ts). It tells who the account is, and counts as its
// own factor kind: what the upstream checked is not Keyhold's to count as knowledge or
// possession.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const federatedMethod: SignInMethod = {
  id: 'federated',
  amr: ['fed'],
  factor: 'federated',
  phishingResistant: false,
  identifies: true,
};
