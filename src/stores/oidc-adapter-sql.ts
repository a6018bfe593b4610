// The engine's storage adapter over the `oidc_payloads` table (Postgres or PGlite).
// One row per object, keyed by (model, hashToken(id)); secrets are sealed as described in
// oidc-adapter-common.ts. grant_id holds hashToken(grantId), uid hashToken(uid), user_code
// a keyed hash of the user code. Expired rows are invisible to reads at once and removed
// later by sweepExpiredPayloads.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AdapterPayload } from 'oidc-provider';
import { errors } from '#src/stores/engine-errors.ts';
import type { Database, OidcPayloadTable } from '#src/stores/schema.ts';
import {
  GRANT_MODEL,
  REPLAY_MODEL,
  assertEncryptionKey,
  consumeNotFound,
  epochSeconds,
  grantStorageKey,
  graceView,
  handleConsumeConflict,
  replayDetected,
  isSessionKey,
  sealPayload,
  storedSessionOf,
  storageId,
  uidStorageKey,
  unsealPayload,
  userCodeStorageKey,
  type EngineStateStore,
  type KeptState,
  type OidcAdapterOptions,
} from '#src/stores/oidc-adapter-common.ts';

export type SqlAdapterOptions = OidcAdapterOptions;

type Row = Pick<Selectable<OidcPayloadTable>, 'id' | 'payload' | 'consumed_at'>;

const notExpired = sql<boolean>`(expires_at is null or expires_at > now())`;

/** Deletes a revoked grant's objects (all models) and, when asked, the Grant itself. */
async function deleteGrant(db: Kysely<Database> | Transaction<Database>, grantId: string, includeGrant: boolean): Promise<void> {
  const hashed = grantStorageKey(grantId);
  await db
    .deleteFrom('oidc_payloads')
    .where((eb) => {
      const members = eb('grant_id', '=', hashed);
      return includeGrant ? eb.or([members, eb.and([eb('model', '=', GRANT_MODEL), eb('id', '=', storageId(grantId))])]) : members;
    })
    .execute();
}

