// What the interaction pages share: their dependencies, the CSRF purpose bound to the
// interaction, the client being signed in to, and the checks every posted form passes.
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '#src/config.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import type { MessageKey } from '#src/messages/index.ts';
import { setErrorHeaders } from '#src/middleware/errors.ts';
import { readForm } from '#src/http/form.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';
import type { InteractionDetails, PageKit } from '#src/routes/page-kit.ts';
import type { AccountDataService } from '#src/services/account-data.ts';
import type { AccountService } from '#src/services/accounts.ts';
import type { LoginFlowService } from '#src/services/authentication/login-flow.ts';
import type { EmailOwnershipService } from '#src/services/email-ownership.ts';
import type { ConnectorService } from '#src/services/federation/connectors.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import type { LoginThrottle, PasswordAttempt } from '#src/services/login-throttle.ts';
import type { PasskeyThrottle } from '#src/services/passkey-throttle.ts';
import type { RequestThrottle } from '#src/services/request-throttle.ts';
import type { MfaService } from '#src/services/mfa/factors.ts';
import type { MfaRequirement } from '#src/services/mfa/requirement.ts';
import type { PasskeyService } from '#src/services/mfa/passkeys.ts';
import type { RegistrationService } from '#src/services/registration.ts';
import type { Telemetry } from '#src/services/telemetry.ts';
import type { TenantSettings } from '#src/services/tenant-settings.ts';
import type { RegistrationMode } from '#src/services/tenants.ts';
import { singleLine, singleLineText } from '#src/text-input.ts';

export interface InteractionDependencies {
  config: Config;
  engine: EngineHost;
  pages: PageKit;
  accounts: AccountService;
  accountData: AccountDataService;
  emailOwnership: EmailOwnershipService;
  loginThrottle: LoginThrottle;
  passkeyThrottle: PasskeyThrottle;
  loginFlows: LoginFlowService;
  registration: RegistrationService;
  registrationThrottle: RequestThrottle;
  tenantSettings: TenantSettings;
  telemetry?: Pick<Telemetry, 'loginAttempts'>;
  mfa: MfaService;
  mfaRequirement: MfaRequirement;
  passkeys: PasskeyService;
  connectors: ConnectorService;
  /** Wrong second-factor codes count towards the account's lockout, like wrong passwords. */
  lockout: Pick<LockoutService, 'recordFailure' | 'isLocked'>;
}

export type EngineClient = Awaited<ReturnType<EngineHost['provider']['Client']['find']>>;

// prompt=create shows registration first, but its page links to the login form too.
export const LOGIN_PROMPTS = ['login', 'create'];

/** Every form of one interaction carries a CSRF token for this purpose. */
export const interactionPurpose = (uid: string) => `interaction:${uid}`;

// Looked up once per request (a request loads its interaction details once): the login
// page, its registration link and the pipeline's steps each ask for the client, and the
// engine's Client.find checks and rebuilds the client object on every call.
const clientByDetails = new WeakMap<InteractionDetails, Promise<EngineClient>>();
const registrationByDetails = new WeakMap<InteractionDetails, Promise<{ mode: RegistrationMode; tenant: string | undefined }>>();

export const clientOf = (engine: EngineHost, details: InteractionDetails): Promise<EngineClient> => {
  let client = clientByDetails.get(details);
  if (!client) {
    client = engine.provider.Client.find(String(details.params.client_id));
    clientByDetails.set(details, client);
  }
  return client;
};

export const clientNameOf = (client: EngineClient) => client?.clientName ?? client?.clientId;

/** The tenant of the client being signed in to: a new account registers into it. */
export const clientTenantOf = (client: EngineClient): string | undefined => {
  const tenant = (client as { tenant?: unknown } | undefined)?.tenant;
  return typeof tenant === 'string' ? tenant : undefined;
};

/** How accounts may register at this interaction: the mode of its client's tenant (or the node's). */
export function registrationModeOf(deps: Pick<InteractionDependencies, 'engine' | 'tenantSettings'>, details: InteractionDetails): Promise<{ mode: RegistrationMode; tenant: string | undefined }> {
  let registration = registrationByDetails.get(details);
  if (!registration) {
    registration = clientOf(deps.engine, details).then(async (client) => {
      const tenant = clientTenantOf(client);
      return { mode: await deps.tenantSettings.registration(tenant), tenant };
    });
    registrationByDetails.set(details, registration);
  }
  return registration;
}

/** A one-time code form (registration, email verification). */
const codeForm = z.object({
  flow: singleLineText(64).default(''),
  code: singleLine(z.string().trim().max(32)).default(''),
});

/** The posted code form; a malformed one is answered like a wrong code, by `refuse` (given the posted flow). */
export function readCodeForm(ctx: Context, refuse: (flowId: string) => void): z.output<typeof codeForm> | undefined {
  const posted = readForm(ctx, codeForm);
  if (posted.ok) return posted.data;
  refuse(posted.values.flow ?? '');
}

/** The interaction a form was posted to: this browser's, CSRF-checked, at an expected prompt. */
export async function postedForm(pages: PageKit, ctx: Context, expectedPrompts: string[]): Promise<InteractionDetails> {
  const details = await pages.loadInteraction(ctx);
  pages.assertCsrf(ctx, interactionPurpose(details.uid));
  if (!expectedPrompts.includes(details.prompt.name)) throw new KeyholdError('invalid_request', { key: 'error.invalid_request.step_complete' });
  return details;
}

/** Renders the page again with a message, as a refused code or form gets it. */
export type RefusePage = (key: MessageKey, status: number, params?: Record<string, string | number>) => Promise<void> | void;

/**
 * Counts a typed code like a password guess, before it is checked, so that a burst cannot
 * outrun the sign-in limits. Over the limit, `refuse` answers 429 (with its headers) and
 * the result is undefined.
 */
export async function beginCodeAttempt(ctx: Context, throttle: LoginThrottle, login: string, refuse: RefusePage): Promise<PasswordAttempt | undefined> {
  try {
    return await throttle.begin(ctx.ip, login);
  } catch (error) {
    if (!isKeyholdError(error, 'rate_limited')) throw error;
    setErrorHeaders(ctx, error);
    await refuse('page.mfa.too_many_attempts', 429, error.params as Record<string, string | number>);
    return undefined;
  }
}
