// Second factors of an account: enrolment, verification, removal, and recovery codes.
// Rules kept here: a factor counts only once confirmed with a valid code; a TOTP code works
// once (claimed by time step in SQL, so on every node); emailed and texted codes are
// six digits, HMAC'd, expire after MFA_OTP_TTL and allow five attempts; recovery codes are
// issued with the first factor, shown once, single-use, and replaced as a set; every change
// is audited and mailed to the owner.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { ProcessSettings, ProductPolicy } from '#src/config.ts';
import { decrypt, encrypt } from '#src/crypto.ts';
import { KeyholdError } from '#src/errors.ts';
import type { Account } from '#src/services/accounts.ts';
import { flowFailure } from '#src/services/flows.ts';
import { greetingName, tooSoon } from '#src/services/lifecycle.ts';
import type { Mailer } from '#src/services/mailer.ts';
import { challengeCodeMatches, generateRecoveryCodes, hashChallengeCode, hashRecoveryCode, sixDigitCode } from '#src/services/mfa/codes.ts';
import type { SmsSender } from '#src/services/mfa/sms.ts';
import { newTotpSecret, totpQrSvg, totpStepOf, totpUri } from '#src/services/mfa/totp.ts';
import { emitEvent } from '#src/services/events.ts';
import { lockAccount } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import * as store from '#src/stores/mfa-store.ts';
import type { Database } from '#src/stores/schema.ts';

export type FactorKind = store.MfaFactorRow['kind'];
export const FACTOR_KINDS: readonly FactorKind[] = ['totp', 'email', 'sms', 'passkey'];

