// What every sign-in method shares. A method (src/services/authentication/methods/) proves
// one thing about the person at the keyboard; the login flow records each proof as a
// Verification, and the assurance policy (assurance.ts) reads acr and amr off them.

/** NIST SP 800-63B authentication factor kinds. Two kinds make a multi-factor sign-in. */
export type FactorKind = 'knowledge' | 'possession' | 'inherence' | 'federated';

export interface SignInMethod {
  /** Stable identifier, also the name in logs, metrics and audit events. */
  readonly id: string;
  /** RFC 8176 amr values a successful use adds. */
  readonly amr: readonly string[];
  readonly factor: FactorKind;
  /** Bound to the origin (WebAuthn): a phishing site cannot relay it. */
  readonly phishingResistant: boolean;
  /** Can start a sign-in on its own (it tells who the account is), or only add to one. */
  readonly identifies: boolean;
}

/** One successful proof in a login flow. */
export interface Verification {
  method: string;
  amr: string[];
  factor: FactorKind;
  phishingResistant: boolean;
  /** Epoch seconds. */
  at: number;
}

export function verificationBy(method: SignInMethod, at = Math.floor(Date.now() / 1000)): Verification {
  return { method: method.id, amr: [...method.amr], factor: method.factor, phishingResistant: method.phishingResistant, at };
}
