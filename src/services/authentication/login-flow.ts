// The stored login flow: one per interaction, holding who has been identified, each
// verification done so far and the assurance the request asked for. A flow moves through
// verifications while the pipeline's steps run (src/routes/interaction/pipeline.ts); when
// none is pending it becomes the engine's login result, with acr, amr and auth_time read
// off the verifications. `required` is the level acr_values asked for (Keyhold treats a
// request for a second factor as a demand: the MFA steps hold the sign-in to it);
// `essential` is the level an essential acr claim (claims parameter) demands, which fails
// the request when it cannot be reached (OIDC Core 5.5.1.1).
import type { InteractionResults } from 'oidc-provider';
import { KeyholdError } from '#src/errors.ts';
import { achievedLevel, ACR, amrOf, atLeast, levelOfAcr, requiredLevel, type AssuranceLevel } from '#src/services/authentication/assurance.ts';
import { verificationBy, type SignInMethod, type Verification } from '#src/services/authentication/types.ts';
import type { LoginFlowStore } from '#src/stores/login-flow-store.ts';

export interface LoginFlow {
  /** The engine interaction's uid. */
  uid: string;
  /** Set by the first verification that identifies the account. */
  accountId?: string;
  verifications: Verification[];
  requested: { acrValues: string[]; maxAge?: number; essentialAcrs?: string[] };
  /** The level acr_values asked for. */
  required: AssuranceLevel;
  /** The level an essential acr claim demands; unreachable, the request fails. */
  essential?: AssuranceLevel;
  /** An essential acr claim named only values no sign-in here can reach. */
  essentialUnreachable?: boolean;
  /** What a pipeline step keeps between its pages (e.g. the email verification it started). */
  notes?: Record<string, string>;
}

export interface LoginFlowDependencies {
  store: LoginFlowStore<LoginFlow>;
  /** Seconds a flow is kept: the interaction's lifetime. */
  ttlSeconds: number;
  /** The levels a sign-in can reach with the methods switched on (password always). */
  reachable: readonly AssuranceLevel[];
}

/**
 * The acr value to report: of the values the request named (essential ones first), the
 * strongest one the sign-in reached, as the client spelled it (the PAPE alias stays the
 * PAPE alias, so an essential acr claim is met to the letter); else Keyhold's own value.
 */
export function reportedAcr(flow: Pick<LoginFlow, 'verifications' | 'requested'>): string {
  const achieved = achievedLevel(flow.verifications)!;
  const named = flow.requested.essentialAcrs?.length ? flow.requested.essentialAcrs : flow.requested.acrValues;
  let best: { value: string; level: AssuranceLevel } | undefined;
  for (const value of named) {
    const level = levelOfAcr(value);
    if (level && atLeast(achieved, level) && (!best || !atLeast(best.level, level))) best = { value, level };
  }
  return best?.value ?? ACR[achieved];
}

export function createLoginFlowService(deps: LoginFlowDependencies) {
  const { store, ttlSeconds } = deps;

  const open = async (uid: string, request: { acrValues?: string; maxAge?: number; essentialAcrs?: string[] }): Promise<LoginFlow> => {
    const existing = await store.find(uid);
    if (existing) return existing;
    const acrValues = (request.acrValues ?? '').split(' ').filter(Boolean);
    const essentialAcrs = request.essentialAcrs ?? [];
    // Any one of the essential values will do: the lowest level among them is the demand.
    // Only values Keyhold does not know, or a level no method switched on reaches: the
    // demand cannot be met, and the request fails before anything is asked.
    const knownEssential = essentialAcrs.filter((value) => levelOfAcr(value) !== undefined);
    const demanded = knownEssential.length ? requiredLevel({ acrValues: knownEssential }) : undefined;
    const essential = demanded && deps.reachable.includes(demanded) ? demanded : undefined;
    return {
      uid,
      verifications: [],
      requested: { acrValues, ...(request.maxAge !== undefined ? { maxAge: request.maxAge } : {}), ...(essentialAcrs.length ? { essentialAcrs } : {}) },
      required: requiredLevel({ acrValues }),
      ...(essential ? { essential } : essentialAcrs.length ? { essentialUnreachable: true } : {}),
    };
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

    /**
     * Starts a step-up: the account of the browser's session, and the sign-in that session
     * holds, to which a stronger factor is about to be added.
     */
    async stepUp(flow: LoginFlow, accountId: string, sessionSignIn: Verification): Promise<LoginFlow> {
      if (flow.accountId) return flow;
      const next: LoginFlow = { ...flow, accountId, verifications: [sessionSignIn] };
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
        acr: reportedAcr(flow),
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
