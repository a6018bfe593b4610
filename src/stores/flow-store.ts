import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, FlowKind, SelfServiceFlowTable } from '#src/stores/schema.ts';
import { isUuid } from '#src/stores/id-shapes.ts';

export type FlowRow = Selectable<SelfServiceFlowTable>;
type Executor = Kysely<Database> | Transaction<Database>;


export async function insertFlow(
  db: Executor,
  flow: { id: string; kind: FlowKind; accountId: string | null; email: string | null; secretHash: string; codeHash: string | null; payload: Record<string, unknown>; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('self_service_flows')
    .values({
      id: flow.id,
      kind: flow.kind,
      account_id: flow.accountId,
      email: flow.email,
      secret_hash: flow.secretHash,
      code_hash: flow.codeHash,
      payload: JSON.stringify(flow.payload),
      expires_at: flow.expiresAt,
      last_sent_at: new Date(),
    })
    .execute();
}

export function findFlow(db: Executor, id: string, kinds: readonly FlowKind[]): Promise<FlowRow | undefined> {
  if (!isUuid(id) || kinds.length === 0) return Promise.resolve(undefined);
  return db.selectFrom('self_service_flows').selectAll().where('id', '=', id).where('kind', 'in', kinds).executeTakeFirst();
}

/** Marks a pending, unexpired flow completed; false when another request got there first. */
export async function completeFlow(db: Executor, id: string): Promise<boolean> {
  const row = await db
    .updateTable('self_service_flows')
    .set({ state: 'completed', completed_at: sql`now()` })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Counts a wrong code; cancels the flow once `maxAttempts` is reached. */
export async function recordFailedAttempt(db: Executor, id: string, maxAttempts: number): Promise<void> {
  await db
    .updateTable('self_service_flows')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      state: sql`case when attempts + 1 >= ${maxAttempts} then 'cancelled' else state end`,
    }))
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .execute();
}

/** Replaces the secrets of a pending flow when the cool-down has passed; false otherwise. */
export async function reissueFlowSecrets(db: Executor, id: string, secretHash: string, codeHash: string | null, cooldownSeconds: number): Promise<boolean> {
  const row = await db
    .updateTable('self_service_flows')
    .set({ secret_hash: secretHash, code_hash: codeHash, attempts: 0, last_sent_at: sql`now()` })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .where((eb) => eb.or([eb('last_sent_at', 'is', null), eb('last_sent_at', '<=', sql<Date>`now() - make_interval(secs => ${cooldownSeconds})`)]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Cancels an account's pending flows of the given kinds: a new reset link voids older ones,
 * and a password reset or an email change voids every pending reset and email change.
 */
export async function cancelPendingFlows(db: Executor, accountId: string, kinds: FlowKind | readonly FlowKind[]): Promise<void> {
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  if (list.length === 0) return;
  await db.updateTable('self_service_flows').set({ state: 'cancelled' }).where('account_id', '=', accountId).where('kind', 'in', list).where('state', '=', 'pending').execute();
}

export async function latestFlowCreatedAt(db: Executor, filter: { kind: FlowKind; accountId?: string; email?: string }): Promise<Date | undefined> {
  let query = db.selectFrom('self_service_flows').select((eb) => eb.fn.max('created_at').as('latest')).where('kind', '=', filter.kind);
  if (filter.accountId) query = query.where('account_id', '=', filter.accountId);
  if (filter.email) query = query.where('email', '=', filter.email);
  const row = await query.executeTakeFirst();
  return row?.latest ? new Date(row.latest) : undefined;
}

/**
 * The newest pending flow of a kind for an address that the sign-in `interactionUid` started,
 * created within the last `seconds`. Never another sign-in's flow: handing one request the
 * flow of another would let the first registrant's password win.
 */
export function recentPendingFlowForEmail(db: Executor, kind: FlowKind, email: string, interactionUid: string, seconds: number): Promise<Pick<FlowRow, 'id'> | undefined> {
  return db
    .selectFrom('self_service_flows')
    .select('id')
    .where('kind', '=', kind)
    .where('state', '=', 'pending')
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .where(sql<string>`payload->>'interactionUid'`, '=', interactionUid)
    .where('created_at', '>', sql<Date>`now() - make_interval(secs => ${seconds})`)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Removes flows that ended (expired, completed or cancelled) more than `retentionSeconds` ago. */
export async function deleteStaleFlows(db: Executor, retentionSeconds: number): Promise<number> {
  const result = await db
    .deleteFrom('self_service_flows')
    .where(sql<boolean>`greatest(expires_at, coalesce(completed_at, expires_at)) < now() - make_interval(secs => ${retentionSeconds})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The account's flows as its data export shows them: no secrets, no payload. */
export function flowsForExport(db: Executor, accountId: string) {
  return db.selectFrom('self_service_flows').select(['kind', 'state', 'email', 'created_at', 'expires_at', 'completed_at']).where('account_id', '=', accountId).execute();
}

/**
 * Merges `changes` into a pending flow's payload. A decoy (payload.decoy) is left as it is,
 * by the same single statement, so a real flow and a decoy cost the same.
 */
export async function updatePendingFlowPayload(db: Executor, id: string, changes: Record<string, unknown>): Promise<void> {
  await db
    .updateTable('self_service_flows')
    .set({ payload: sql<string>`payload || ${JSON.stringify(changes)}::jsonb` })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where(sql<boolean>`coalesce(payload->>'decoy', '') <> 'true'`)
    .execute();
}
