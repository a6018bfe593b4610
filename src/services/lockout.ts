// Account lockout: LOCKOUT_THRESHOLD failed sign-ins of one account within LOCKOUT_WINDOW
// seconds lock it for LOCKOUT_DURATION seconds, on every node (the store is shared). While
// locked, sign-in refuses even the right password with the answer a wrong one gets, so the
// lock tells a guesser nothing, not even that the account exists. The owner is mailed once
// per lock (the failure that locks is counted atomically, exactly once). Any step that
// checks a credential (the password form, the MFA challenge) reports its failures here and
// asks isLocked first; an operator lifts a lock with unlock().
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { greetingName, lifecycleLinks } from '#src/services/lifecycle.ts';
import type { Mailer } from '#src/services/mailer.ts';
import type { Telemetry } from '#src/services/telemetry.ts';
import { findAccountById } from '#src/stores/account-store.ts';
import { recordAudit } from '#src/stores/audit-store.ts';
import type { FailureOutcome, LockoutRule, LockoutStore } from '#src/stores/lockout-store.ts';
import type { Database } from '#src/stores/schema.ts';

export interface LockoutService {
  /** Counts one failed sign-in of the account; the failure that reaches the threshold locks it. */
  recordFailure(accountId: string, context?: { ip?: string | null }): Promise<FailureOutcome>;
  isLocked(accountId: string): Promise<boolean>;
  /** When the account's lock ends, if it is locked. */
  lockedUntil(accountId: string): Promise<Date | undefined>;
  /**
   * Lifts the lock and forgets the failures; true when the account was locked. `actor` (who
   * lifted it) records account.unlocked; without it the caller records the action itself,
   * as the administration services do (admin.account_unlocked), so one unlock is one entry.
   */
  unlock(accountId: string, actor?: string): Promise<boolean>;
}

/** Who hears about a lock besides the owner's mail (events, set up by the core). */
export type LockListener = (lock: { accountId: string; lockedUntil: Date; failures: number }) => Promise<void>;

export interface LockoutDependencies {
  db: Kysely<Database>;
  store: LockoutStore;
  rule: LockoutRule;
  issuer: string;
  mailer: Pick<Mailer, 'enqueue'>;
  telemetry: Pick<Telemetry, 'lockouts'>;
  logger: Pick<Logger, 'warn' | 'info'>;
  onLocked?: LockListener[];
}

export function createLockoutService(deps: LockoutDependencies): LockoutService {
  const { db, store, rule } = deps;
  const links = lifecycleLinks(deps.issuer);

  const locked = async (accountId: string, lockedUntil: Date, ip: string | null | undefined) => {
    deps.telemetry.lockouts.inc();
    const account = await findAccountById(db, accountId);
    if (!account) return;
    deps.logger.info({ event: 'account.locked', accountId }, 'account locked after failed sign-ins');
    await recordAudit(db, { event: 'account.locked', accountId, ip: ip ?? null, actor: 'system', outcome: 'success', details: { until: lockedUntil.toISOString(), failures: rule.threshold } });
    await deps.mailer.enqueue({
      to: account.email,
      template: 'account_locked',
      data: { minutes: String(Math.ceil(rule.durationSeconds / 60)), recoveryUrl: links.recovery, ...greetingName(account) },
      locale: account.locale ?? undefined,
    });
    for (const listener of deps.onLocked ?? []) await listener({ accountId, lockedUntil, failures: rule.threshold });
  };

  return {
    async recordFailure(accountId, context = {}) {
      const outcome = await store.recordFailure(accountId, rule);
      if (outcome.lockedNow && outcome.lockedUntil) await locked(accountId, outcome.lockedUntil, context.ip);
      return outcome;
    },
    async isLocked(accountId) {
      return (await store.lockedUntil(accountId)) !== undefined;
    },
    lockedUntil: (accountId) => store.lockedUntil(accountId),
    async unlock(accountId, actor) {
      const wasLocked = await store.clear(accountId);
      if (wasLocked && actor) await recordAudit(db, { event: 'account.unlocked', accountId, actor, outcome: 'success' });
      return wasLocked;
    },
  };
}
