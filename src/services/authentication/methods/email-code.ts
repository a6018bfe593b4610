// Sign-in method: a six-digit code mailed to the account's address. Something you have (the
// mailbox); RFC 8176 has no value of its own for it, `otp` is the closest.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const emailCodeMethod: SignInMethod = { id: 'email_code', amr: ['otp'], factor: 'possession', phishingResistant: false, identifies: false };
