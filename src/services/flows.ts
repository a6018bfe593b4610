// Self-service flows (Kratos-style): a stored object with a kind, a state and an expiry,
// advanced by an emailed link (`<flow id>.<secret>`) or, in the same browser, by a
// six-digit code. Only hashes of the secret and the code are stored; the code's hash is
// keyed (HMAC) because a million possible codes are trivially enumerated otherwise, and
// wrong codes are counted so that guessing ends the flow.
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { constantTimeEqual, hashToken, randomToken } from '#src/crypto.ts';
import type { Database, FlowKind } from '#src/stores/schema.ts';
import { completeFlow, findFlow, insertFlow, recordFailedAttempt, reissueFlowSecrets, type FlowRow } from '#src/stores/flow-store.ts';

export const MAX_CODE_ATTEMPTS = 5;

export interface Flow {
  id: string;
  kind: FlowKind;
  accountId: string | null;
  email: string | null;
  payload: Record<string, unknown>;
  expiresAt: Date;
}

export interface IssuedFlow extends Flow {
  /** For the link: `<id>.<secret>`. */
  token: string;
  /** Six digits, when the flow was created with a code. */
  code?: string;
}

/** `address_changed`: the account no longer uses the address the flow was mailed to. */
export type FlowFailure = 'invalid' | 'expired' | 'used' | 'address_changed';

/** A link or code that cannot be used: `invalid_code`, with the failure as field `reason`. */
export function flowFailure(reason: FlowFailure): KeyholdError<'invalid_code'> {
  return new KeyholdError('invalid_code', { key: reason === 'invalid' ? 'error.invalid_code' : `error.invalid_code.${reason}`, fields: { reason } });
}

/** The failure of a flow error (from flowFailure), if `error` is one. */
export function flowFailureOf(error: unknown): FlowFailure | undefined {
  return isKeyholdError(error, 'invalid_code') ? (error.fields.reason as FlowFailure | undefined) : undefined;
}

type Executor = Kysely<Database> | Transaction<Database>;

function toFlow(row: FlowRow): Flow {
  return { id: row.id, kind: row.kind, accountId: row.account_id, email: row.email, payload: row.payload, expiresAt: new Date(row.expires_at) };
}

export interface FlowService {
  create(input: { kind: FlowKind; accountId?: string | null; email?: string | null; payload?: Record<string, unknown>; ttlSeconds: number; withCode?: boolean }, executor?: Executor): Promise<IssuedFlow>;
  /** Reads a flow by its link token without advancing it (to render a page). */
  peek(token: string, kinds: readonly FlowKind[]): Promise<Flow>;
  /** Completes a flow by its link token; each token works once. */
  completeByToken(token: string, kinds: readonly FlowKind[], executor?: Executor): Promise<Flow>;
  /**
   * Completes a flow by id and code; wrong codes are counted. `belongs` must accept the
   * flow (e.g. it was started by this sign-in, or by this account) before anything happens.
   */
  completeByCode(id: string, code: string, kinds: readonly FlowKind[], belongs: (flow: Flow) => boolean, executor?: Executor): Promise<Flow>;
  /**
   * New secrets for a pending flow, or undefined while the cool-down runs. `belongs` must
   * accept the flow first: one sign-in cannot reset (and so void) another's code.
   */
  reissue(id: string, kinds: readonly FlowKind[], cooldownSeconds: number, belongs?: (flow: Flow) => boolean): Promise<IssuedFlow | undefined>;
  /** Counts a wrong answer to a flow (a code, or a password asked for instead); enough of them end it. */
  recordFailure(id: string): Promise<void>;
}

export function createFlowService(db: Kysely<Database>, codeKey: Buffer): FlowService {
  const codeHash = (flowId: string, code: string) => createHmac('sha256', codeKey).update(`${flowId}|${code}`).digest('base64url');
  const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

  const split = (token: string): [string, string] | undefined => {
    const [id, secret, ...rest] = token.split('.');
    return id && secret && rest.length === 0 && secret.length <= 128 ? [id, secret] : undefined;
  };

  const check = (row: FlowRow | undefined): FlowRow => {
    if (!row) throw flowFailure('invalid');
    if (row.state === 'completed') throw flowFailure('used');
    if (row.state !== 'pending') throw flowFailure('invalid');
    if (new Date(row.expires_at) <= new Date()) throw flowFailure('expired');
    return row;
  };

  const byToken = async (token: string, kinds: readonly FlowKind[], executor: Executor): Promise<FlowRow> => {
    const parts = split(token);
    const row = parts ? await findFlow(executor, parts[0], kinds) : undefined;
    // Compared in constant time even when no flow matched, so timing says nothing.
    const matches = constantTimeEqual(row?.secret_hash ?? '', hashToken(parts?.[1] ?? ''));
    if (!row || !matches) throw flowFailure('invalid');
    return check(row);
  };

  return {
    async create(input, executor = db) {
      const id = randomUUID();
      const secret = randomToken(32);
      const code = input.withCode ? newCode() : undefined;
      const expiresAt = new Date(Date.now() + input.ttlSeconds * 1000);
      const decoy = input.payload?.decoy === true;
      await insertFlow(executor, {
        id,
        kind: input.kind,
        accountId: input.accountId ?? null,
        email: input.email ?? null,
        // A decoy (payload.decoy, sent nowhere) answers exactly like a real flow but can
        // never complete: its stored hashes match no secret that was handed out.
        secretHash: hashToken(decoy ? randomToken(32) : secret),
        codeHash: code ? codeHash(id, decoy ? randomToken(8) : code) : null,
        payload: input.payload ?? {},
        expiresAt,
      });
      return { id, kind: input.kind, accountId: input.accountId ?? null, email: input.email ?? null, payload: input.payload ?? {}, expiresAt, token: `${id}.${secret}`, code };
    },

    async peek(token, kinds) {
      return toFlow(await byToken(token, kinds, db));
    },

    async completeByToken(token, kinds, executor = db) {
      const row = await byToken(token, kinds, executor);
      if (!(await completeFlow(executor, row.id))) throw flowFailure('used');
      return toFlow(row);
    },

    async completeByCode(id, code, kinds, belongs, executor = db) {
      const row = check(await findFlow(executor, id, kinds));
      if (!belongs(toFlow(row))) throw flowFailure('invalid');
      const matches = row.code_hash !== null && /^\d{6}$/.test(code) && constantTimeEqual(row.code_hash, codeHash(row.id, code));
      if (!matches) {
        await recordFailedAttempt(executor, row.id, MAX_CODE_ATTEMPTS);
        throw flowFailure('invalid');
      }
      if (!(await completeFlow(executor, row.id))) throw flowFailure('used');
      return toFlow(row);
    },

    async reissue(id, kinds, cooldownSeconds, belongs = () => true) {
      const row = check(await findFlow(db, id, kinds));
      if (!belongs(toFlow(row))) throw flowFailure('invalid');
      const secret = randomToken(32);
      const code = row.code_hash !== null ? newCode() : undefined;
      const decoy = row.payload.decoy === true;
      const updated = await reissueFlowSecrets(
        db,
        row.id,
        decoy ? hashToken(randomToken(32)) : hashToken(secret),
        code ? codeHash(row.id, decoy ? randomToken(8) : code) : null,
        cooldownSeconds,
      );
      if (!updated) return undefined;
      return { ...toFlow(row), token: `${row.id}.${secret}`, code };
    },

    async recordFailure(id) {
      await recordFailedAttempt(db, id, MAX_CODE_ATTEMPTS);
    },
  };
}
