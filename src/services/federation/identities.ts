// Which Keyhold account an upstream identity is. Already linked: that account. Not linked
// and nobody has the address: a new account (when registration is open), created together
// with the link. An account with the same address exists: never taken over silently
// (account pre-hijacking, USENIX Security 2022) — the person proves they own that account
// (its password, or being signed in to it) and only then is the identity linked. An address
// the upstream does not say it verified neither links nor claims anything. A locked account
// is not signed in by its upstream identity either (lockout.ts): the sign-in fails as any
// failed federated sign-in does.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { KeyholdError } from '#src/errors.ts';
import { emailSchema } from '#src/services/accounts.ts';
import { emitEvent } from '#src/services/events.ts';
import type { Connector } from '#src/services/federation/connectors.ts';
import type { UpstreamProfile } from '#src/services/federation/upstream.ts';
import type { LockoutService } from '#src/services/lockout.ts';
import type { Telemetry } from '#src/services/telemetry.ts';
import type { TenantSettings } from '#src/services/tenant-settings.ts';
import { findAccountByEmail, findAccountById, insertAccount } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import {
  accountHasPassword,
  deleteFederatedIdentity,
  findFederatedIdentity,
  insertFederatedIdentity,
  listFederatedIdentities,
  touchFederatedIdentity,
} from '#src/stores/federated-identity-store.ts';
import type { Database } from '#src/stores/schema.ts';

export type Resolution =
  | { kind: 'signed_in' | 'created'; accountId: string }
  | { kind: 'link_required'; accountId: string; email: string }
  | { kind: 'locked'; accountId: string }
  | { kind: 'refused'; reason: 'email_unverified' | 'registration_closed' | 'account_disabled' };

export interface LinkedIdentity {
  connector_id: string;
  subject: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface FederatedIdentityDependencies {
  db: Kysely<Database>;
  /** The registration mode of the tenant an account would be created in. */
  tenantSettings: TenantSettings;
  defaultRoles: readonly string[];
  /** A locked account is not signed in through federation (absent: no lockout). */
  lockout?: Pick<LockoutService, 'isLocked'>;
  telemetry?: Pick<Telemetry, 'loginAttempts'>;
}

export function createFederatedIdentityService(deps: FederatedIdentityDependencies) {
  const { db } = deps;
  const audit = (event: string, accountId: string | null, connector: Connector, details: Record<string, unknown> = {}, ip?: string) =>
    recordAudit(db, { event, accountId, ip, details: { connector: connector.id, ...details } });

  return {
    /** The account this upstream identity signs in to, or what stands in the way. */
    /** `tenant`: the tenant of the client signed in to, where a new account goes. */
    async resolve(connector: Connector, profile: UpstreamProfile, context: { ip?: string; tenant?: string } = {}): Promise<Resolution> {
      const linked = await findFederatedIdentity(db, connector.id, profile.subject);
      if (linked) {
        const account = await findAccountById(db, linked.account_id);
        if (!account?.active) return { kind: 'refused', reason: 'account_disabled' };
        if (await deps.lockout?.isLocked(account.id)) {
          // Recorded as the password form records a locked account's sign-in.
          deps.telemetry?.loginAttempts.inc({ outcome: 'locked', method: 'federated' });
          await recordAudit(db, { event: 'login.failed', accountId: account.id, ip: context.ip ?? null, actor: 'account', outcome: 'failure', details: { method: 'federated', connector: connector.id, reason: 'locked' } });
          await emitEvent(db, 'auth.login.failed', { user_id: account.id, method: 'federated', reason: 'locked', ip: context.ip ?? null });
          return { kind: 'locked', accountId: account.id };
        }
        await touchFederatedIdentity(db, connector.id, profile.subject);
        await audit('federation.sign_in', account.id, connector, {}, context.ip);
        return { kind: 'signed_in', accountId: account.id };
      }
      const email = profile.email ? emailSchema.safeParse(profile.email) : undefined;
      if (!email?.success || !profile.emailVerified) {
        await audit('federation.refused', null, connector, { reason: 'email_unverified' }, context.ip);
        return { kind: 'refused', reason: 'email_unverified' };
      }
      const existing = await findAccountByEmail(db, email.data);
      if (existing) return { kind: 'link_required', accountId: existing.id, email: existing.email };
      // An invitation is for a person typing the address it was sent to, not for an upstream.
      if ((await deps.tenantSettings.registration(context.tenant)) !== 'open') {
        await audit('federation.refused', null, connector, { reason: 'registration_closed' }, context.ip);
        return { kind: 'refused', reason: 'registration_closed' };
      }
      // The account and its link are one transaction: a failure leaves neither behind.
      const created = await db.transaction().execute(async (trx) => {
        const account = await insertAccount(trx, {
          id: randomUUID(),
          email: email.data,
          name: profile.name?.trim().slice(0, 200) || null,
          passwordHash: null,
          emailVerified: true,
          roles: [...deps.defaultRoles],
          tier: null,
          tenant: context.tenant ?? null,
        });
        if (!account) return undefined;
        if (!(await insertFederatedIdentity(trx, { connectorId: connector.id, subject: profile.subject, accountId: account.id, email: email.data }))) {
          throw new KeyholdError('invalid_sign_in');
        }
        return account;
      });
      // Someone took the address meanwhile: that account's owner must link it.
      if (!created) {
        const owner = await findAccountByEmail(db, email.data);
        return owner ? { kind: 'link_required', accountId: owner.id, email: owner.email } : { kind: 'refused', reason: 'registration_closed' };
      }
      await recordAudit(db, { event: 'account.registered', accountId: created.id, ip: context.ip, details: { connector: connector.id } });
      return { kind: 'created', accountId: created.id };
    },

    /** Links the identity to an account whose ownership the caller has just proven. */
    async link(connector: Connector, profile: UpstreamProfile, accountId: string, proof: 'password' | 'session', ip?: string): Promise<void> {
      const account = await findAccountById(db, accountId);
      if (!account?.active) throw new KeyholdError('invalid_sign_in');
      if (!(await insertFederatedIdentity(db, { connectorId: connector.id, subject: profile.subject, accountId, email: profile.email ?? null }))) {
        const other = await findFederatedIdentity(db, connector.id, profile.subject);
        if (other?.account_id !== accountId) throw new KeyholdError('identity_linked_elsewhere');
      }
      await audit('federation.linked', accountId, connector, { proof }, ip);
    },

    async list(accountId: string): Promise<LinkedIdentity[]> {
      return (await listFederatedIdentities(db, accountId)).map((row) => ({
        connector_id: row.connector_id,
        subject: row.subject,
        email: row.email,
        created_at: row.created_at.toISOString(),
        last_used_at: row.last_used_at?.toISOString() ?? null,
      }));
    },

    /** Unlinks one identity; the last way to sign in (no password, no other identity) stays. */
    async unlink(accountId: string, connectorId: string, subject: string, ip?: string): Promise<void> {
      const identities = await listFederatedIdentities(db, accountId);
      if (!identities.some((row) => row.connector_id === connectorId && row.subject === subject)) throw new KeyholdError('not_found');
      if (identities.length === 1 && !(await accountHasPassword(db, accountId))) throw new KeyholdError('last_sign_in_method');
      await deleteFederatedIdentity(db, accountId, connectorId, subject);
      await recordAudit(db, { event: 'federation.unlinked', accountId, ip, details: { connector: connectorId } });
    },
  };
}

export type FederatedIdentityService = ReturnType<typeof createFederatedIdentityService>;
