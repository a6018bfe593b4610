// Sign-in method: a single-use recovery code, standing in for a lost second factor. Kept on
// paper or in a password manager: something you have, as the factor it replaces.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const recoveryCodeMethod: SignInMethod = { id: 'recovery_code', amr: ['otp'], factor: 'possession', phishingResistant: false, identifies: false };
