// Sign-in method: email address and password. Something you know; it also tells who the
// account is. The check itself (throttling, hashing, the same answer for unknown accounts)
// lives in the account service and the login throttle; this module is the method's
// identity in the pipeline.
import type { SignInMethod } from '#src/services/authentication/types.ts';

export const passwordMethod: SignInMethod = {
  id: 'password',
  amr: ['pwd'],
  factor: 'knowledge',
  phishingResistant: false,
  identifies: true,
};
