// Self-service registration. The answer to a registration is always "check your mail",
// whether or not the address already has an account: a new address gets a code and a link
// that prove it is theirs, and only then is the account created (so nobody can pre-claim
// someone else's address); a taken address gets a notice to its owner instead, and the
// page behaves the same way (a decoy flow whose code never matches). Both paths do the same
// work (one password hash, one queued mail) so timing does not tell them apart either.
//
// A registration belongs to the sign-in (browser) that started it: its code is accepted only
// there, and its mailed link completes without more only in that browser; anywhere else the
// link asks for the password chosen at registration. Otherwise whoever registers someone's
// address first would get an account with their own password the moment the owner clicks
// the link (pre-hijacking). Nor does a second registration for the address ever get the
// first one's flow. Mail to the not yet confirmed address carries no name: it is free text.
import type { Kysely } from 'kysely';
import type { ProcessSettings, ProductPolicy } from '#src/config.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { emailSchema, type Account, type AccountService } from '#src/services/accounts.ts';
import { flowFailure, type Flow, type FlowService } from '#src/services/flows.ts';
import { assertAcceptablePassword, greetingName, lifecycleLinks } from '#src/services/lifecycle.ts';
import type { Mailer } from '#src/services/mailer.ts';
import type { PasswordPolicy } from '#src/services/password-policy.ts';
import type { PasswordHasher } from '#src/services/passwords.ts';
import type { TenantSettings } from '#src/services/tenant-settings.ts';
import { findAccountByEmail } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import { completeFlow, recentPendingFlowForEmail, updatePendingFlowPayload } from '#src/stores/flow-store.ts';
import type { Database } from '#src/stores/schema.ts';
import type { RegistrationMode } from '#src/services/tenants.ts';
import { unavailableDependency } from '#src/stores/dependency-failure.ts';

export interface RegistrationRequest {
  email: string;
  password: string;
  name?: string;
  invitation?: string;
  /** The tenant the account registers into (the client's); its registration mode applies. */
  tenant?: string;
  /** The authorization request to continue once the address is confirmed. */
  interactionUid?: string;
  ip?: string;
  locale?: string;
}

export interface CompletedRegistration {
  account: Account;
  interactionUid?: string;
}

const REGISTRATION_KINDS = ['registration'] as const;

export interface RegistrationDependencies {
  db: Kysely<Database>;
  config: Pick<ProcessSettings, 'ISSUER'> & Pick<ProductPolicy, 'EMAIL_VERIFICATION_TTL' | 'VERIFICATION_RESEND_COOLDOWN' | 'INVITATION_TTL'>;
  accounts: Pick<AccountService, 'create'>;
  flows: FlowService;
  mailer: Pick<Mailer, 'enqueue'>;
  passwordPolicy: Pick<PasswordPolicy, 'check'>;
  passwords: Pick<PasswordHasher, 'hash' | 'verify'>;
  tenantSettings: TenantSettings;
}

