// Passkeys (WebAuthn, through @simplewebauthn/server): registration by a signed-in owner,
// and assertions, either as a second factor (the account is known: only its credentials
// are allowed) or passwordless (discoverable credentials: the credential tells the
// account). User verification is required, so a passkey use is itself multi-factor and
// phishing-resistant (bound to the relying party id and origin). Challenges are single-use
// and expire; a counter that goes backwards (a cloned authenticator) and an assertion from
// another origin are refused and audited.
import { randomUUID } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Kysely } from 'kysely';
import type { ProcessSettings, ProductPolicy } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import type { Account } from '#src/services/accounts.ts';
import { flowFailure } from '#src/services/flows.ts';
import type { FactorConfirmation, MfaService } from '#src/services/mfa/factors.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { MfaFactorRow } from '#src/stores/mfa-store.ts';
import * as store from '#src/stores/passkey-store.ts';
import type { Database } from '#src/stores/schema.ts';
import { isUuid } from '#src/stores/id-shapes.ts';
import { createWebauthnChallenges } from '#src/services/mfa/webauthn-challenges.ts';

// Loaded on the first passkey ceremony: the library and its certificate parsers are large,
// and neither a start nor a CLI command needs them.
let webauthn: Promise<typeof import('@simplewebauthn/server')> | undefined;
const loadWebauthn = () => (webauthn ??= import('@simplewebauthn/server'));

const TIMEOUT_MS = 120_000;
const MAX_NAME_LENGTH = 64;

export interface PasskeyDependencies {
  db: Kysely<Database>;
  config: Pick<ProcessSettings, 'ISSUER' | 'WEBAUTHN_RP_ID' | 'WEBAUTHN_ORIGINS'> & Pick<ProductPolicy, 'PASSKEYS' | 'TOTP_ISSUER_NAME'>;
  /** Keys the challenges' HMAC (DerivedKeys.webauthnChallenges). */
  challengeKey: Buffer;
  mfa: Pick<MfaService, 'enrolled' | 'addCountingFactor'>;
}

/** A registered passkey: the factor (and recovery codes if it is the first), and whether it is synced. */
export interface PasskeyRegistration extends FactorConfirmation {
  /** Synced between devices (amr `swk`) rather than bound to one (`hwk`). */
  synced: boolean;
}

/** A passkey assertion that checked out: whose, which credential, and how it is kept. */
export interface PasskeyUse {
  accountId: string;
  factorId: string;
  /** Synced passkeys (multi-device) are software keys (`swk`); device-bound ones hardware (`hwk`). */
  synced: boolean;
}

export function relyingParty(config: Pick<ProcessSettings, 'ISSUER' | 'WEBAUTHN_RP_ID' | 'WEBAUTHN_ORIGINS'>): { id: string; origins: string[] } {
  const issuer = new URL(config.ISSUER);
  return { id: config.WEBAUTHN_RP_ID ?? issuer.hostname, origins: config.WEBAUTHN_ORIGINS ?? [issuer.origin] };
}

