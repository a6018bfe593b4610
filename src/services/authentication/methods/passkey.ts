// Sign-in method: a passkey (WebAuthn with user verification). Phishing-resistant, and
// multi-factor on its own (the device, unlocked by a PIN or biometric); it identifies the
// account, so it can start a sign-in (passwordless) or add to one. RFC 8176: `hwk` for a
// device-bound key, `swk` for a synced one; `user` for the user verification.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const hardwarePasskeyMethod: SignInMethod = { id: 'passkey', amr: ['hwk', 'user'], factor: 'possession', phishingResistant: true, identifies: true };
export const syncedPasskeyMethod: SignInMethod = { id: 'passkey', amr: ['swk', 'user'], factor: 'possession', phishingResistant: true, identifies: true };

export const passkeyMethod = (synced: boolean): SignInMethod => (synced ? syncedPasskeyMethod : hardwarePasskeyMethod);
