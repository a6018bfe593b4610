// Sign-in method: a code from an authenticator app (RFC 6238). Something you have; it
// only adds to a sign-in that already knows the account.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const totpMethod: SignInMethod = { id: 'totp', amr: ['otp'], factor: 'possession', phishingResistant: false, identifies: false };