export function createPasskeyService(deps: PasskeyDependencies) {
  const { db, config } = deps;
  const rp = relyingParty(config);
  const challenges = createWebauthnChallenges({ db, key: deps.challengeKey });

  const assertEnabled = () => {
    if (!config.PASSKEYS) throw new KeyholdError('factor_disabled');
  };

  const refused = async (reason: string, details: Record<string, unknown>, accountId?: string): Promise<never> => {
    await recordAudit(db, { event: 'passkey.refused', ...(accountId ? { accountId } : {}), details: { reason, ...details } });
    throw flowFailure('invalid');
  };

  const credentialOf = (row: MfaFactorRow) => ({
    id: row.credential_id!,
    publicKey: Buffer.from(row.public_key!, 'base64url'),
    counter: Number(row.sign_count ?? 0),
    transports: row.transports ? (JSON.parse(row.transports) as never[]) : undefined,
  });

  return {
    enabled: () => config.PASSKEYS,
    relyingParty: rp,

    /** Options for navigator.credentials.create(), and the id of the challenge they carry. */
    async registrationOptions(account: Account, purpose: string): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
      assertEnabled();
      const existing = await store.listPasskeys(db, account.id);
      const issued = challenges.issue(purpose, account.id);
      const options = await (await loadWebauthn()).generateRegistrationOptions({
        challenge: issued.challenge,
        rpName: config.TOTP_ISSUER_NAME,
        rpID: rp.id,
        userName: account.email,
        userDisplayName: account.name ?? account.email,
        userID: new TextEncoder().encode(account.id),
        attestationType: 'none',
        timeout: TIMEOUT_MS,
        excludeCredentials: existing.map((row) => ({ id: row.credential_id!, ...(row.transports ? { transports: JSON.parse(row.transports) as string[] } : {}) })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      return { challengeId: issued.id, options };
    },

    /** Verifies a registration and stores the passkey; it counts at once (recovery codes if it is the first factor). */
    async register(account: Account, input: { challengeId: string; purpose: string; response: unknown; name?: string }): Promise<PasskeyRegistration> {
      assertEnabled();
      const challenge = challenges.open(input.challengeId, input.purpose, account.id);
      let verification;
      try {
        verification = await (await loadWebauthn()).verifyRegistrationResponse({ response: input.response as RegistrationResponseJSON, expectedChallenge: challenge.matches, expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: true });
      } catch (error) {
        return refused('registration_invalid', { message: error instanceof Error ? error.message.slice(0, 200) : 'invalid' }, account.id);
      }
      if (!verification.verified) return refused('registration_unverified', {}, account.id);
      await challenge.use();
      const info = verification.registrationInfo;
      const id = randomUUID();
      const { stored, first } = await deps.mfa.addCountingFactor(account.id, (trx) => store.insertPasskey(trx, {
        id,
        accountId: account.id,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        signCount: info.credential.counter,
        transports: info.credential.transports ?? [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: (input.name?.trim() || 'Passkey').slice(0, MAX_NAME_LENGTH),
      }));
      if (!stored) throw new KeyholdError('factor_exists');
      return { ...(await deps.mfa.enrolled(account, id, first)), synced: info.credentialDeviceType === 'multiDevice' };
    },

    /**
     * Options for navigator.credentials.get(). With an account (second factor), only its
     * passkeys; without (passwordless), any discoverable one the browser holds.
     */
    async authenticationOptions(purpose: string, accountId?: string): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
      assertEnabled();
      const allowed = accountId ? await store.listPasskeys(db, accountId) : [];
      const issued = challenges.issue(purpose, accountId);
      const options = await (await loadWebauthn()).generateAuthenticationOptions({
        challenge: issued.challenge,
        rpID: rp.id,
        timeout: TIMEOUT_MS,
        userVerification: 'required',
        allowCredentials: allowed.map((row) => ({ id: row.credential_id!, ...(row.transports ? { transports: JSON.parse(row.transports) as never[] } : {}) })),
      });
      return { challengeId: issued.id, options };
    },

    /** Checks an assertion; whose passkey it was. Refusals (wrong origin, counter going back) are audited. */
    async authenticate(input: { challengeId: string; purpose: string; response: unknown; accountId?: string }): Promise<PasskeyUse> {
      assertEnabled();
      const challenge = challenges.open(input.challengeId, input.purpose, input.accountId);
      const response = input.response as AuthenticationResponseJSON;
      const credentialId = typeof response?.id === 'string' ? response.id : '';
      const row = credentialId ? await store.findPasskeyByCredential(db, credentialId) : undefined;
      if (!row || (input.accountId && row.account_id !== input.accountId)) return refused('unknown_credential', {}, input.accountId);
      let verification;
      try {
        verification = await (await loadWebauthn()).verifyAuthenticationResponse({ response, expectedChallenge: challenge.matches, expectedOrigin: rp.origins, expectedRPID: rp.id, credential: credentialOf(row), requireUserVerification: true });
      } catch (error) {
        const message = error instanceof Error ? error.message : '';
        const reason = /origin/i.test(message) ? 'wrong_origin' : /counter/i.test(message) ? 'counter_regression' : 'assertion_invalid';
        return refused(reason, { factorId: row.id, message: message.slice(0, 200) }, row.account_id);
      }
      if (!verification.verified) return refused('assertion_unverified', { factorId: row.id }, row.account_id);
      await challenge.use();
      await store.recordPasskeyUse(db, row.id, verification.authenticationInfo.newCounter, verification.authenticationInfo.credentialBackedUp);
      return { accountId: row.account_id, factorId: row.id, synced: row.device_type === 'multiDevice' };
    },

    async rename(account: Account, factorId: string, name: string): Promise<void> {
      const trimmed = name.trim().slice(0, MAX_NAME_LENGTH);
      if (!trimmed || !isUuid(factorId) || !(await store.renamePasskey(db, account.id, factorId, trimmed))) throw new KeyholdError('unknown_factor');
    },

    hasPasskeys: async (accountId: string) => config.PASSKEYS && (await store.listPasskeys(db, accountId)).length > 0,
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