export function createRegistrationService(deps: RegistrationDependencies) {
  const { db, config, flows, mailer } = deps;
  const links = lifecycleLinks(config.ISSUER);

  const checkInvitation = async (mode: RegistrationMode, token: string | undefined, email: string): Promise<Flow | undefined> => {
    if (mode !== 'invite') return undefined;
    try {
      const invitation = await flows.peek(token ?? '', ['invitation']);
      if (invitation.email?.toLowerCase() !== email.toLowerCase()) throw flowFailure('invalid');
      return invitation;
    } catch (error) {
      // The database being away is a 503, not a bad invitation.
      if (unavailableDependency(error)) throw error;
      throw new KeyholdError('invitation_invalid');
    }
  };

  const completeByLink = async (proof: { token: string; browserBound: boolean; password?: string }): Promise<Flow> => {
    if (!proof.browserBound) {
      const pending = await flows.peek(proof.token, REGISTRATION_KINDS);
      if (proof.password === undefined) throw new KeyholdError('password_required');
      const passwordHash = typeof pending.payload.passwordHash === 'string' ? pending.payload.passwordHash : null;
      if (!(await deps.passwords.verify(passwordHash, proof.password))) {
        await flows.recordFailure(pending.id);
        throw new KeyholdError('password_mismatch');
      }
    }
    return flows.completeByToken(proof.token, REGISTRATION_KINDS);
  };

  return {
    /** Starts a registration; resolves to the flow id the confirmation page needs. */
    async register(request: RegistrationRequest): Promise<{ flowId: string; email: string }> {
      const mode = await deps.tenantSettings.registration(request.tenant);
      if (mode === 'closed') throw new KeyholdError('registration_closed');
      const parsed = emailSchema.safeParse(request.email);
      if (!parsed.success) throw new KeyholdError('invalid_email');
      const email = parsed.data;
      const name = request.name?.trim() ?? '';
      if (name.length > 200) throw new KeyholdError('invalid_name');
      await assertAcceptablePassword(deps, request.password, { email });
      const invitation = await checkInvitation(mode, request.invitation, email);

      const passwordHash = await deps.passwords.hash(request.password);
      // The same sign-in sending the form again within the cool-down gets its own pending
      // flow again and no new mail, so the form cannot be used to flood an inbox; the
      // password and name it sent last are the ones the account gets (not a decoy's).
      const recent = request.interactionUid ? await recentPendingFlowForEmail(db, 'registration', email, request.interactionUid, config.VERIFICATION_RESEND_COOLDOWN) : undefined;
      if (recent) {
        await updatePendingFlowPayload(db, recent.id, { passwordHash, name });
        return { flowId: recent.id, email };
      }
      const existing = await findAccountByEmail(db, email);
      if (existing) {
        const flow = await flows.create({ kind: 'registration', email, payload: { decoy: true, interactionUid: request.interactionUid }, ttlSeconds: config.EMAIL_VERIFICATION_TTL, withCode: true });
        await mailer.enqueue({ to: existing.email, template: 'registration_duplicate', data: { loginUrl: links.home, recoveryUrl: links.recovery, ...greetingName(existing) }, locale: existing.locale ?? request.locale });
        await recordAudit(db, { event: 'registration.duplicate', accountId: existing.id, ip: request.ip });
        return { flowId: flow.id, email };
      }
      const flow = await flows.create({
        kind: 'registration',
        email,
        payload: { name, passwordHash, interactionUid: request.interactionUid, invitationId: invitation?.id, locale: request.locale, tenant: request.tenant },
        ttlSeconds: config.EMAIL_VERIFICATION_TTL,
        withCode: true,
      });
      await mailer.enqueue({ to: email, template: 'verification', data: { link: links.verify(flow.token), code: flow.code! }, locale: request.locale });
      return { flowId: flow.id, email };
    },

    /** Sends the confirmation again (new link and code) unless the cool-down is running; only for the sign-in that started it. */
    async resend(flowId: string, interactionUid: string): Promise<'sent' | 'cooldown'> {
      const belongs = (flow: Flow) => flow.payload.interactionUid === interactionUid;
      const reissued = await flows.reissue(flowId, REGISTRATION_KINDS, config.VERIFICATION_RESEND_COOLDOWN, belongs).catch((error) => {
        if (isKeyholdError(error, 'invalid_code')) return undefined;
        throw error;
      });
      if (!reissued) return 'cooldown';
      if (reissued.payload.decoy !== true && reissued.email) {
        await mailer.enqueue({ to: reissued.email, template: 'verification', data: { link: links.verify(reissued.token), code: reissued.code! } });
      }
      return 'sent';
    },

    /**
     * Creates the account once the address is confirmed: by code in the sign-in that started
     * it, or by link. `browserBound` says the link was opened in that sign-in's browser;
     * anywhere else it needs the password chosen at registration (wrong ones are counted).
     */
    async complete(proof: { flowId: string; code: string; interactionUid: string } | { token: string; browserBound: boolean; password?: string }, ip?: string): Promise<CompletedRegistration> {
      const flow =
        'token' in proof
          ? await completeByLink(proof)
          : await flows.completeByCode(proof.flowId, proof.code, REGISTRATION_KINDS, (candidate) => candidate.payload.decoy === true || candidate.payload.interactionUid === proof.interactionUid);
      const payload = flow.payload as { name?: string; passwordHash?: string; interactionUid?: string; invitationId?: string; tenant?: string };
      const account = await deps.accounts.create({ email: flow.email!, passwordHash: payload.passwordHash, name: payload.name || undefined, emailVerified: true, source: 'registration', tenant: payload.tenant });
      if (payload.invitationId) await completeFlow(db, payload.invitationId);
      await recordAudit(db, { event: 'account.registered', accountId: account.id, ip });
      return { account, interactionUid: payload.interactionUid };
    },

    /** An invitation for REGISTRATION=invite: mailed, and returned for the operator. */
    async invite(email: string, invitedBy?: string): Promise<{ email: string; invitation: string; expiresAt: string }> {
      const parsed = emailSchema.safeParse(email);
      if (!parsed.success) throw new KeyholdError('invalid_email', { key: 'error.invalid_email.not_an_address' });
      const flow = await flows.create({ kind: 'invitation', email: parsed.data, payload: { invitedBy }, ttlSeconds: config.INVITATION_TTL, withCode: true });
      await mailer.enqueue({ to: parsed.data, template: 'invitation', data: { link: links.home, code: flow.token } });
      return { email: parsed.data, invitation: flow.token, expiresAt: flow.expiresAt.toISOString() };
    },
  };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