/** A factor as pages and the Account API show it: never its secret. */
export interface FactorView {
  id: string;
  kind: FactorKind;
  /** Where codes go, partly hidden (SMS: the last digits; email: the address's first letter and domain). */
  destination: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface TotpEnrolment {
  factorId: string;
  secret: string;
  uri: string;
  qrSvg: string;
}

/** What a code proved: the factor used, and the recovery codes issued if it was the first. */
export interface FactorConfirmation {
  factor: FactorView;
  recoveryCodes?: string[];
}

export interface MfaDependencies {
  db: Kysely<Database>;
  config: Pick<ProcessSettings, 'ISSUER'> &
    Pick<ProductPolicy, 'MFA_TOTP' | 'MFA_EMAIL' | 'MFA_SMS' | 'PASSKEYS' | 'MFA_OTP_TTL' | 'MFA_OTP_RESEND_COOLDOWN' | 'TOTP_ISSUER_NAME'>;
  /** DerivedKeys.mfaSecrets (seals TOTP secrets) and .mfaCodes (keys the code HMACs). */
  keys: { secrets: Buffer; codes: Buffer };
  mailer: Pick<Mailer, 'enqueue'>;
  sms: SmsSender;
}

const MAX_CODE_ATTEMPTS = 5;
const ENROL_PURPOSE = 'enrol';
const phoneNumber = /^\+[1-9]\d{6,14}$/;

const greeting = (account: Account) => greetingName({ name: account.name, email_verified: account.emailVerified });
const maskPhone = (phone: string) => `•••${phone.slice(-4)}`;
const maskEmail = (email: string) => `${email[0]}•••@${email.slice(email.lastIndexOf('@') + 1)}`;

export function createMfaService(deps: MfaDependencies) {
  const { db, config, keys } = deps;
  const securityUrl = `${config.ISSUER}/account/security`;
  const enabled: Record<FactorKind, boolean> = { totp: config.MFA_TOTP, email: config.MFA_EMAIL, sms: config.MFA_SMS, passkey: config.PASSKEYS };
  const secretAad = (factorId: string) => `mfa-factor:${factorId}`;

  const view = (row: store.MfaFactorRow, account: Pick<Account, 'email'>): FactorView => ({
    id: row.id,
    kind: row.kind,
    destination: row.kind === 'sms' && row.phone_number ? maskPhone(row.phone_number) : row.kind === 'email' ? maskEmail(account.email) : row.kind === 'passkey' ? row.name : null,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
  });

  const assertEnabled = (kind: FactorKind) => {
    if (!enabled[kind]) throw new KeyholdError('factor_disabled');
  };

  /** The account's confirmed factor by id, of a kind that is switched on. */
  const usableFactor = async (account: Account, factorId: string): Promise<store.MfaFactorRow> => {
    const row = await store.findFactor(db, account.id, factorId);
    if (!row || !row.confirmed_at || !enabled[row.kind]) throw new KeyholdError('unknown_factor');
    return row;
  };

  const notify = async (account: Account, template: 'mfa_factor_added' | 'mfa_factor_removed' | 'mfa_recovery_codes_regenerated', kind?: FactorKind) => {
    await deps.mailer.enqueue({ to: account.email, template, data: { ...(kind ? { kind } : {}), securityUrl, ...greeting(account) }, locale: account.locale ?? undefined });
  };

  const issueRecoveryCodes = async (accountId: string): Promise<string[]> => {
    const codes = generateRecoveryCodes();
    await store.replaceRecoveryCodes(
      db,
      accountId,
      codes.map((code) => ({ id: randomUUID(), hash: hashRecoveryCode(keys.codes, accountId, code) })),
    );
    return codes;
  };

  /** Sends a fresh code to an email or SMS factor, unless one went out within the cool-down. */
  const sendCode = async (account: Account, factor: store.MfaFactorRow, purpose: string): Promise<'sent' | 'wait'> => {
    const latest = await store.latestChallenge(db, factor.id, purpose);
    if (latest && Date.now() - latest.created_at.getTime() < config.MFA_OTP_RESEND_COOLDOWN * 1000) return 'wait';
    const id = randomUUID();
    const code = sixDigitCode();
    await store.insertChallenge(db, { id, accountId: account.id, factorId: factor.id, purpose, codeHash: hashChallengeCode(keys.codes, id, code), ttlSeconds: config.MFA_OTP_TTL });
    const minutes = String(Math.max(1, Math.round(config.MFA_OTP_TTL / 60)));
    if (factor.kind === 'sms') {
      await deps.sms.send(factor.phone_number!, `${code} is your ${config.TOTP_ISSUER_NAME} verification code. It expires in ${minutes} minutes. Do not share it.`);
    } else {
      await deps.mailer.enqueue({ to: account.email, template: 'mfa_code', data: { code, minutes, ...greeting(account) }, locale: account.locale ?? undefined });
    }
    return 'sent';
  };

  /**
   * A new email or SMS enrolment replaces the pending one (and its codes) with a new factor,
   * so the per-factor cool-down alone would let every request send a text, to any number:
   * the cool-down also holds per account (over its unconfirmed factors), checked before the
   * old enrolment is dropped.
   */
  const assertEnrolmentCooldown = async (account: Account): Promise<void> => {
    const latest = await store.latestPendingFactorChallengeAt(db, account.id, ENROL_PURPOSE);
    const waitSeconds = latest ? Math.ceil(config.MFA_OTP_RESEND_COOLDOWN - (Date.now() - latest.getTime()) / 1000) : 0;
    if (waitSeconds > 0) throw tooSoon(waitSeconds);
  };

  /** A new email or SMS enrolment in place of the pending one of its kind, and its first code. */
  const startCodeEnrolment = async (account: Account, factor: { kind: 'email' } | { kind: 'sms'; phoneNumber: string }): Promise<{ factorId: string }> => {
    await assertEnrolmentCooldown(account);
    const factorId = randomUUID();
    await db.transaction().execute(async (trx) => {
      await store.deletePendingFactors(trx, account.id, factor.kind);
      await store.insertFactor(trx, { id: factorId, accountId: account.id, ...factor });
    });
    await sendCode(account, (await store.findFactor(db, account.id, factorId))!, ENROL_PURPOSE);
    return { factorId };
  };

  /** Checks a code sent to `factor` for `purpose`: the newest one only, five attempts, once. */
  const checkSentCode = async (factor: store.MfaFactorRow, purpose: string, code: string): Promise<void> => {
    const latest = await store.latestChallenge(db, factor.id, purpose);
    const spent = latest ? await store.spendChallengeAttempt(db, latest.id, MAX_CODE_ATTEMPTS) : undefined;
    if (!spent) throw flowFailure(latest?.consumed_at ? 'used' : latest && latest.expires_at.getTime() <= Date.now() ? 'expired' : 'invalid');
    if (!challengeCodeMatches(keys.codes, spent.id, code, spent.code_hash)) throw flowFailure('invalid');
    if (!(await store.consumeChallenge(db, spent.id))) throw flowFailure('used');
  };

  /** Checks a code against a factor; throws invalid_code (wrong, expired, replayed). */
  const checkCode = async (factor: store.MfaFactorRow, code: string, purpose: string): Promise<number | undefined> => {
    const typed = code.replace(/\s/g, '');
    if (factor.kind === 'totp') {
      const step = await totpStepOf(decrypt(keys.secrets, factor.secret_encrypted!, secretAad(factor.id)), typed);
      if (step === undefined) throw flowFailure('invalid');
      return step;
    }
    await checkSentCode(factor, purpose, typed);
    return undefined;
  };

  /**
   * Writes a factor that counts from now on (`write` says whether it stored it), under the
   * account's row lock, and says whether it is the account's first: two at the same moment
   * cannot both be first (a first passkey has no factor row to lock yet, hence the account).
   */
  const addCountingFactor = (accountId: string, write: (trx: Transaction<Database>) => Promise<boolean>): Promise<{ stored: boolean; first: boolean }> =>
    db.transaction().execute(async (trx) => {
      await lockAccount(trx, accountId);
      const first = (await store.countConfirmedFactors(trx, accountId)) === 0;
      return { stored: await write(trx), first };
    });

  /** Confirms an enrolment; the first factor of an account also issues recovery codes. */
  const confirmEnrolment = async (account: Account, factorId: string, code: string): Promise<FactorConfirmation> => {
    const row = await store.findFactor(db, account.id, factorId);
    if (!row || row.confirmed_at) throw flowFailure('invalid');
    assertEnabled(row.kind);
    const step = await checkCode(row, code, ENROL_PURPOSE);
    // Confirmed under the account's lock: two enrolments confirmed at the same moment must not
    // both be "the first" (the second recovery set would void the codes just shown).
    const { stored, first } = await addCountingFactor(account.id, (trx) => store.confirmFactor(trx, row.id, step));
    if (!stored) throw flowFailure('used');
    return enrolled(account, row.id, first);
  };

  /** After a factor started counting: recovery codes if it is the first, the audit record, the owner's mail. */
  const enrolled = async (account: Account, factorId: string, first: boolean): Promise<FactorConfirmation> => {
    const confirmed = (await store.findFactor(db, account.id, factorId))!;
    const recoveryCodes = first ? await issueRecoveryCodes(account.id) : undefined;
    await recordAudit(db, { event: 'mfa.enrolled', accountId: account.id, details: { kind: confirmed.kind, factorId } });
    await emitEvent(db, 'auth.mfa_enrolled', { user_id: account.id, factor: confirmed.kind });
    await notify(account, 'mfa_factor_added', confirmed.kind);
    return { factor: view(confirmed, account), ...(recoveryCodes ? { recoveryCodes } : {}) };
  };

  return {
    /** The factor kinds switched on, in the order pages offer them. */
    enabledKinds: (): FactorKind[] => FACTOR_KINDS.filter((kind) => enabled[kind]),

    async listFactors(account: Account): Promise<FactorView[]> {
      return (await store.listFactors(db, account.id)).filter((row) => enabled[row.kind]).map((row) => view(row, account));
    },

    /** Whether the account has a confirmed factor it can use now. */
    async hasFactors(accountId: string): Promise<boolean> {
      return (await store.listFactors(db, accountId)).some((row) => enabled[row.kind]);
    },

    recoveryCodesLeft: (accountId: string) => store.countUnusedRecoveryCodes(db, accountId),

    /** Starts a TOTP enrolment: a new secret (replacing an unfinished one), its URI and QR code. */
    async startTotp(account: Account): Promise<TotpEnrolment> {
      assertEnabled('totp');
      const factorId = randomUUID();
      const secret = newTotpSecret();
      await db.transaction().execute(async (trx) => {
        await store.deletePendingFactors(trx, account.id, 'totp');
        await store.insertFactor(trx, { id: factorId, accountId: account.id, kind: 'totp', secretEncrypted: encrypt(keys.secrets, secret, secretAad(factorId)) });
      });
      const uri = totpUri(secret, config.TOTP_ISSUER_NAME, account.email);
      return { factorId, secret, uri, qrSvg: await totpQrSvg(uri) };
    },

    /** A pending TOTP enrolment shown again (the page reloaded): the same secret. */
    async pendingTotp(account: Account, factorId: string): Promise<TotpEnrolment | undefined> {
      const row = await store.findFactor(db, account.id, factorId);
      if (!row || row.kind !== 'totp' || row.confirmed_at) return undefined;
      const secret = decrypt(keys.secrets, row.secret_encrypted!, secretAad(row.id));
      const uri = totpUri(secret, config.TOTP_ISSUER_NAME, account.email);
      return { factorId: row.id, secret, uri, qrSvg: await totpQrSvg(uri) };
    },

    /** A pending email or SMS enrolment of the account, as shown while its code is awaited. */
    async pendingFactor(account: Account, factorId: string): Promise<FactorView | undefined> {
      const row = await store.findFactor(db, account.id, factorId);
      return row && !row.confirmed_at && row.kind !== 'totp' ? view(row, account) : undefined;
    },

    /** Starts an email-code enrolment: a code goes to the account's address. */
    async startEmail(account: Account): Promise<{ factorId: string }> {
      assertEnabled('email');
      if ((await store.listFactors(db, account.id)).some((row) => row.kind === 'email')) throw new KeyholdError('factor_exists');
      return startCodeEnrolment(account, { kind: 'email' });
    },

    /** Starts an SMS enrolment: a code goes to the number given (E.164). */
    async startSms(account: Account, phone: string): Promise<{ factorId: string }> {
      assertEnabled('sms');
      const number = phone.replace(/[\s().-]/g, '');
      if (!phoneNumber.test(number)) throw new KeyholdError('invalid_phone_number');
      if ((await store.listFactors(db, account.id)).some((row) => row.kind === 'sms' && row.phone_number === number)) throw new KeyholdError('factor_exists');
      return startCodeEnrolment(account, { kind: 'sms', phoneNumber: number });
    },

    /** Sends the enrolment code again (email or SMS), after the cool-down. */
    async resendEnrolmentCode(account: Account, factorId: string): Promise<'sent' | 'wait'> {
      const row = await store.findFactor(db, account.id, factorId);
      if (!row || row.confirmed_at || row.kind === 'totp') throw flowFailure('invalid');
      return sendCode(account, row, ENROL_PURPOSE);
    },

    confirmEnrolment,

    /** A factor that counted from the start (a passkey whose registration was verified). */
    enrolled,

    addCountingFactor,

    view,

    /** Sends a sign-in code to an email or SMS factor (`purpose` ties it to one sign-in). */
    async sendChallenge(account: Account, factorId: string, purpose: string): Promise<'sent' | 'wait'> {
      const row = await usableFactor(account, factorId);
      if (row.kind !== 'email' && row.kind !== 'sms') throw new KeyholdError('unknown_factor');
      return sendCode(account, row, purpose);
    },

    /** Checks a sign-in code from a confirmed factor; the factor used, or invalid_code. */
    async verify(account: Account, factorId: string, code: string, purpose: string): Promise<FactorView> {
      const row = await usableFactor(account, factorId);
      // A passkey is proven by a WebAuthn assertion (passkeys.ts), never by a typed code.
      if (row.kind === 'passkey') throw flowFailure('invalid');
      const step = await checkCode(row, code, purpose);
      if (step !== undefined && !(await store.claimTotpStep(db, row.id, step))) throw flowFailure('used');
      if (step === undefined) await store.touchFactor(db, row.id);
      return view(row, account);
    },

    /** Uses up a recovery code; how many are left, or invalid_code. The owner is mailed. */
    async useRecoveryCode(account: Account, code: string): Promise<number> {
      const hash = hashRecoveryCode(keys.codes, account.id, code);
      if (!(await store.useRecoveryCode(db, account.id, hash))) throw flowFailure('invalid');
      const remaining = await store.countUnusedRecoveryCodes(db, account.id);
      await recordAudit(db, { event: 'mfa.recovery_code_used', accountId: account.id, details: { remaining } });
      await deps.mailer.enqueue({ to: account.email, template: 'recovery_code_used', data: { remaining: String(remaining), securityUrl, ...greeting(account) }, locale: account.locale ?? undefined });
      return remaining;
    },

    /** A new set of recovery codes; the old set stops working. Needs a confirmed factor. */
    async regenerateRecoveryCodes(account: Account): Promise<string[]> {
      if (!(await store.listFactors(db, account.id)).length) throw new KeyholdError('unknown_factor');
      const codes = await issueRecoveryCodes(account.id);
      await recordAudit(db, { event: 'mfa.recovery_codes_regenerated', accountId: account.id });
      await notify(account, 'mfa_recovery_codes_regenerated');
      return codes;
    },

    /**
     * Removes a factor. `mustKeepOne`: policy requires a second factor of this account, so
     * the last one stays. With the last factor gone, the recovery codes go too.
     */
    async removeFactor(account: Account, factorId: string, options: { mustKeepOne: boolean }): Promise<void> {
      const row = await store.findFactor(db, account.id, factorId);
      if (!row) throw new KeyholdError('unknown_factor');
      await db.transaction().execute(async (trx) => {
        await store.lockFactors(trx, account.id);
        if (row.confirmed_at && options.mustKeepOne && (await store.countConfirmedFactors(trx, account.id)) <= 1) throw new KeyholdError('factor_required');
        await store.deleteFactor(trx, account.id, row.id);
        if ((await store.countConfirmedFactors(trx, account.id)) === 0) await store.deleteRecoveryCodes(trx, account.id);
      });
      if (!row.confirmed_at) return;
      await recordAudit(db, { event: 'mfa.removed', accountId: account.id, details: { kind: row.kind, factorId: row.id } });
      await notify(account, 'mfa_factor_removed', row.kind);
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