export function createSqlAdapter(db: Kysely<Database>, options: SqlAdapterOptions): EngineStateStore {
  const { encryptionKey } = options;
  assertEncryptionKey(encryptionKey);

  const Adapter = class SqlOidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    private restore(row: Row | undefined, id?: string): AdapterPayload | undefined {
      if (!row) return undefined;
      const consumed = row.consumed_at ? epochSeconds(new Date(row.consumed_at)) : undefined;
      return graceView(this.model, unsealPayload(encryptionKey, this.model, row.id, row.payload, consumed, id), options.refreshGrace);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const sealed = sealPayload(encryptionKey, this.model, id, payload);
      let holdsNul = false;
      const stored = JSON.stringify(sealed.stored, (key, value: unknown) => {
        if (key.includes('\0') || (typeof value === 'string' && value.includes('\0'))) holdsNul = true;
        return value;
      });
      // jsonb cannot hold U+0000. The URL and body guards refuse it first; a request that
      // still carries one into engine state is the client's error, not a server error.
      if (holdsNul) throw new errors.InvalidRequest('request parameters must not contain NUL characters');
      const expiresAt = typeof expiresIn === 'number' ? sql<Date>`now() + make_interval(secs => ${expiresIn})` : null;
      const consumedAt = sealed.consumed === undefined ? null : sql<Date>`to_timestamp(${sealed.consumed})`;
      if (this.model === REPLAY_MODEL) {
        // Stored only when absent, or when the row there has expired but not been swept yet.
        const inserted = await db
          .insertInto('oidc_payloads')
          .values({ model: this.model, id: sealed.storedId, payload: stored, expires_at: expiresAt ?? sql<Date>`now() + interval '60 seconds'` })
          .onConflict((oc) =>
            oc
              .columns(['model', 'id'])
              .doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), expires_at: eb.ref('excluded.expires_at') }))
              .where(sql<boolean>`oidc_payloads.expires_at <= now()`),
          )
          .returning('id')
          .executeTakeFirst();
        if (!inserted) throw replayDetected();
        return;
      }
      await db
        .insertInto('oidc_payloads')
        .values({
          model: this.model,
          id: sealed.storedId,
          payload: stored,
          grant_id: sealed.grantKey ?? null,
          account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
          uid: sealed.uidKey ?? null,
          user_code: sealed.userCodeKey ?? null,
          expires_at: expiresAt,
          consumed_at: consumedAt,
        })
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet((eb) => ({
            payload: eb.ref('excluded.payload'),
            grant_id: eb.ref('excluded.grant_id'),
            account_id: eb.ref('excluded.account_id'),
            uid: eb.ref('excluded.uid'),
            user_code: eb.ref('excluded.user_code'),
            expires_at: eb.ref('excluded.expires_at'),
            // Consumption is one-way: an upsert of a copy read before a concurrent consume
            // must not make the object usable again.
            consumed_at: sql<Date>`coalesce(oidc_payloads.consumed_at, excluded.consumed_at)`,
          })),
        )
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const row = await db
        .selectFrom('oidc_payloads')
        .select(['id', 'payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('id', '=', storageId(id))
        .where(notExpired)
        .executeTakeFirst();
      return this.restore(row, id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const rows = await db
        .selectFrom('oidc_payloads')
        .select(['id', 'payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('uid', '=', uidStorageKey(uid))
        .where(notExpired)
        .execute();
      for (const row of rows) {
        const payload = this.restore(row);
        if (payload?.uid === uid) return payload;
      }
      return undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const rows = await db
        .selectFrom('oidc_payloads')
        .select(['id', 'payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('user_code', '=', userCodeStorageKey(encryptionKey, userCode))
        .where(notExpired)
        .execute();
      for (const row of rows) {
        const payload = this.restore(row);
        if (payload?.userCode === userCode) return payload;
      }
      return undefined;
    }

    async consume(id: string): Promise<void> {
      const storedId = storageId(id);
      // Row-level locking makes this the race's referee: of two concurrent updates, the
      // second re-checks `consumed_at is null` after the first commits and updates nothing.
      const updated = await db
        .updateTable('oidc_payloads')
        .set({ consumed_at: sql<Date>`now()` })
        .where('model', '=', this.model)
        .where('id', '=', storedId)
        .where('consumed_at', 'is', null)
        .where(notExpired)
        .returning('id')
        .executeTakeFirst();
      if (updated) return;
      const existing = await db
        .selectFrom('oidc_payloads')
        .select(['payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('id', '=', storedId)
        .where(notExpired)
        .executeTakeFirst();
      if (!existing?.consumed_at) throw consumeNotFound(this.model);
      await handleConsumeConflict(this.model, existing.payload, (grantId) => deleteGrant(db, grantId, true), {
        ...options,
        consumed: new Date(existing.consumed_at).getTime() / 1000,
      });
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', storageId(id)).execute();
    }

    /**
     * Deletes every object of the grant, whatever its model. The Grant object itself is
     * left to the engine, which destroys it separately when its revokeGrantPolicy says so
     * (by default not when only an access token is revoked).
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await deleteGrant(db, grantId, false);
    }
  };

  return {
    Adapter,
    /**
     * Ends everything an account holds: sessions, grants, and every token and code issued
     * to it (each row carries the account id).
     */
    async revokeAccount(accountId: string, keep: KeptState = {}): Promise<void> {
      const keptSessions = (keep.sessionIds ?? []).map(storageId);
      const keptGrants = (keep.grantIds ?? []).map(storageId);
      await db
        .deleteFrom('oidc_payloads')
        .where('account_id', '=', accountId)
        .where((eb) => {
          const spared = [];
          if (keptSessions.length) spared.push(eb.and([eb('model', '=', 'Session'), eb('id', 'in', keptSessions)]));
          if (keptGrants.length) {
            // grant_id holds hashToken(grantId), which is what storageId computes too.
            spared.push(eb('grant_id', 'in', keptGrants), eb.and([eb('model', '=', GRANT_MODEL), eb('id', 'in', keptGrants)]));
          }
          return spared.length ? eb.not(eb.or(spared)) : eb.lit(true);
        })
        .execute();
    },

    async accountSessions(accountId) {
      const rows = await db.selectFrom('oidc_payloads').select(['id', 'payload']).where('model', '=', 'Session').where('account_id', '=', accountId).where(notExpired).execute();
      return rows.map((row) => storedSessionOf(row.id, row.payload));
    },

    async endSession(accountId, sessionKey) {
      if (!isSessionKey(sessionKey)) return false;
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .deleteFrom('oidc_payloads')
          .where('model', '=', 'Session')
          .where('id', '=', sessionKey)
          .where('account_id', '=', accountId)
          .returning(['id', 'payload'])
          .executeTakeFirst();
        if (!row) return false;
        for (const grantId of storedSessionOf(row.id, row.payload).grantIds) await deleteGrant(trx, grantId, true);
        return true;
      });
    },
  };
}

const SWEEP_BATCH = 1000;

/**
 * Deletes expired rows, at most 1000 per statement so that no statement holds many row
 * locks or runs long; rows another sweeper is deleting are skipped. Returns how many rows
 * were deleted.
 */
export async function sweepExpiredPayloads(db: Kysely<Database>): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql<{ deleted: number }>`
      with batch as (
        select model, id from oidc_payloads
        where expires_at <= now()
        limit ${SWEEP_BATCH}
        for update skip locked
      )
      delete from oidc_payloads p using batch
      where p.model = batch.model and p.id = batch.id
    `.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < SWEEP_BATCH) return total;
  }
}
