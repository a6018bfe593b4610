// Sign-in method: a six-digit code texted to the account's phone (RFC 8176 `sms`).
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const smsCodeMethod: SignInMethod = { id: 'sms_code', amr: ['sms'], factor: 'possession', phishingResistant: false, identifies: false };
