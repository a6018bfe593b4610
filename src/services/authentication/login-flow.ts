// The stored login flow: one per interaction, holding who has been identified, each
// verification done so far and the assurance the request asked for. A flow moves through
// verifications while the pipeline's steps run (src/routes/interaction/pipeline.ts); when
// none is pending it becomes the engine's login result, with acr, amr and auth_time read
// off the verifications. acr_values are voluntary for now: `required` records the level
// asked for, and a second-factor step is what will hold a sign-in to it.
import type { InteractionResults } from 'oidc-provider';
import { KeyholdError } from '#src/errors.ts';
import { acrOf, amrOf, requiredLevel, type AssuranceLevel } from '#src/services/authentication/assurance.ts';
import { verificationBy, type SignInMethod, type Verification } from '#src/services/authentication/types.ts';
import type { LoginFlowStore } from '#src/stores/login-flow-store.ts';

export interface LoginFlow {
  /** The engine interaction's uid. */
  uid: string;
  /** Set by the first verification that identifies the account. */
  accountId?: string;
  verifications: Verification[];
  requested: { acrValues: string[]; maxAge?: number };
  /** The level the sign-in must reach (requested, raised by policy). */
  required: AssuranceLevel;
  /** What a pipeline step keeps between its pages (e.g. the email verification it started). */
  notes?: Record<string, string>;
}

export interface LoginFlowDependencies {
  store: LoginFlowStore<LoginFlow>;
  /** Seconds a flow is kept: the interaction's lifetime. */
  ttlSeconds: number;
}

export function createLoginFlowService(deps: LoginFlowDependencies) {
  const { store, ttlSeconds } = deps;

  const open = async (uid: string, request: { acrValues?: string; maxAge?: number }): Promise<LoginFlow> => {
    const existing = await store.find(uid);
    if (existing) return existing;
    const acrValues = (request.acrValues ?? '').split(' ').filter(Boolean);
    return { uid, verifications: [], requested: { acrValues, ...(request.maxAge !== undefined ? { maxAge: request.maxAge } : {}) }, required: requiredLevel({ acrValues }) };
  };

  return {
    /** The interaction's flow, started on first use. */
    open,

    /**
     * Records a successful verification. The first one that identifies sets the account; a
     * later one for another account is refused (a second factor never switches accounts).
     */
    async verified(flow: LoginFlow, method: SignInMethod, accountId: string): Promise<LoginFlow> {
      if (flow.accountId && flow.accountId !== accountId) throw new KeyholdError('invalid_sign_in');
      if (!flow.accountId && !method.identifies) throw new KeyholdError('invalid_sign_in');
      const next: LoginFlow = { ...flow, accountId, verifications: [...flow.verifications.filter((entry) => entry.method !== method.id), verificationBy(method)] };
      await store.save(next, ttlSeconds);
      return next;
    },

    /** Keeps a step's note with the flow. */
    async note(flow: LoginFlow, key: string, value: string): Promise<LoginFlow> {
      const next = { ...flow, notes: { ...flow.notes, [key]: value } };
      await store.save(next, ttlSeconds);
      return next;
    },

    /** The engine's login result; auth_time is the newest verification. */
    loginResult(flow: LoginFlow): NonNullable<InteractionResults['login']> {
      if (!flow.accountId || flow.verifications.length === 0) throw new KeyholdError('invalid_sign_in');
      return {
        accountId: flow.accountId,
        acr: acrOf(flow.verifications)!,
        amr: amrOf(flow.verifications),
        ts: Math.max(...flow.verifications.map((verification) => verification.at)),
        remember: true,
      };
    },

    /** Forgets the flow (the interaction finished or was aborted). */
    end: (uid: string) => store.remove(uid),
  };
}

export type LoginFlowService = ReturnType<typeof createLoginFlowService>;
