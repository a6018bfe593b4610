// The engine's login and consent prompts, plus `create` (OpenID Connect "Initiating User
// Registration", prompt=create) while registration is not closed: requested by the client,
// it opens the registration page first. Every interaction is served at /interaction/<uid>.
import type { Configuration } from 'oidc-provider';
import { interactionPolicy } from 'oidc-provider';
import { requireClientProfileClaims } from '#src/oidc/hooks/required-claims-check.ts';
import { requireStepUp, type StepUpDependencies } from '#src/oidc/hooks/step-up-check.ts';

export function interactions(options: { registrationOpen: boolean; stepUp?: StepUpDependencies }): NonNullable<Configuration['interactions']> {
  const policy = interactionPolicy.base();
  if (options.registrationOpen) policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  // Progressive profiling: no code while the account lacks a claim the client requires.
  requireClientProfileClaims(policy);
  // Second factors inside an existing session (absent for the bare validation engine).
  if (options.stepUp) requireStepUp(policy, options.stepUp);
  return {
    policy,
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  };
}

/** The prompt values a client may send: the engine does not publish them itself. */
export function promptValuesSupported(policy: readonly interactionPolicy.Prompt[]): string[] {
  return ['none', ...policy.filter((prompt) => prompt.requestable).map((prompt) => prompt.name)];
}
